"""Read-only lists for the catalog browser that no other module answers: a project's documents."""
from __future__ import annotations

from index.catalog.build import ensure_schema
from index.storage import catalog as catalog_db
from index.storage.sqlite.store import Store


def project_documents(store: Store, project_id: str, limit: int = 50) -> list[catalog_db.ProjectDocumentRow]:
    """The project's documents, most recently updated first: {"id", "title", "url", "path", "kind", "updated_at"}."""
    ensure_schema(store)
    return catalog_db.project_documents(store, project_id, limit)
