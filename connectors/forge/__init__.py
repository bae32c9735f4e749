"""Forges (GitHub, GitLab): an organisation's repositories listed through the forge's API and
crawled as git sources; `common` holds what the two share."""
