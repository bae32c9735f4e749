"""Read-only lists for the catalog browser that no other module answers: a project's documents."""
from __future__ import annotations

from typing import Any

from index.catalog.build import ensure_schema
from index.storage.sqlite.store import Store


def project_documents(store: Store, project_id: str, limit: int = 50) -> list[dict[str, Any]]:
    """The project's documents, most recently updated first: {"id", "title", "url", "path", "kind", "updated_at"}."""
    ensure_schema(store)
    return store.query("""SELECT d.id, d.title, d.url, d.path, d.kind, d.updated_at FROM project_documents pd
                          JOIN documents d ON d.id = pd.doc_id WHERE pd.project_id = ?
                          ORDER BY d.updated_at IS NULL, d.updated_at DESC, d.title LIMIT ?""", [project_id, limit])
