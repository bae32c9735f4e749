"""guildbot: find who in the company already built it, and where it is written down."""
from guildbot.config.loader import Config, ConfigError, load_config
from guildbot.guild import CrawlReport, Guild

__all__ = ["Config", "ConfigError", "CrawlReport", "Guild", "load_config"]
__version__ = "0.1.0"
