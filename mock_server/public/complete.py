"""Completing uploads (API.md part A, "Complete"): the whole body (`documentIds`,
`directUploads`, `multipartUploads`, `failedUploads`) resolved against what storage holds, then
the engine closes the upload window.

Errors beyond API.md's list: 409 `document_not_uploaded` (a document named for processing whose
bytes are not all stored; carries `documentStatus`).
"""

from __future__ import annotations

from aiohttp import web

from statemachine import CommandRejected, FileStatus, Job, JobFile, JobStatus

from ..contract.rules import judge_complete
from ..errors import Conflict, command_error, field_error, json_response, short
from ..http.auth import Principal, get_job_for
from ..http.body import read_json
from ..http.endpoints import Endpoint
from ..http.idempotency import Idempotent, fingerprint, idempotency_key
from ..state import STATE_KEY
from ..storage.routes import integrity_error
from ..storage.store import Registration, Storage
from .jobs import IDEMPOTENCY_HEADER
from .models import CompleteUploadsRequest, JobCreateResponse, MultipartUpload
from .projects import WRITE
from .serialize import job_json
from .uploads import document_not_found, registration

__all__ = ["ENDPOINTS", "resolve_complete_body"]

P = "/api/open/v1"
_ROUTE_COMPLETE = "POST /jobs/{jobId}/uploads/complete"
_DEFAULT_FAILED_REASON = "the client reported the upload as failed"


async def complete_uploads(request: web.Request, principal: Principal) -> web.Response:
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    key = idempotency_key(request)
    body = await read_json(request, CompleteUploadsRequest)
    idem = Idempotent(
        state.idempotency,
        principal.org,
        _ROUTE_COMPLETE,
        key,
        fingerprint(
            "POST", _ROUTE_COMPLETE, {"jobId": job.id, "body": body.model_dump(exclude_none=True)}
        ),
    )
    seen = state.polls.of(principal.api_key, job.id)
    finding = judge_complete(seen, key)
    replay = idem.replay(state.engine.now, lambda _job_id: job.state)
    if replay is not None:
        return replay
    if finding is not None:
        state.violations.record(
            "complete_repeated",
            at=state.engine.now,
            job_id=job.id,
            api_key=principal.api_key,
            message=f"{job.id}'s uploads were completed again, after this key's complete was "
            "accepted; complete once, and retry a complete whose answer was lost with the same "
            "Idempotency-Key",
        )
    include, failed = resolve_complete_body(state.storage, job, body)
    try:
        state.engine.complete_uploads(job, include=include, failed=failed)
    except CommandRejected as exc:
        raise command_error(exc) from None
    seen.completed(state.engine.now, key)
    out = {"job": job_json(state, job)}
    idem.remember(state.engine.now, 202, out)
    return json_response(out, status=202)


def _not_uploaded(job: Job, f: JobFile, field: str, detail: str = "") -> Conflict:
    return Conflict(
        code="document_not_uploaded",
        message=f"{field}: document {f.document_id} is {f.status}; its bytes were never "
        f"{'fully ' if detail else ''}stored{detail}; upload it first, or list it in "
        "failedUploads",
        current_status=job.state,
        fields={"documentId": f.document_id, "documentStatus": f.status, "field": field},
    )


