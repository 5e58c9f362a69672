"""Components: every device (and the instrument) as a unit with a summary state, a
heartbeat and recovery from faults.

========  ====================================================================
OFFLINE   not under control (where every component starts)
STANDBY   under control, not connected to its hardware
DISABLED  connected, its state can be read, but commands that act are refused
ENABLED   fully commandable
FAULT     something failed; only ``standby`` (or recovery) leaves it
========  ====================================================================

:mod:`.states` has the states and their steps, :mod:`.component` the heartbeat and
transitions (:class:`Component`), :mod:`.recovery` the retry policy out of FAULT,
:mod:`.device` a device under control and :mod:`.group` several driven together.
"""

from nocturna.components.component import Component
from nocturna.components.device import DeviceComponent
from nocturna.components.group import ComponentGroup
from nocturna.components.recovery import RecoveryPolicy
from nocturna.components.states import (
    TRANSITIONS,
    ChangeCallback,
    ComponentStateError,
    LivelinessError,
    StateChange,
    SummaryState,
    is_device_failure,
    parse_state,
)

__all__ = [
    "TRANSITIONS",
    "ChangeCallback",
    "Component",
    "ComponentGroup",
    "ComponentStateError",
    "DeviceComponent",
    "LivelinessError",
    "RecoveryPolicy",
    "StateChange",
    "SummaryState",
    "is_device_failure",
    "parse_state",
]
