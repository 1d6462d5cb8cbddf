"""Every project's search state in one place: what the HTTP layer holds and calls.

indexes = SearchIndexes()
indexes.profile(ProjectProfile(project.id, project.name))      # on create / rename
indexes.write(project.id, sources, now=clock.now, delay=10.0)  # when a job writes entities
indexes.note_write(project.id, now=t, delay=10.0)               # or: note the write now ...
indexes.add(project.id, sources)                                # ... and index it later
indexes.search(project.id, "fire rating", now=clock.now)       # IndexNotReady -> 409
indexes.source_text(project.id, uri, text_kind="markdown", max_chars=2_000)
indexes.search_projects("riverside", project_ids=org_projects, now=clock.now)
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from .index import DEFAULT_MAX_HITS, SearchFilters, SearchResult, SourceIndex
from .projects import DEFAULT_HITS_PER_PROJECT, ProjectCatalog, ProjectProfile, ProjectSearch
from .readiness import DEFAULT_INDEX_DELAY, IndexReadiness
from .sources import SearchSource, TextKind
from .text import DEFAULT_MAX_CHARS, SourceText

__all__ = ["SearchIndexes"]


class SearchIndexes:
    """One `SourceIndex` and one `IndexReadiness` per project, and the project catalog."""

    def __init__(self) -> None:
        self._indexes: dict[str, SourceIndex] = {}
        self._readiness: dict[str, IndexReadiness] = {}
        self.catalog = ProjectCatalog()

    def index(self, project_id: str) -> SourceIndex:
        """The project's index (created empty on first use)."""
        index = self._indexes.get(project_id)
        if index is None:
            index = self._indexes[project_id] = SourceIndex()
        return index

    def readiness(self, project_id: str) -> IndexReadiness:
        return self._readiness.get(project_id, IndexReadiness())

    def profile(self, profile: ProjectProfile) -> None:
        """Set a project's own searchable fields (name, aliases, sheets)."""
        self.catalog.upsert(profile)

    def write(
        self,
        project_id: str,
        sources: Iterable[SearchSource],
        *,
        now: float,
        delay: float = DEFAULT_INDEX_DELAY,
    ) -> int:
        """Index a job's sources; source search answers IndexNotReady until `now + delay`."""
        readiness = self.readiness(project_id).after_write(now, delay)
        written = self.index(project_id).add(sources)
        self._readiness[project_id] = readiness
        return written

    def note_write(
        self, project_id: str, *, now: float, delay: float = DEFAULT_INDEX_DELAY
    ) -> None:
        """A job wrote to the project at `now`, and its sources come later (`add`, when a search
        first needs them): source search answers IndexNotReady until `now + delay`."""
        self._readiness[project_id] = self.readiness(project_id).after_write(now, delay)

    def add(self, project_id: str, sources: Iterable[SearchSource]) -> int:
        """Index sources whose write was noted already (`note_write`); readiness is unchanged."""
        return self.index(project_id).add(sources)

    def search(
        self,
        project_id: str,
        query: str,
        *,
        now: float,
        max_hits: int = DEFAULT_MAX_HITS,
        entity_types: Collection[str] | None = None,
        filters: SearchFilters | None = None,
    ) -> SearchResult:
        """Source search; raises IndexNotReady while the project's index is being built."""
        self.readiness(project_id).check(now)
        return self.index(project_id).search(
            query, max_hits=max_hits, entity_types=entity_types, filters=filters
        )

    def source_text(
        self,
        project_id: str,
        uri: str,
        *,
        text_kind: str = TextKind.TEXT,
        facet_id: str | None = None,
        max_chars: int = DEFAULT_MAX_CHARS,
        cursor: str | None = None,
    ) -> SourceText:
        """A page of a source's text; readable as soon as a job wrote it (no readiness)."""
        return self.index(project_id).source_text(
            uri, text_kind=text_kind, facet_id=facet_id, max_chars=max_chars, cursor=cursor
        )

    def search_projects(
        self,
        query: str,
        *,
        project_ids: Collection[str],
        now: float,
        entity_types: Iterable[str] | None = None,
        filters: SearchFilters | None = None,
        hits_per_project: int = DEFAULT_HITS_PER_PROJECT,
    ) -> ProjectSearch:
        """Projects among `project_ids` (the caller's organisation, narrowed by the request's
        `projectIds`) matching `query`; indexes still being built are skipped, with a warning."""
        scope = set(project_ids)
        ready: dict[str, SourceIndex] = {}
        building: list[str] = []
        for pid in sorted(scope):
            index = self._indexes.get(pid)
            if index is None or not len(index):
                continue
            if self.readiness(pid).is_ready(now):
                ready[pid] = index
            else:
                building.append(pid)
        warnings = [
            f"the search index of project {pid} is being built; its sources are not searched "
            f"yet (retry in {self.readiness(pid).retry_after(now)} s)"
            for pid in building
        ]
        return self.catalog.search(
            query,
            indexes=ready,
            project_ids=scope,
            entity_types=entity_types,
            filters=filters,
            hits_per_project=hits_per_project,
            warnings=warnings,
        )

    def drop(self, project_id: str) -> None:
        """Forget a project (deleted, or the mock reset)."""
        index = self._indexes.pop(project_id, None)
        if index is not None:
            index.close()
        self._readiness.pop(project_id, None)
        self.catalog.remove(project_id)

    def clear(self) -> None:
        for pid in list(self._indexes):
            self.drop(pid)
        self._readiness.clear()
        self.catalog.close()
        self.catalog = ProjectCatalog()
