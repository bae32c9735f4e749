"""The MediaWiki source kind: a wiki's pages read through its action API, wikitext made plain text."""
from __future__ import annotations

from connectors.mediawiki.api import Api
from connectors.mediawiki.connector import MediaWikiConnector
from connectors.mediawiki.wikitext import DEFAULT_HIDDEN_NAMESPACES, wikitext_to_text

__all__ = ["Api", "DEFAULT_HIDDEN_NAMESPACES", "MediaWikiConnector", "wikitext_to_text"]
