"""The account owner of one contract example's job: uploads, tops up and resumes, cancels.

A plan (`strategies.OwnerPlan`) says what the owner does and when, in virtual seconds from the
start of the example. `Owner` turns that into actions on the engine; *when* they run is the
runner's business: `check_client` keeps them on a heap and runs them as its manual clock moves,
`plangrep-mock check` schedules them on the engine's own heap so that they fire as the realtime
clock passes them. Either way `schedule(at, action)` queues an action and `act(action)` runs it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from dataclasses import dataclass

from statemachine import TERMINAL_STATUSES, FileSpec, StateMachineError
from statemachine.engine import Engine, Job, TransitionRecord

from .rules import BLOCKED
from .strategies import AMPLE_CREDITS, ContractPlan
from .workflow_strategies import WorkflowPlan

__all__ = ["BLOCKED", "Owner", "OwnerAction", "act_on_job"]


OwnerAction = str  # upload | complete | top_up | cancel_blocked | cancel


def act_on_job(eng: Engine, job: Job, action: str) -> None:
    """The owner's actions on a running job: `top_up` (credits, then resume) or
    `cancel_blocked` while it is blocked, `cancel` until it is terminal. Raises
    `StateMachineError` when the engine refuses."""
    if action == "top_up":
        if job.state == BLOCKED:
            eng.set_balance(job.org, AMPLE_CREDITS)
            eng.resume(job)
    elif action == "cancel_blocked":
        if job.state == BLOCKED:
            eng.cancel(job)
    elif action == "cancel" and job.state not in TERMINAL_STATUSES:
        eng.cancel(job)


@dataclass(slots=True)
class Owner:
    """What the account owner does to `job_id` (created at `t0`) under `plan`.

    `uploads=False` when the program under test uploads the files itself (a whole workflow):
    the owner then only reacts to blocks and cancels, and (`cancel_on`, a `WorkflowPlan`'s)
    cancels the moment the job enters that status."""

    engine: Engine
    plan: ContractPlan | WorkflowPlan
    job_id: str
    t0: float
    schedule: Callable[[float, OwnerAction], None]
    uploads: bool = True
    cancel_on: str | None = None
    uploaded: bool = False
    processing_seen: bool = False

    def start(self) -> None:
        """Queue the actions whose time the plan fixes from the start."""
        owner = self.plan.owner
        if self.uploads:
            self.schedule(self.t0 + owner.upload_at, "upload")
        if owner.cancel_at is not None:
            self.schedule(self.t0 + owner.cancel_at, "cancel")

    def act(self, action: OwnerAction) -> None:
        """Run one action now; a refusal (the job moved on) is not the client's business and
        is ignored."""
        eng = self.engine
        job = eng.jobs.get(self.job_id)
        if job is None:
            return
        owner = self.plan.owner
        with contextlib.suppress(StateMachineError):
            if action == "upload":
                if job.state == "provisioning":
                    return  # retried when the job is provisioned (see on_transition)
                self.uploaded = True
                specs = [
                    FileSpec(f"sheet{i}.pdf", size, "application/pdf", cls)
                    for i, (size, cls) in enumerate(owner.files)
                ]
                eng.add_files(job, specs)
                if owner.complete_after <= 0:
                    eng.complete_uploads(job)
                else:
                    self.schedule(eng.now + owner.complete_after, "complete")
            elif action == "complete":
                eng.complete_uploads(job)
            else:
                act_on_job(eng, job, action)

    def on_transition(self, rec: TransitionRecord) -> None:
        """React to a transition of the job: upload once provisioned, act on a block, cancel
        some time into processing (or as it enters `cancel_on`)."""
        if rec.object_id != self.job_id:
            return
        owner = self.plan.owner
        if rec.dst == self.cancel_on:
            self.schedule(rec.at, "cancel")
        if rec.event == "provision" and self.uploads and not self.uploaded:
            self.schedule(max(rec.at, self.t0 + owner.upload_at), "upload")
        elif rec.dst == BLOCKED and owner.on_block != "wait":
            action = "top_up" if owner.on_block == "top_up" else "cancel_blocked"
            self.schedule(rec.at + owner.block_action_after, action)
        elif (
            rec.dst == "processing"
            and not self.processing_seen
            and owner.cancel_after_processing_starts is not None
        ):
            self.processing_seen = True
            self.schedule(rec.at + owner.cancel_after_processing_starts, "cancel")
