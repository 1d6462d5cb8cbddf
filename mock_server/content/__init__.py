"""The synthetic extracted content: sheets, regions, specifications, docs, evidence, artifacts.

Pure (no aiohttp): the HTTP layer reads it through these names.

- `ContentStore(seed, packs)`: the server's content, generated lazily and kept.
  `store.job(engine, job) -> JobContent` (a finished job's documents; `.artifacts` resolves the
  paths its result handed out), `store.project(engine, project) -> ProjectContent`.
- `build_result(engine, job, job_content, result_url=, artifact_url_prefix=)`: the v1 result.
- `ProjectContent`: `list(kind)`, `get(kind, id)`, `regions_of(sheet_id)`, `sections_of(spec_id)`,
  `section(spec_id, section_id)`, `select(kind, EntityQuery, items=)`, `matches(...)`,
  `encode(entity, url_prefix)` / `encode_list(...)` (cached JSON bytes), `summary()`,
  `.artifacts`.
- `EntityQuery.from_params(params)`: the documented filters (`InvalidQuery` on a bad value).
- `ArtifactIndex.resolve(path) -> ArtifactBytes(body, content_type, filename)` or
  `UnknownArtifactPath`.
- `load_content_packs(paths) -> ContentPacks` (`ContentPackError` names the file and field).
"""

from __future__ import annotations

from .artifacts import ArtifactBytes, ArtifactIndex, extracted
from .entities import (
    Artifact,
    ArtifactType,
    Box,
    Doc,
    Entity,
    EntityKind,
    Evidence,
    Facet,
    FileEntity,
    FileRef,
    PageError,
    Region,
    ResultWarning,
    Sheet,
    Specification,
    SpecSection,
)
from .errors import ContentError, ContentPackError, InvalidQuery, UnknownArtifactPath
from .facts import DocumentFacts, facts_from_job
from .generate import DocumentContent, generate_document, page_roles
from .packs import ContentPack, ContentPacks, load_content_pack, load_content_packs
from .project import ProjectContent
from .query import EntityQuery
from .result import build_result
from .store import RESULT_STATUSES, ContentStore, JobContent

__all__ = [
    "RESULT_STATUSES",
    "Artifact",
    "ArtifactBytes",
    "ArtifactIndex",
    "ArtifactType",
    "Box",
    "ContentError",
    "ContentPack",
    "ContentPackError",
    "ContentPacks",
    "ContentStore",
    "Doc",
    "DocumentContent",
    "DocumentFacts",
    "Entity",
    "EntityKind",
    "EntityQuery",
    "Evidence",
    "Facet",
    "FileEntity",
    "FileRef",
    "InvalidQuery",
    "JobContent",
    "PageError",
    "ProjectContent",
    "Region",
    "ResultWarning",
    "Sheet",
    "SpecSection",
    "Specification",
    "UnknownArtifactPath",
    "build_result",
    "extracted",
    "facts_from_job",
    "generate_document",
    "load_content_pack",
    "load_content_packs",
    "page_roles",
]
