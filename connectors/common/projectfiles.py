"""Repository-level project files: CODEOWNERS, Backstage catalog-info.yaml, package keywords.

Pure functions shared by the connectors that read repositories (git, GitHub, GitLab). A
connector reads the blobs named by `project_files(paths)` together with the README and puts
`project_metadata(texts)` into the README document's metadata, where the catalog finds it:

    codeowners, codeowners_path       the CODEOWNERS text as written (the catalog parses it)
    catalog_info, catalog_info_path   {name, description, tags, owner, lifecycle, system, links}
    keywords, keywords_path           package keywords from pyproject.toml or setup.cfg
"""
from __future__ import annotations

import configparser
import tomllib
from typing import Any, Iterable

# GitHub looks in .github/, then the root, then docs/ and uses the first it finds; GitLab adds .gitlab/.
CODEOWNERS_PATHS = (".github/CODEOWNERS", "CODEOWNERS", "docs/CODEOWNERS", ".gitlab/CODEOWNERS")
CATALOG_INFO_PATHS = ("catalog-info.yaml", "catalog-info.yml")
KEYWORD_PATHS = ("pyproject.toml", "setup.cfg")
PROJECT_FILES = CODEOWNERS_PATHS + CATALOG_INFO_PATHS + KEYWORD_PATHS
MAX_PROJECT_FILE_BYTES = 1_000_000


def project_files(paths: Iterable[str]) -> list[str]:
    """The project files present among `paths`, in lookup order."""
    present = set(paths)
    return [p for p in PROJECT_FILES if p in present]


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value.strip()] if value.strip() else []
    if isinstance(value, list):
        return [str(v).strip() for v in value if isinstance(v, (str, int, float)) and str(v).strip()]
    return []


def parse_catalog_info(text: str) -> dict[str, Any]:
    """The catalog fields of a Backstage catalog-info.yaml (the first Component, else the first entity).

    Returns {} for text that holds no entity, and {"error": ...} for YAML that does not parse.
    """
    import yaml

    try:
        entities = [e for e in yaml.safe_load_all(text) if isinstance(e, dict)]
    except yaml.YAMLError as e:
        return {"error": f"catalog-info.yaml is not valid YAML: {str(e).splitlines()[0]}"}
    if not entities:
        return {}
    entity = next((e for e in entities if str(e.get("kind", "")).casefold() == "component"), entities[0])
    meta = entity.get("metadata") if isinstance(entity.get("metadata"), dict) else {}
    spec = entity.get("spec") if isinstance(entity.get("spec"), dict) else {}
    links = []
    for link in meta.get("links") or []:
        if isinstance(link, dict) and isinstance(link.get("url"), str):
            links.append({"title": str(link.get("title") or link["url"]), "url": link["url"]})
    out = {"name": str(meta.get("name") or "").strip(), "description": str(meta.get("description") or "").strip(),
           "tags": _strings(meta.get("tags")), "owner": str(spec.get("owner") or "").strip(),
           "lifecycle": str(spec.get("lifecycle") or "").strip(), "system": str(spec.get("system") or "").strip(),
           "links": links}
    return {k: v for k, v in out.items() if v}


def parse_package_keywords(path: str, text: str) -> list[str]:
    """`keywords` of pyproject.toml ([project] or [tool.poetry]) or setup.cfg ([metadata])."""
    if path.endswith(".toml"):
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError:
            return []
        project = data.get("project") if isinstance(data.get("project"), dict) else {}
        poetry = (data.get("tool") or {}).get("poetry") if isinstance(data.get("tool"), dict) else {}
        return _strings(project.get("keywords")) or _strings((poetry or {}).get("keywords"))
    parser = configparser.ConfigParser(interpolation=None)
    try:
        parser.read_string(text)
    except configparser.Error:
        return []
    raw = parser.get("metadata", "keywords", fallback="")
    return [k.strip() for k in raw.replace("\n", ",").split(",") if k.strip()]


def project_metadata(texts: dict[str, str]) -> dict[str, Any]:
    """Metadata for the README document from the project files' texts (path -> text)."""
    meta: dict[str, Any] = {}
    for path in CODEOWNERS_PATHS:
        if path in texts:
            meta["codeowners"], meta["codeowners_path"] = texts[path], path
            break
    for path in CATALOG_INFO_PATHS:
        if path in texts:
            meta["catalog_info"], meta["catalog_info_path"] = parse_catalog_info(texts[path]), path
            break
    for path in KEYWORD_PATHS:
        keywords = parse_package_keywords(path, texts[path]) if path in texts else []
        if keywords:
            meta["keywords"], meta["keywords_path"] = keywords, path
            break
    return meta
