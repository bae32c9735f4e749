"""Connectors: one module per source kind, each turning a source into Documents.

A connector never imports the index or the application.
"""
from __future__ import annotations

import importlib

from connectors.base import Checkpoint, Connector, Contributor, Deleted, Document, Field, SourceContext, SourceError, Unchanged, is_bot

# kind -> "module:Class"; a module is imported only when a source of its kind is configured
KINDS = {
    "git": "connectors.git:GitConnector",
    "files": "connectors.files:FilesConnector",
    "mediawiki": "connectors.mediawiki:MediaWikiConnector",
    "confluence": "connectors.confluence:ConfluenceConnector",
    "web": "connectors.web:WebConnector",
    "github": "connectors.forge.github:GitHubConnector",
    "gitlab": "connectors.forge.gitlab:GitLabConnector",
}


def connector_class(kind: str) -> type:
    """The connector class for a source kind. Raises KeyError for an unknown kind."""
    module, _, cls = KINDS[kind].partition(":")
    return getattr(importlib.import_module(module), cls)


def available_kinds() -> list[str]:
    out = []
    for kind in KINDS:
        try:
            connector_class(kind)
        except (ImportError, AttributeError):
            continue
        out.append(kind)
    return out


__all__ = ["Checkpoint", "Connector", "Contributor", "Deleted", "Document", "Field", "SourceContext",
           "SourceError", "Unchanged", "is_bot", "connector_class", "available_kinds", "KINDS"]
