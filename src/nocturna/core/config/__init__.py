"""Layered, validated configuration (see :class:`Config`)."""

from nocturna.core.config.config import Config
from nocturna.core.config.keys import format_key, parse_key
from nocturna.core.config.layers import local_path_for
from nocturna.core.config.models import NocturnaConfig

__all__ = ["Config", "NocturnaConfig", "format_key", "local_path_for", "parse_key"]
