"""The in-process configuration: layered, validated, with get / set / reset.

Reads are plain dictionary look-ups on an already validated tree, no I/O. A set
validates the new value before it takes effect, so an invalid value never becomes
visible: only the model holding the key is validated again (with every enclosing
model whose validators could see the change, see :mod:`.scope`), and only that part
of the parsed tree is rebuilt. With ``save=True`` the value is also written to the
local override file.
"""

from __future__ import annotations

import copy
import os
import threading
from collections.abc import Mapping
from pathlib import Path as FilePath
from typing import Any

from pydantic import ValidationError

from nocturna.core.config.keys import (
    Path,
    deep_merge,
    delete_path,
    format_key,
    get_path,
    parse_key,
    replace_path,
)
from nocturna.core.config.layers import (
    Layer,
    apply_settings,
    defaults_layer,
    env_layer,
    env_site_file,
    file_layer,
    local_path_for,
    settings_layer,
)
from nocturna.core.config.local_file import remove_values, save_values, stored_key
from nocturna.core.config.local_only import local_only_at
from nocturna.core.config.models import NocturnaConfig, validate_tree
from nocturna.core.config.scope import splice, validation_scope
from nocturna.core.errors import ConfigError, ConfigKeyError, InvalidValueError
from nocturna.core.redact import mask_password
from nocturna.core.serialize import to_yaml_plain
from nocturna.core.units import parse_tree

_MISSING = object()
LOCAL_FILE_NAME = "nocturna_local.yaml"
SHOWN_VALUE_CHARS = 120  # longer values are cut in error messages


def shortened(text: str, limit: int = SHOWN_VALUE_CHARS) -> str:
    """``text`` cut to ``limit`` characters, saying how long it was."""
    if len(text) <= limit:
        return text
    return f"{text[: limit - 1]}… ({len(text):,} characters)"


