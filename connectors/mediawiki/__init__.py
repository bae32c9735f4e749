"""The MediaWiki source kind: a wiki's pages read through its action API, wikitext made plain text."""
from __future__ import annotations

from connectors.mediawiki.connector import MediaWikiConnector, wikitext_to_text

__all__ = ["MediaWikiConnector", "wikitext_to_text"]
