"""The scheduler's configuration section and where its fields come from."""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from nocturna.core.config.models import SchedulerConfig
    from nocturna.scheduler.fields import Field

DEMO_FIELDS = "demo_fields.yaml"


def default_config() -> SchedulerConfig:
    """The ``scheduler:`` section of the built-in defaults."""
    from nocturna.core.config.layers import defaults_layer
    from nocturna.core.config.models import SchedulerConfig

    return SchedulerConfig.model_validate(defaults_layer().tree["scheduler"])


def demo_fields_path() -> Path:
    """The built-in demo fields file shipped with the package."""
    return Path(str(resources.files("nocturna.scheduler").joinpath(DEMO_FIELDS)))


def configured_fields(config: SchedulerConfig | None = None) -> list[Field]:
    """The fields of ``scheduler.fields_file`` (relative to the current directory), or
    the built-in demo fields when it is null."""
    from nocturna.scheduler.loading import load_fields

    source = config.fields_file if config is not None else None
    return load_fields(Path(source) if source else demo_fields_path())
