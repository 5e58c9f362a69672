"""Dotted configuration keys with list indices: ``cameras[1].model``, ``a.b[0][2]``.

A key is parsed into a path: a tuple of ``str`` (mapping keys) and ``int`` (list
indices). Helpers read, write and delete a path inside nested dicts and lists.
"""

from __future__ import annotations

import re
from copy import copy
from functools import lru_cache
from typing import Any

from nocturna.core.errors import ConfigKeyError, InvalidValueError

Path = tuple[str | int, ...]

_SEGMENT = re.compile(r"([^.\[\]]+)|\[(-?\d+)\]|(\.)")
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_\-]*$")


def parse_key(key: str | Path) -> Path:
    """``"cameras[1].model"`` → ``("cameras", 1, "model")``. An empty key is the root."""
    if isinstance(key, tuple):
        return key
    if not isinstance(key, str):
        raise InvalidValueError(f"configuration key must be text, got {key!r}")
    return _parse_text(key)


@lru_cache(maxsize=4096)  # a process uses few keys, each many times
def _parse_text(key: str) -> Path:
    key = key.strip()
    if key == "":
        return ()
    path: list[str | int] = []
    position = 0
    expect_name = True
    for match in _SEGMENT.finditer(key):
        if match.start() != position:
            break
        position = match.end()
        name, index, dot = match.groups()
        if dot:
            if expect_name:
                break
            expect_name = True
        elif index is not None:
            if expect_name and path:
                break
            if not path:
                break
            path.append(int(index))
            expect_name = False
        else:
            if not expect_name or not _NAME.match(name):
                break
            path.append(name)
            expect_name = False
    else:
        if position == len(key) and not expect_name:
            return tuple(path)
    raise InvalidValueError(
        f"configuration key {key!r} is malformed: use names separated by dots, with list "
        "indices in brackets, e.g. 'site.horizon.obstructions[0]'"
    )


def format_key(path: Path) -> str:
    """``("cameras", 1, "model")`` → ``"cameras[1].model"``."""
    text = ""
    for part in path:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
    return text


def get_path(tree: Any, path: Path) -> Any:
    """The value at ``path``; raises ConfigKeyError naming the first missing part."""
    node = tree
    for depth, part in enumerate(path):
        try:
            if isinstance(part, int):
                if not isinstance(node, list):
                    raise TypeError
                node = node[part]
            else:
                if not isinstance(node, dict):
                    raise TypeError
                node = node[part]
        except (KeyError, IndexError, TypeError):
            raise ConfigKeyError(_missing_message(path, depth, node)) from None
    return node


def _missing_message(path: Path, depth: int, node: Any) -> str:
    where = format_key(path[: depth + 1])
    if isinstance(node, dict):
        known = ", ".join(map(str, node)) or "none"
        return f"no configuration key {where!r} (keys here: {known})"
    if isinstance(node, list):
        return f"no configuration key {where!r} (the list has {len(node)} items)"
    return f"no configuration key {where!r} ({format_key(path[:depth]) or 'root'} is a value)"


def set_path(tree: Any, path: Path, value: Any) -> None:
    """Set ``value`` at ``path``, creating missing mappings on the way.

    A list index may address an existing item or append (index == len(list)).
    """
    if not path:
        raise InvalidValueError("cannot set the whole configuration at once; name a key")
    node = tree
    for depth, part in enumerate(path[:-1]):
        nxt_is_index = isinstance(path[depth + 1], int)
        if isinstance(part, int):
            if not isinstance(node, list) or not -len(node) <= part < len(node):
                raise ConfigKeyError(_missing_message(path, depth, node))
            node = node[part]
            continue
        if not isinstance(node, dict):
            raise ConfigKeyError(_missing_message(path, depth, node))
        if part not in node or node[part] is None:
            node[part] = [] if nxt_is_index else {}
        node = node[part]
    last = path[-1]
    if isinstance(last, int):
        if not isinstance(node, list):
            raise ConfigKeyError(_missing_message(path, len(path) - 1, node))
        if last == len(node):
            node.append(value)
        elif -len(node) <= last < len(node):
            node[last] = value
        else:
            raise ConfigKeyError(_missing_message(path, len(path) - 1, node))
    else:
        if not isinstance(node, dict):
            raise ConfigKeyError(_missing_message(path, len(path) - 1, node))
        node[last] = value


def replace_path(tree: Any, path: Path, value: Any) -> Any:
    """A copy of ``tree`` with ``value`` at ``path``; ``tree`` itself is not modified.

    Only the containers along ``path`` are copied (the rest is shared), so this is
    cheap for large trees. Same rules as :func:`set_path`.
    """
    if not path:
        raise InvalidValueError("cannot set the whole configuration at once; name a key")
    root = copy(tree)
    node = root
    for depth, part in enumerate(path[:-1]):
        if isinstance(part, int):
            if not isinstance(node, list) or not -len(node) <= part < len(node):
                raise ConfigKeyError(_missing_message(path, depth, node))
            child = node[part]
        elif isinstance(node, dict):
            child = node.get(part)
            if child is None:  # created on the way, as set_path does
                child = [] if isinstance(path[depth + 1], int) else {}
        else:
            raise ConfigKeyError(_missing_message(path, depth, node))
        if isinstance(child, dict | list):
            child = copy(child)
        node[part] = child
        node = child
    set_path(node, path[-1:], value)
    return root


def delete_path(tree: Any, path: Path) -> bool:
    """Remove the value at ``path``; False if it was not there."""
    if not path:
        return False
    try:
        parent = get_path(tree, path[:-1])
        del parent[path[-1]]
    except (ConfigKeyError, KeyError, IndexError, TypeError):
        return False
    return True


def deep_merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Merge ``override`` into a copy of ``base``: mappings merge, everything else replaces."""
    merged = dict(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = deep_merge(merged[key], value)
        else:
            merged[key] = value
    return merged
