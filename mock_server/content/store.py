"""The server's content: generated when a result or a read first asks, then kept.

Nothing here runs while jobs move: `simulate`, polls and transitions never touch the store. A
document's content is keyed by its facts (which only change until its job ends), a job's by its
id and generation, a project's by the jobs that have finished in it.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable

from statemachine import RESULT_STATUSES, Engine, Job, Project

from .artifacts import ArtifactIndex
from .facts import DocumentFacts, facts_from_job
from .generate import DocumentContent, generate_document
from .packs import ContentPacks
from .project import ProjectContent

__all__ = ["RESULT_STATUSES", "ContentStore", "JobContent"]

# After generating this many pages in one call, collect once: a large project's content is
# hundreds of thousands of objects, and the garbage collector's one full pass over new objects
# would otherwise land in the middle of later requests (a third of a second for 10,000 sheets).
# Small jobs, as tests make them, never reach it.
_COLLECT_AFTER_PAGES = 2_000


class JobContent:
    """A job's documents with their content, in upload order, and the artifacts its result
    hands out."""

    __slots__ = ("_artifacts", "documents", "job_id", "project_id")

    def __init__(self, job_id: str, project_id: str, documents: Iterable[DocumentContent]) -> None:
        self.job_id = job_id
        self.project_id = project_id
        self.documents = tuple(documents)
        self._artifacts: ArtifactIndex | None = None

    @property
    def artifacts(self) -> ArtifactIndex:
        if self._artifacts is None:
            self._artifacts = ArtifactIndex(
                f"job {self.job_id}", self.documents, project_reads=False
            )
        return self._artifacts


class ContentStore:
    """Generated content, kept per document, job and project. `seed` is the server's seed (None
    counts as 0: ids then differ anyway); `packs` fix the content of files by name."""

    def __init__(self, seed: int | None = None, packs: ContentPacks | None = None) -> None:
        self.seed = seed or 0
        self.packs = packs or ContentPacks()
        self.generated = 0  # documents generated so far (laziness is observable)
        self._fresh_pages = 0  # pages generated since the last collection
        self._documents: dict[DocumentFacts, DocumentContent] = {}
        self._jobs: dict[str, tuple[int, str, JobContent]] = {}
        self._projects: dict[str, tuple[tuple[str, ...], ProjectContent]] = {}
        # per project: its jobs and their generations when its content was last looked up; a
        # read of an unchanged project skips the sort (the hot path of a list read)
        self._stamps: dict[str, tuple[tuple[tuple[str, int], ...], ProjectContent]] = {}

    def clear(self) -> None:
        """Forget everything (a server reset); the next read generates again, identically."""
        self._documents.clear()
        self._jobs.clear()
        self._projects.clear()
        self._stamps.clear()

    def document(self, facts: DocumentFacts) -> DocumentContent:
        content = self._documents.get(facts)
        if content is None:
            content = generate_document(
                facts, seed=self.seed, pack=self.packs.for_file(facts.file_name)
            )
            self._documents[facts] = content
            self.generated += 1
            self._fresh_pages += facts.pages
        return content

    def _settle(self) -> None:
        if self._fresh_pages >= _COLLECT_AFTER_PAGES:
            self._fresh_pages = 0
            gc.collect()

    def job(self, engine: Engine, job: Job) -> JobContent:
        """The content of a job's files as they stand (call it for a finished job)."""
        kept = self._jobs.get(job.id)
        if kept is not None and kept[0] == job.gen and kept[1] == job.state:
            return kept[2]
        content = JobContent(
            job.id, job.project_id, (self.document(f) for f in facts_from_job(engine, job))
        )
        self._jobs[job.id] = (job.gen, job.state, content)
        self._settle()
        return content

    def project(self, engine: Engine, project: Project) -> ProjectContent:
        """The entities of the project's jobs that ended completed or completed_with_errors, in
        completion order."""
        stamp = tuple((j.id, j.gen) for j in project.jobs)
        seen = self._stamps.get(project.id)
        if seen is not None and seen[0] == stamp:
            return seen[1]
        finished = sorted(
            (
                (j.completed_at or 0.0, i, j)
                for i, j in enumerate(project.jobs)
                if j.state in RESULT_STATUSES
            ),
            key=lambda t: (t[0], t[1]),
        )
        key = tuple(j.id for _, _, j in finished)
        kept = self._projects.get(project.id)
        if kept is not None and kept[0] == key:
            self._stamps[project.id] = (stamp, kept[1])
            return kept[1]
        content = ProjectContent(
            project.id,
            project.name,
            (d for _, _, j in finished for d in self.job(engine, j).documents),
        )
        self._projects[project.id] = (key, content)
        self._stamps[project.id] = (stamp, content)
        self._settle()
        return content
