"""Keep astropy offline.

An observatory computer often has no internet, and a night must never stall on a
download. astropy would otherwise try to fetch IERS Earth-orientation tables and
leap-second files, and refuse (raise) for dates past the age of its bundled table.

We configure astropy so that it uses the tables shipped in ``astropy-iers-data``,
never downloads, never declares them too old, and only warns (does not raise) when a
time lies beyond the predictions.

Importing astropy.utils.iers costs about a quarter of a second, so
``import nocturna`` does not import it. Instead it installs an import hook: the
settings are applied the moment astropy's IERS or data module is imported by anyone
in this process (and at once if it already was).
"""

from __future__ import annotations

import importlib.abc
import importlib.machinery
import sys
from types import ModuleType

_IERS_MODULE = "astropy.utils.iers.iers"
_DATA_MODULE = "astropy.utils.data"


def _configure_iers(module: ModuleType) -> None:
    conf = module.conf
    conf.auto_download = False
    conf.auto_max_age = None
    conf.iers_degraded_accuracy = "warn"


def _configure_data(module: ModuleType) -> None:
    module.conf.allow_internet = False


_CONFIGURERS = {_IERS_MODULE: _configure_iers, _DATA_MODULE: _configure_data}


class _ConfiguringLoader(importlib.abc.Loader):
    """Wraps astropy's own loader and applies our settings after the module runs."""

    def __init__(self, inner: importlib.abc.Loader, name: str) -> None:
        self._inner = inner
        self._name = name

    def create_module(self, spec: importlib.machinery.ModuleSpec) -> ModuleType | None:
        return self._inner.create_module(spec)

    def exec_module(self, module: ModuleType) -> None:
        self._inner.exec_module(module)
        _CONFIGURERS[self._name](module)


class _OfflineAstropyFinder(importlib.abc.MetaPathFinder):
    """Meta-path finder that only intercepts the two astropy modules we configure."""

    def find_spec(self, fullname, path, target=None):  # type: ignore[no-untyped-def]
        if fullname not in _CONFIGURERS:
            return None
        for finder in sys.meta_path:
            if finder is self:
                continue
            find = getattr(finder, "find_spec", None)
            spec = find(fullname, path, target) if find else None
            if spec is not None and spec.loader is not None:
                spec.loader = _ConfiguringLoader(spec.loader, fullname)
                return spec
        return None


def install_offline_astropy() -> None:
    """Make astropy offline for this process (idempotent, cheap)."""
    if not any(isinstance(f, _OfflineAstropyFinder) for f in sys.meta_path):
        sys.meta_path.insert(0, _OfflineAstropyFinder())
    for name, configure in _CONFIGURERS.items():
        module = sys.modules.get(name)
        if module is not None and hasattr(module, "conf"):
            configure(module)
