"""Hot-path names shared by the engine's modules (private).

Enum members as module names: looking a member up on its Enum class costs ~80 ns, and the hot
paths compare statuses and name events several times per transition. The engine builds a
TransitionRecord per transition and a Progress per look at a job: through `tuple.__new__` they
cost a third of a keyword-checked call (~0.12 vs ~0.3 us).
"""

from __future__ import annotations

from .statuses import FileStatus, JobEvent, JobStatus, ProjectStatus

new_tuple = tuple.__new__

AWAITING_UPLOADS = JobStatus.AWAITING_UPLOADS
BLOCKED_INSUFFICIENT_CREDITS = JobStatus.BLOCKED_INSUFFICIENT_CREDITS
CANCELLED = JobStatus.CANCELLED
COMPLETED = JobStatus.COMPLETED
COMPLETED_WITH_ERRORS = JobStatus.COMPLETED_WITH_ERRORS
FAILED = JobStatus.FAILED
PREFLIGHTING = JobStatus.PREFLIGHTING
PROCESSING = JobStatus.PROCESSING
PROVISIONING = JobStatus.PROVISIONING
UPLOADING = JobStatus.UPLOADING
EV_BLOCK = JobEvent.BLOCK
EV_CANCEL = JobEvent.CANCEL
EV_COMPLETE = JobEvent.COMPLETE
EV_COMPLETE_UPLOADS = JobEvent.COMPLETE_UPLOADS
EV_COMPLETE_WITH_ERRORS = JobEvent.COMPLETE_WITH_ERRORS
EV_EXPIRE = JobEvent.EXPIRE
EV_FAIL = JobEvent.FAIL
EV_PASS_PREFLIGHT = JobEvent.PASS_PREFLIGHT
EV_PROVISION = JobEvent.PROVISION
EV_RESUME = JobEvent.RESUME
EV_START_UPLOAD = JobEvent.START_UPLOAD
PROJECT_PROVISIONING = ProjectStatus.PROVISIONING
PROJECT_READY = ProjectStatus.READY

F_PENDING = FileStatus.PENDING
F_UPLOADED = FileStatus.UPLOADED
F_SKIPPED = FileStatus.SKIPPED
F_PROCESSING = FileStatus.PROCESSING
F_COMPLETED = FileStatus.COMPLETED
F_FAILED = FileStatus.FAILED
F_CANCELLED = FileStatus.CANCELLED
