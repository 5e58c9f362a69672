"""Send a file to an image server with azcam's own, unmodified SendImage code.

Runs under the Python of the real azcam package (tests/azcam/azcam_env.py), not nocturna's:

    python sendimage_client.py HOST PORT LOCALFILE REMOTEFILE MODE

MODE is ``azcam`` (SendImage.azcam_imageserver: reads the 16-byte status),
``dataserver`` (SendImage.dataserver: no status), ``azcam-overwrite`` (azcam_imageserver
with the overwrite flag set, so the name goes out with a leading ``!``) or ``exposure``
(azcam's Exposure tool: exposure.sendimage.send_image(), with the image attributes it
reads set on the tool). Prints ``sent`` and exits 0, or prints the error and exits 1.
"""

import sys

import azcam.exceptions
from azcam.tools.exposure_sendimage import SendImage

import azcam


def main() -> int:
    host, port, localfile, remotefile, mode = sys.argv[1:6]
    azcam.log = lambda *args, **kwargs: None  # azcam's default log is print()
    if mode == "exposure":
        from azcam.tools.exposure import Exposure

        exposure = Exposure()
        # send_image() adds ".fits" (filetype 0) to the stem
        exposure.temp_image_file = localfile.rsplit(".", 1)[0]
        exposure.filetype = 0
        exposure.size_x, exposure.size_y = 64, 32  # set by the ROI set-up of a real server
        exposure.overwrite = 1
        exposure.sendimage.set_remote_imageserver(host, int(port), "azcam", remotefile)
        sender = exposure.sendimage
        call = sender.send_image
        args = ()
    else:
        sender = SendImage()
        kind = "dataserver" if mode == "dataserver" else "azcam"
        sender.set_remote_imageserver(host, int(port), kind)
        if mode == "azcam-overwrite":
            sender.overwrite = 1
        call = sender.dataserver if kind == "dataserver" else sender.azcam_imageserver
        args = (localfile, remotefile)
    try:
        call(*args)
    except (azcam.exceptions.AzcamError, OSError, ValueError) as exc:
        print(f"failed: {type(exc).__name__}: {exc}")
        return 1
    print("sent")
    return 0


if __name__ == "__main__":
    sys.exit(main())