def _strip_etag(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


def _check_multipart(
    storage: Storage,
    job: Job,
    f: JobFile,
    reg: Registration,
    entry: MultipartUpload,
    field: str,
) -> None:
    """The docs' entry `{documentId, uploadId, uploadToken}`: the upload id (and the token,
    when given) must be the registration's and every part stored. A part list, where one is
    sent, is checked too: part numbers in range and not repeated, each part stored with the
    ETag storage returned; parts it leaves out are taken as stored."""
    if reg.mode != "multipart":
        raise field_error(
            f"{field}.documentId",
            f"document {reg.document_id} was registered for direct_put; list it in directUploads",
        )
    if entry.uploadId != reg.upload_id:
        raise field_error(
            f"{field}.uploadId",
            f"{short(entry.uploadId, 40)} is not the uploadId of "
            f"{reg.document_id} ({reg.upload_id})",
        )
    if entry.uploadToken is not None and not storage.check_upload_token(reg, entry.uploadToken):
        raise field_error(
            f"{field}.uploadToken",
            f"does not match the uploadToken issued for {reg.document_id} at registration",
        )
    parts = entry.parts or []
    seen: set[int] = set()
    for j, part in enumerate(parts):
        where = f"{field}.parts[{j}].partNumber"
        if part.partNumber in seen:
            raise field_error(where, f"part {part.partNumber} twice")
        seen.add(part.partNumber)
        if part.partNumber > reg.part_count:
            raise field_error(
                where,
                f"{reg.document_id} has {reg.part_count} parts (1 to "
                f"{reg.part_count}), not {part.partNumber}",
            )
    for j, part in enumerate(parts):
        stored = reg.parts.get(part.partNumber)
        if stored is None:
            raise _not_uploaded(job, f, field, f" (part {part.partNumber} was never uploaded)")
        if _strip_etag(part.etag) != _strip_etag(stored.etag):
            raise integrity_error(
                reg,
                "part",
                f"{field}.parts[{j}].etag: {short(part.etag, 40)} is not the ETag storage "
                f"returned for part {part.partNumber} of {reg.document_id} ({stored.etag})",
                expected=stored.etag,
                received=short(part.etag, 40),
                part_number=part.partNumber,
            )
    if not reg.stored or f.status != FileStatus.UPLOADED:
        missing = [n for n in range(1, reg.part_count + 1) if n not in reg.parts]
        listed = ", ".join(str(n) for n in missing[:10]) + (" ..." if len(missing) > 10 else "")
        detail = f" (parts never uploaded: {listed})" if missing else ""
        raise _not_uploaded(job, f, field, detail)


def resolve_complete_body(
    storage: Storage, job: Job, body: CompleteUploadsRequest
) -> tuple[list[JobFile] | None, list[tuple[JobFile, str]]]:
    """(files to process or None for every stored file, [(failed file, reason)]).

    404 `document_not_found` for a document the job does not have; 422 `validation_error` for an
    `uploadToken` or `uploadId` that does not match, a document listed under the wrong upload
    mode, or one listed both for processing and as failed; 422 `integrity_error` for a part ETag
    that storage did not return; 409 `document_not_uploaded` for a document whose bytes are not
    all stored. A job outside its upload window is left to the engine (409 uploads_closed,
    no_documents, job_not_ready).
    """
    if job.state != JobStatus.UPLOADING:
        return None, []
    by_doc = {f.document_id: f for f in job.files}

    def file_for(document_id: str, field: str) -> JobFile:
        f = by_doc.get(document_id)
        if f is None:
            raise document_not_found(job, document_id, field)
        return f

    failed: dict[str, tuple[JobFile, str]] = {}
    for i, item in enumerate(body.failedUploads or []):
        f = file_for(item.documentId, f"failedUploads[{i}].documentId")
        failed[f.id] = (f, item.reason or _DEFAULT_FAILED_REASON)

    chosen: dict[str, tuple[JobFile, str]] = {}
    for i, doc in enumerate(body.documentIds or []):
        field = f"documentIds[{i}]"
        f = file_for(doc, field)
        if f.status != FileStatus.UPLOADED:
            raise _not_uploaded(job, f, field)
        chosen.setdefault(f.id, (f, field))
    for i, direct in enumerate(body.directUploads or []):
        field = f"directUploads[{i}]"
        f = file_for(direct.documentId, f"{field}.documentId")
        reg = registration(storage, job, direct.documentId, f"{field}.documentId")
        if reg.mode != "direct_put":
            raise field_error(
                f"{field}.documentId",
                f"document {reg.document_id} was registered for multipart "
                "upload; list it in multipartUploads with its parts",
            )
        if not storage.check_upload_token(reg, direct.uploadToken):
            raise field_error(
                f"{field}.uploadToken",
                f"does not match the uploadToken issued for {reg.document_id} at registration",
            )
        if not reg.stored or f.status != FileStatus.UPLOADED:
            raise _not_uploaded(job, f, field)
        chosen.setdefault(f.id, (f, field))
    for i, entry in enumerate(body.multipartUploads or []):
        field = f"multipartUploads[{i}]"
        f = file_for(entry.documentId, f"{field}.documentId")
        reg = registration(storage, job, entry.documentId, f"{field}.documentId")
        _check_multipart(storage, job, f, reg, entry, field)
        chosen.setdefault(f.id, (f, field))

    both = [field for fid, (_, field) in chosen.items() if fid in failed]
    if both:
        raise field_error(
            both[0],
            "this document is also listed in failedUploads; a document is "
            "either processed or failed",
        )
    named = (body.documentIds, body.directUploads, body.multipartUploads)
    include = None if all(x is None for x in named) else [f for f, _ in chosen.values()]
    return include, list(failed.values())


ENDPOINTS = [
    Endpoint(
        "POST", P + "/jobs/{jobId}/uploads/complete", complete_uploads, "completeUploads",
        "Close the upload window; processing starts", 202, JobCreateResponse, scope=WRITE,
        errors=(404, 409), body=CompleteUploadsRequest, body_kind="json",
        headers=(IDEMPOTENCY_HEADER,),
    ),
]  # fmt: skip
