"""guildbot: find who in the company already built it, and where it is written down.

`from guildbot import Guild` works as ever; the names load when first used, so a command-line
process can start loading the question model before the facade's imports (guildbot/cli/warm.py).
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from guildbot.config.loader import Config, ConfigError, load_config
    from guildbot.guild import CrawlReport, Guild

__all__ = ["Config", "ConfigError", "CrawlReport", "Guild", "load_config"]
__version__ = "0.1.0"
_HOMES = {"Config": "guildbot.config.loader", "ConfigError": "guildbot.config.loader",
          "load_config": "guildbot.config.loader", "CrawlReport": "guildbot.guild", "Guild": "guildbot.guild"}


def __getattr__(name: str) -> Any:
    if name not in _HOMES:
        raise AttributeError(f"module 'guildbot' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(_HOMES[name]), name)
