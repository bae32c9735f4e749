"""The web app's routers: pages, the JSON API, the digest archive, syncs."""
