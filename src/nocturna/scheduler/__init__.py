"""Fields, observations, constraints and night planning.

``Scheduler.best(at)`` ranks the fields at an instant; ``Scheduler.plan(night)``
plans a whole night greedily. Everything is computed offline: the Sun, the Moon and
the Earth's rotation once per night with astropy/erfa, then numpy over all fields.
"""

from nocturna.scheduler.fields import Field
from nocturna.scheduler.horizon import Horizon
from nocturna.scheduler.loading import load_fields
from nocturna.scheduler.night import NightWindow
from nocturna.scheduler.observation import Observation, PlannedExposure
from nocturna.scheduler.planning import Block
from nocturna.scheduler.scheduler import Ranked, Scheduler
from nocturna.scheduler.settings import configured_fields, default_config, demo_fields_path

__all__ = [
    "Block",
    "Field",
    "Horizon",
    "NightWindow",
    "Observation",
    "PlannedExposure",
    "Ranked",
    "Scheduler",
    "configured_fields",
    "default_config",
    "demo_fields_path",
    "load_fields",
]