class Config:
    """A validated configuration tree built from layers. Thread-safe."""

    def __init__(
        self,
        defaults: Layer,
        site: Layer | None,
        local: Layer | None,
        local_path: FilePath | None,
        late: list[Layer],
    ) -> None:
        self._defaults = defaults
        self._site = site
        self._local = local or Layer("local overrides")
        self.local_path = local_path
        self._late = late
        self._runtime: dict[Path, Any] = {}
        self._lock = threading.RLock()
        self.version = 0  # counts changes of the values (answers cached elsewhere use it)
        self._layered = self._merge_layers()
        self._tree = self._layered  # the layered tree with the run-time values on top
        self.model, self._values = self._build(self._runtime)

    # ----------------------------------------------------------------- loading
    @classmethod
    def load(
        cls,
        site_file: str | os.PathLike[str] | None = None,
        *,
        load_local: bool = True,
        environ: Mapping[str, str] | None = None,
        overrides: Mapping[str, Any] | None = None,
    ) -> Config:
        """Load defaults → site file → local overrides → environment → ``overrides``.

        ``site_file`` defaults to ``$NOCTURNA_CONFIG``. Without a site file the local
        override file is ``<data_dir>/nocturna_local.yaml``. ``environ`` defaults to
        ``os.environ`` (pass ``{}`` to ignore the environment).
        """
        environ = os.environ if environ is None else environ
        defaults = defaults_layer()
        site_path = site_file if site_file is not None else env_site_file(environ)
        site = file_layer(FilePath(site_path).expanduser()) if site_path else None
        sections = set(defaults.tree)
        late = [env_layer(environ, sections), settings_layer("command line", overrides or {})]
        if site_path:
            local_path = local_path_for(FilePath(site_path).expanduser())
        else:
            below = deep_merge(defaults.tree, {})
            for layer in late:
                apply_settings(below, layer)
            local_path = FilePath(str(below.get("data_dir") or ".")).expanduser() / LOCAL_FILE_NAME
        local = None
        if load_local and local_path.exists():
            local = file_layer(local_path, f"{local_path} (local overrides)")
        return cls(defaults, site, local, local_path if load_local else None, late)

    def _merge_layers(self) -> dict[str, Any]:
        """Every layer below the run-time values, merged (recomputed when a file changes)."""
        tree = copy.deepcopy(self._defaults.tree)
        for layer in (self._site, self._local):
            if layer is not None:
                tree = deep_merge(tree, copy.deepcopy(layer.tree))
        for layer in self._late:
            apply_settings(tree, layer)
        return tree

    def _merged(self, runtime: Mapping[Path, Any]) -> dict[str, Any]:
        """The layered tree with the run-time values on top (copy-on-write, no deep copy)."""
        tree = self._layered
        for path, value in runtime.items():
            try:
                tree = replace_path(tree, path, value)
            except (ConfigKeyError, InvalidValueError) as exc:
                raise ConfigError(f"{format_key(path)} (a value set at run time): {exc}") from None
        return tree

    def _build(self, runtime: Mapping[Path, Any]) -> tuple[NocturnaConfig, dict[str, Any]]:
        """Validate the whole tree with ``runtime`` on top (the tree becomes current)."""
        tree = self._merged(runtime)
        try:
            model = validate_tree(tree)
        except ValidationError as exc:
            raise ConfigError(self._problems(exc, runtime)) from None
        values = parse_tree(model.model_dump(mode="python"))
        self._tree = tree
        return model, values

    def _build_change(
        self, path: Path, value: Any, runtime: Mapping[Path, Any]
    ) -> tuple[NocturnaConfig, dict[str, Any], dict[str, Any]]:
        """Model, parsed values and tree with ``value`` at ``path``; only its scope is
        validated. Nothing changes here: the caller installs the result."""
        try:
            tree = replace_path(self._tree, path, value)
        except (ConfigKeyError, InvalidValueError) as exc:
            raise ConfigError(f"{format_key(path)} (a value set at run time): {exc}") from None
        scope, model_class = validation_scope(NocturnaConfig, path)
        try:
            part = model_class.model_validate(get_path(tree, scope))
        except ValidationError as exc:
            raise ConfigError(self._problems(exc, runtime, scope)) from None
        model = splice(self.model, scope, part)
        parsed = parse_tree(part.model_dump(mode="python"))
        values = replace_path(self._values, scope, parsed) if scope else parsed
        return model, values, tree

    # ------------------------------------------------------------------ errors
    def _layers_top_down(self, runtime: Mapping[Path, Any]) -> list[Layer]:
        layers = [Layer("a value set at run time", settings=list(runtime.items()))]
        layers += list(reversed(self._late))
        layers += [layer for layer in (self._local, self._site) if layer is not None]
        return [*layers, self._defaults]

    def _source(self, path: Path, runtime: Mapping[Path, Any]) -> str:
        for layer in self._layers_top_down(runtime):
            if layer.defines(path):
                return layer.label
        return "nowhere"

    def _problems(
        self, exc: ValidationError, runtime: Mapping[Path, Any], scope: Path = ()
    ) -> list[str]:
        problems = []
        for error in exc.errors(include_url=False):
            path: Path = scope + tuple(p for p in error["loc"] if isinstance(p, int | str))
            key = format_key(path)
            kind = error["type"]
            if kind == "extra_forbidden":
                try:
                    known = sorted(get_path(self._defaults.tree, path[:-1]))
                except (ConfigKeyError, TypeError):
                    known = []
                hint = f" (known keys here: {', '.join(known)})" if known else ""
                problems.append(f"{key}: unknown key, from {self._source(path, runtime)}{hint}")
                continue
            if kind == "missing":
                problems.append(f"{key}: missing, a value is required")
                continue
            message = str(error["msg"]).removeprefix("Value error, ")
            message = message.replace("Input should be", "expected")
            value = shortened(mask_password(repr(error.get("input"))))
            problems.append(f"{key} = {value} (from {self._source(path, runtime)}): {message}")
        return problems

    # ------------------------------------------------------------------ access
    def get(self, key: str | Path = "", default: Any = _MISSING) -> Any:
        """The value at a dotted key (``"site.horizon.default"``, ``"cameras[0].name"``).

        Quantities come back as astropy Quantities. A missing key returns ``default``
        if given, else raises :class:`ConfigKeyError`.
        """
        try:
            value = get_path(self._values, parse_key(key))
        except ConfigKeyError:
            if default is _MISSING:
                raise
            return default
        return copy.deepcopy(value) if isinstance(value, dict | list) else value

    def peek(self, key: str | Path = "") -> Any:
        """Like :meth:`get` but returns the internal object: do not modify it."""
        return get_path(self._values, parse_key(key))

    def as_dict(self) -> dict[str, Any]:
        return copy.deepcopy(self._values)

    def set(self, key: str | Path, value: Any, *, save: bool = False) -> Any:
        """Set ``key`` to ``value`` (validated first); returns the new parsed value.

        With ``save=True`` the value is also written to the local override file.
        """
        path = parse_key(key)
        if not path:
            raise ConfigError("cannot replace the whole configuration; name a key")
        plain = to_yaml_plain(value)
        with self._lock:
            runtime = {p: v for p, v in self._runtime.items() if p[: len(path)] != path}
            runtime[path] = plain
            self.model, self._values, self._tree = self._build_change(path, plain, runtime)
            self._runtime = runtime
            self.version += 1
            if save:
                self.persist([path])
            return self.get(path)

    def persist(self, keys: list[str | Path]) -> FilePath:
        """Write the current value of each key to the local override file."""
        if self.local_path is None:
            raise ConfigError("local override files are disabled (load_local=False)")
        with self._lock:
            values: dict[Path, Any] = {}
            merged = self._merged(self._runtime)
            for key in keys:
                stored = stored_key(parse_key(key))
                values[stored] = to_yaml_plain(get_path(merged, stored))
            save_values(self.local_path, values)
            for stored, value in values.items():
                tree = self._local.tree
                for part in stored[:-1]:
                    tree = tree.setdefault(part, {})
                tree[stored[-1]] = copy.deepcopy(value)
            if not self._local.label.endswith("(local overrides)"):
                self._local.label = f"{self.local_path} (local overrides)"
            self._layered = self._merge_layers()
            self._tree = self._merged(self._runtime)
            return self.local_path

    def reset(self, key: str | Path = "", *, forget_saved: bool = False,
              keep_local_only: bool = False) -> bool:
        """Undo values set at run time (all, or at/under ``key``).

        With ``forget_saved=True`` the key is also removed from the local override file,
        so the site file or built-in default applies again; returns whether the file
        held it. ``keep_local_only`` keeps run-time values of local-only keys (a reset
        that came over the network must not change them).
        """
        path = parse_key(key)
        if forget_saved and not path:
            raise ConfigError("name the key whose saved value should be forgotten")
        with self._lock:
            runtime = {p: v for p, v in self._runtime.items()
                       if p[: len(path)] != path or (keep_local_only and local_only_at(p))}
            if not forget_saved:
                self.model, self._values = self._build(runtime)
                self._runtime = runtime
                self.version += 1
                return False
            stored = stored_key(path)
            previous = self._local.tree, self._layered, self._tree
            self._local.tree = copy.deepcopy(self._local.tree)
            held = delete_path(self._local.tree, stored)
            self._layered = self._merge_layers()
            try:  # validate before the file changes, so a refused reset changes nothing
                self.model, self._values = self._build(runtime)
            except ConfigError:
                self._local.tree, self._layered, self._tree = previous
                raise
            self._runtime = runtime
            self.version += 1
            if self.local_path is not None:
                held = remove_values(self.local_path, [stored]) or held
            return held

    @property
    def data_dir(self) -> FilePath:
        return FilePath(self.model.data_dir).expanduser()

    def source_of(self, key: str) -> str:
        """Which layer the current value of ``key`` comes from."""
        return self._source(parse_key(key), self._runtime)
