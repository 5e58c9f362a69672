"""The exposure tool's azcam parameters (``imageroot``, ``exposuretime``, ``colbin`` …)
for the ``parameters`` tool's ``get_par`` / ``set_par``."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from nocturna.azcam.filenames import PARAMETERS
from nocturna.azcam.tools.parameters import Parameter
from nocturna.azcam.values import flag, number

if TYPE_CHECKING:
    from nocturna.azcam.tools.exposure.tool import ExposureTool

def exposure_parameters(tool: ExposureTool) -> list[Parameter]:
    """azcam's exposure/image parameters of ``tool``."""
    names = tool.filenames

    def image_par(key: str) -> Parameter:
        return Parameter(key, lambda: names.get_par(key),
                         lambda value: names.set_par(key, value))

    def set_flag(attribute: str) -> Callable[[str], None]:
        return lambda value: setattr(tool, attribute, flag(value, attribute))

    return [
        *(image_par(key) for key in PARAMETERS),
        Parameter("imagetype", lambda: tool.image_type, tool.set_image_type),
        Parameter("imagetitle", lambda: tool.title, tool.set_image_title),
        Parameter("imagefiletype", lambda: int(tool.filetype), tool.set_filetype),
        Parameter("exposuretime", lambda: tool.exposure_time,
                  lambda value: tool.set_exposuretime(number(value, "exposuretime"))),
        Parameter("exposureflag", lambda: int(tool.flag)),
        Parameter("lastfilename", lambda: tool.last_filename),
        Parameter("displayimage", lambda: int(tool.display_image), set_flag("display_image")),
        Parameter("sendimage", lambda: int(tool.send_image), set_flag("send_image")),
        Parameter("imagesizex", lambda: tool.roi.ncols // tool.col_bin),
        Parameter("imagesizey", lambda: tool.roi.nrows // tool.row_bin),
        Parameter("colbin", lambda: tool.col_bin),
        Parameter("rowbin", lambda: tool.row_bin),
        Parameter("firstcol", lambda: tool.roi.first_col),
        Parameter("lastcol", lambda: tool.roi.last_col),
        Parameter("firstrow", lambda: tool.roi.first_row),
        Parameter("lastrow", lambda: tool.roi.last_row),
    ]
