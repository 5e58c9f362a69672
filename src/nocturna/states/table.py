"""The state table: which states exist, what guards them, which transitions are allowed.

The built-in table is ``table.yaml`` beside this module; a site may point
``observatory.state_table`` at its own file. :func:`load_state_table` checks it
whole and raises :class:`ConfigError` listing every problem (unknown keys, a handler
module that does not exist, a transition to an undeclared state, a state nothing can
leave, an ``on_unsafe`` state that is not safe itself …).
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nocturna.core.errors import ConfigError
from nocturna.core.yamlfile import read_yaml

BUILT_IN = Path(__file__).with_name("table.yaml")
CHECKS = ("weather", "sun", "dome", "components", "disk")
SUN_LIMITS = ("flat", "focus", "observe")
DOME_POSITIONS = ("open", "closed")
_STATE_KEYS = {"handler", "checks", "sun", "dome", "components", "description"}


@dataclass(frozen=True)
class StateSpec:
    """One state: its handler module and what must hold to be in it."""

    name: str
    handler: str
    checks: tuple[str, ...] = ()
    sun: str | None = None
    dome: str | None = None
    components: tuple[str, ...] | None = None  # None: every component

    @property
    def is_safe_state(self) -> bool:
        """A state with no checks is where the unit may always go."""
        return not self.checks

    def on_enter(self) -> Any:
        return importlib.import_module(f"nocturna.states.{self.handler}").on_enter


@dataclass(frozen=True)
class StateTable:
    initial: str
    on_unsafe: str
    states: dict[str, StateSpec]
    transitions: dict[str, tuple[str, ...]] = field(default_factory=dict)
    source: str = "built-in"

    def allowed(self, source: str, target: str) -> bool:
        return target in self.transitions.get(source, ())

    def __getitem__(self, name: str) -> StateSpec:
        return self.states[name]


def load_state_table(path: str | Path | None = None) -> StateTable:
    """The table in ``path`` (YAML), or the built-in one."""
    file = Path(path) if path is not None else BUILT_IN
    label = "built-in state table" if path is None else f"state table {str(file)!r}"
    return state_table_from_data(read_yaml(file, "state table"), source=label)


def state_table_from_data(data: Any, *, source: str = "state table") -> StateTable:
    """Validate parsed table data; every problem is reported at once."""
    problems: list[str] = []
    if not isinstance(data, Mapping):
        raise ConfigError(f"{source}: expected a mapping with 'states' and 'transitions', "
                          f"got {type(data).__name__}")
    unknown = set(data) - {"initial", "on_unsafe", "states", "transitions"}
    if unknown:
        problems.append(f"unknown keys {', '.join(sorted(map(str, unknown)))} (expected "
                        "initial, on_unsafe, states, transitions)")
    raw_states = data.get("states")
    states: dict[str, StateSpec] = {}
    if not isinstance(raw_states, Mapping) or not raw_states:
        problems.append("states: expected a mapping of state names to their settings")
        raw_states = {}
    for name, entry in raw_states.items():
        spec = _state(str(name), entry, problems)
        if spec is not None:
            states[spec.name] = spec
    transitions = _transitions(data.get("transitions"), raw_states, problems)
    initial = data.get("initial")
    if initial not in raw_states:
        problems.append(f"initial: {initial!r} is not a declared state")
    on_unsafe = data.get("on_unsafe")
    if on_unsafe not in raw_states:
        problems.append(f"on_unsafe: {on_unsafe!r} is not a declared state")
    elif on_unsafe in states and not states[on_unsafe].is_safe_state:
        problems.append(f"on_unsafe: {on_unsafe!r} has safety checks; the state the unit "
                        "goes to when unsafe must have none")
    else:
        for name, spec in states.items():
            if spec.checks and on_unsafe not in transitions.get(name, ()):
                problems.append(f"transitions.{name}: a state with safety checks must be able "
                                f"to go to {on_unsafe!r} (on_unsafe)")
    if problems:
        raise ConfigError([f"{source}: {p}" for p in problems])
    return StateTable(str(initial), str(on_unsafe), states, transitions, source)


def _state(name: str, entry: Any, problems: list[str]) -> StateSpec | None:
    where = f"states.{name}"
    if not isinstance(entry, Mapping):
        problems.append(f"{where}: expected a mapping with at least 'handler'")
        return None
    unknown = set(entry) - _STATE_KEYS
    if unknown:
        problems.append(f"{where}: unknown keys {', '.join(sorted(map(str, unknown)))} "
                        f"(expected {', '.join(sorted(_STATE_KEYS))})")
    handler = entry.get("handler")
    if not isinstance(handler, str) or not handler.isidentifier():
        problems.append(f"{where}.handler: expected a module name in nocturna.states, "
                        f"got {handler!r}")
        return None
    try:
        module = importlib.import_module(f"nocturna.states.{handler}")
    except ImportError as exc:
        problems.append(f"{where}.handler: no module nocturna.states.{handler} ({exc})")
        return None
    if not callable(getattr(module, "on_enter", None)):
        problems.append(f"{where}.handler: nocturna.states.{handler} has no on_enter(unit)")
    checks = entry.get("checks", [])
    if not isinstance(checks, list) or any(c not in CHECKS for c in checks):
        problems.append(f"{where}.checks: expected a list of {', '.join(CHECKS)}; got {checks!r}")
        checks = []
    sun, dome = entry.get("sun"), entry.get("dome")
    if "sun" in checks and sun not in SUN_LIMITS:
        problems.append(f"{where}.sun: the sun check needs one of {', '.join(SUN_LIMITS)}, "
                        f"got {sun!r}")
    if "dome" in checks and dome not in DOME_POSITIONS:
        problems.append(f"{where}.dome: the dome check needs one of "
                        f"{', '.join(DOME_POSITIONS)}, got {dome!r}")
    components = entry.get("components")
    if components is not None and (not isinstance(components, list)
                                   or not all(isinstance(c, str) for c in components)):
        problems.append(f"{where}.components: expected a list of component names")
        components = None
    return StateSpec(name, handler, tuple(checks), sun, dome,
                     None if components is None else tuple(components))


def _transitions(raw: Any, states: Mapping[str, Any],
                 problems: list[str]) -> dict[str, tuple[str, ...]]:
    if not isinstance(raw, Mapping):
        problems.append("transitions: expected a mapping of state → list of next states")
        return {}
    result: dict[str, tuple[str, ...]] = {}
    for source, targets in raw.items():
        where = f"transitions.{source}"
        if source not in states:
            problems.append(f"{where}: {source!r} is not a declared state")
            continue
        if not isinstance(targets, list) or not targets:
            problems.append(f"{where}: expected a non-empty list of states")
            continue
        bad = [t for t in targets if t not in states]
        if bad:
            problems.append(f"{where}: {', '.join(map(repr, bad))} "
                            f"{'is' if len(bad) == 1 else 'are'} not declared states")
        result[str(source)] = tuple(str(t) for t in targets if t in states)
    for name in states:
        if name not in result and name not in {s for s in raw if s in states}:
            problems.append(f"transitions: state {name!r} has no transitions (it could never "
                            "be left)")
    return result
