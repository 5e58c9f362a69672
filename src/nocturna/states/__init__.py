"""The night's state machine: states, their table, the safety supervisor.

One module per state (``sleeping.py``, ``scheduling.py``, …), each with
``async def on_enter(unit) -> str | tuple[str, str]`` returning the next state (and
why); ``table.yaml`` says which transitions exist and which safety checks guard
each state; :class:`StateMachine` runs them.
"""

from nocturna.states.machine import StateMachine
from nocturna.states.safety import SafetyReport, SafetySupervisor
from nocturna.states.table import StateSpec, StateTable, load_state_table

__all__ = ["SafetyReport", "SafetySupervisor", "StateMachine", "StateSpec", "StateTable",
           "load_state_table"]
