"""Writing the local override file (``<site>_local.yaml``).

Values set at run time are saved here, never into the site file. The file is edited
as a round-trip YAML document, so comments and ordering someone wrote in it stay
intact; it is replaced atomically (temporary file, fsync, rename), so a crash leaves
either the old or the new file, never half of one.
"""

from __future__ import annotations

import io
from pathlib import Path as FilePath
from typing import Any

from nocturna.core.atomic import atomic_write_text
from nocturna.core.config.keys import Path
from nocturna.core.errors import ConfigError

HEADER = (
    "Local overrides written by nocturna. Values here take precedence over the site\n"
    "file beside this one. Edit freely: comments are kept when nocturna saves."
)


def stored_key(path: Path) -> Path:
    """The key a value is stored under: mappings down to the first list index.

    Lists are stored whole (``cameras[1].model`` is saved as all of ``cameras``), since
    a partial list cannot be merged over the layers below.
    """
    cut = next((i for i, part in enumerate(path) if isinstance(part, int)), len(path))
    return path[:cut]


def _round_trip():  # type: ignore[no-untyped-def]
    from ruamel.yaml import YAML

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    return yaml


def _load(path: FilePath):  # type: ignore[no-untyped-def]
    from ruamel.yaml import YAMLError
    from ruamel.yaml.comments import CommentedMap

    yaml = _round_trip()
    if path.exists():
        try:
            document = yaml.load(path.read_text(encoding="utf-8"))
        except YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML, not overwriting it ({exc})") from None
        if document is None:
            document = CommentedMap()
        if not isinstance(document, dict):
            raise ConfigError(f"{path}: expected a mapping at the top level, not overwriting it")
        return yaml, document
    document = CommentedMap()
    document.yaml_set_start_comment(HEADER)
    return yaml, document


def _dump(yaml: Any, document: Any) -> str:
    stream = io.StringIO()
    yaml.dump(document, stream)
    return stream.getvalue()


def save_values(path: FilePath, values: dict[Path, Any]) -> None:
    """Write each ``path → plain value`` (paths of mapping keys only) into the file."""
    from ruamel.yaml.comments import CommentedMap

    yaml, document = _load(path)
    for key_path, value in values.items():
        node = document
        for part in key_path[:-1]:
            child = node.get(part)
            if not isinstance(child, dict):
                child = CommentedMap()
                node[part] = child
            node = child
        node[key_path[-1]] = value
    atomic_write_text(path, _dump(yaml, document))


def remove_values(path: FilePath, paths: list[Path]) -> bool:
    """Remove keys from the file (pruning emptied mappings); False if none were there."""
    if not path.exists():
        return False
    yaml, document = _load(path)
    removed = False
    for key_path in paths:
        trail = [document]
        for part in key_path[:-1]:
            child = trail[-1].get(part)
            if not isinstance(child, dict):
                break
            trail.append(child)
        else:
            if key_path[-1] in trail[-1]:
                del trail[-1][key_path[-1]]
                removed = True
                parents = zip(reversed(trail[:-1]), reversed(key_path[:-1]), strict=False)
                for parent, part in parents:
                    if parent[part]:
                        break
                    del parent[part]
    if removed:
        atomic_write_text(path, _dump(yaml, document))
    return removed
