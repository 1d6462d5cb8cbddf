"""Signed storage routes under `/_mock/storage` (defined by the mock): PUT a direct_put file, PUT a
multipart part, GET a result. They take the token in the URL, never a bearer key.

Upload bytes are streamed and hashed, not kept: a direct PUT or a multipart part may not be
longer than its declared size, and its size and sha256 are checked (422 `integrity_error` naming
`size` or `sha256`). The whole-file sha256 of a multipart upload is folded in part order; a part
that arrives before an earlier one is held in memory until the gap closes, and such a part may be
at most `--max-upload-mb` (else 413). Expiry is virtual time, like every other timestamp.
"""

from __future__ import annotations

import hashlib
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from statemachine import Job, JobFile, require_upload_window

from ..errors import (
    Forbidden,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    ValidationFailed,
    field_error,
    json_response,
    short,
)
from ..http.auth import JOB_ID_KEY, require_unexpired
from ..http.body import read_chunk
from ..http.endpoints import Endpoint, Param
from ..public.models import ResultResponse
from ..public.results import require_result, result_document
from ..state import STATE_KEY, MockState
from .signing import TokenRejected
from .store import (
    CHECKSUM_HEADER,
    STORAGE_PREFIX,
    PartRecord,
    Registration,
    Storage,
    expected_part_size,
    sha256_b64,
)

if TYPE_CHECKING:
    from hashlib import _Hash

__all__ = [
    "ENDPOINTS",
    "PartPutResponse",
    "UploadPutResponse",
    "check_sha256",
    "integrity_error",
]

_CHUNK = 1 << 16


class UploadPutResponse(BaseModel):
    status: Literal["uploaded"]
    documentId: str
    fileSize: int
    sha256: str
    etag: str = Field(description="also in the ETag header")


class PartPutResponse(BaseModel):
    status: Literal["uploaded"]
    documentId: str
    uploadId: str
    partNumber: int
    size: int
    etag: str = Field(description="also in the ETag header; list it when completing")
    partsReceived: int
    partCount: int
    fileComplete: bool = Field(description="every part stored and the file's sha256 verified")


# --------------------------------------------------------------------------- errors


def integrity_error(
    reg: Registration,
    what: Literal["size", "sha256", "part"],
    message: str,
    *,
    expected: object = None,
    received: object = None,
    part_number: int | None = None,
) -> Unprocessable:
    """422 `integrity_error` naming which check failed (`field`: size, sha256 or part)."""
    extra: dict[str, Any] = {"field": what, "documentId": reg.document_id}
    if expected is not None:
        extra["expected"] = expected
    if received is not None:
        extra["received"] = received
    if part_number is not None:
        extra["partNumber"] = part_number
    return Unprocessable(code="integrity_error", message=message, fields=extra)


def check_sha256(reg: Registration, digest: str, what: str) -> None:
    """422 `integrity_error` when the stored bytes' sha256 `digest` is not the registered one;
    `what` says which bytes hash to it ("the bytes hash to")."""
    if digest != reg.sha256:
        raise integrity_error(
            reg,
            "sha256",
            f"{what} sha256 {digest} but {reg.document_id} was registered with {reg.sha256}",
            expected=reg.sha256,
            received=digest,
        )


def _missing_header(name: str, value: str) -> ValidationFailed:
    return ValidationFailed(
        message=f"the required header {name} is missing; send the headers listed in the upload "
        f"instruction ({name}: {value})",
        details=[{"field": f"headers.{name}", "message": "required header missing"}],
    )


_RENEW_UPLOAD = "register the file again for a fresh URL"
_RENEW_RESULT = (
    "read the job again (GET /jobs/{jobId}) for its current resultUrl; a result URL is valid "
    "until the job's expiresAt"
)


def _state_and_storage(request: web.Request) -> tuple[MockState, Storage]:
    state = request.app[STATE_KEY]
    return state, state.storage


def _verify(request: web.Request, state: MockState, renew: str) -> None:
    """403 `token_invalid` / `token_expired` unless the URL's token opens this path."""
    try:
        state.storage.verify(
            request.path, request.query.get("token"), state.engine.now, renew=renew
        )
    except TokenRejected as exc:
        fields = {"expiredAt": exc.expired_at} if exc.expired_at is not None else None
        raise Forbidden(code=exc.code, message=exc.message, fields=fields) from None


def _registration_for(
    request: web.Request, state: MockState, storage: Storage
) -> tuple[Registration, Job]:
    job_id = request.match_info["jobId"]
    document_id = request.match_info["documentId"]
    request[JOB_ID_KEY] = job_id
    reg = storage.get(job_id, document_id)
    job = state.engine.jobs.get(job_id)
    if reg is None or job is None:
        raise NotFound(
            code="document_not_found",
            message=f"no registered document {short(document_id)} on job {short(job_id)}; "
            "register the file with POST /jobs/{jobId}/uploads",
        )
    require_upload_window(job)  # its CommandRejected is answered 409 by the middleware
    return reg, job


def _check_length(
    request: web.Request, reg: Registration, expected: int, part: int | None
) -> None:
    length = request.content_length
    if length is not None and length != expected:
        what = f"part {part}" if part is not None else "the file"
        raise integrity_error(
            reg,
            "size",
            f"Content-Length is {length} bytes but {what} of {reg.document_id} was registered "
            f"with {expected} bytes",
            expected=expected,
            received=length,
            part_number=part,
        )


async def _read_body(
    request: web.Request,
    reg: Registration,
    expected: int,
    *,
    part: int | None,
    running: _Hash | None,
    keep: bool,
) -> tuple[str, str, bytes | None]:
    """Stream the body: (sha256 hex, md5 hex, the bytes if `keep`); stops one byte past
    `expected` with a size integrity error. `running` (a whole-file hash) is updated too."""
    sha = hashlib.sha256()
    md5 = hashlib.md5(usedforsecurity=False)
    kept: list[bytes] | None = [] if keep else None
    received = 0
    while True:
        chunk = await read_chunk(request, min(_CHUNK, expected - received + 1))
        if not chunk:
            break
        received += len(chunk)
        if received > expected:
            what = f"part {part}" if part is not None else "the file"
            raise integrity_error(
                reg,
                "size",
                f"the body is longer than the {expected} bytes {what} of {reg.document_id} "
                "was registered with",
                expected=expected,
                received=f">{expected}",
                part_number=part,
            )
        sha.update(chunk)
        md5.update(chunk)
        if running is not None:
            running.update(chunk)
        if kept is not None:
            kept.append(chunk)
    if received != expected:
        what = f"part {part}" if part is not None else "the file"
        raise integrity_error(
            reg,
            "size",
            f"received {received} bytes but {what} of {reg.document_id} was registered with "
            f"{expected} bytes",
            expected=expected,
            received=received,
            part_number=part,
        )
    return sha.hexdigest(), md5.hexdigest(), b"".join(kept) if kept is not None else None


def _checksum_header(request: web.Request) -> str | None:
    return request.headers.get(CHECKSUM_HEADER)


async def put_upload(request: web.Request) -> web.Response:
    """PUT /_mock/storage/uploads/{jobId}/{documentId}?token=: a direct_put file's bytes."""
    state, storage = _state_and_storage(request)
    _verify(request, state, _RENEW_UPLOAD)
    reg, job = _registration_for(request, state, storage)
    if reg.mode != "direct_put":  # unreachable with a genuine token; kept for safety
        raise field_error("documentId", f"{reg.document_id} is a multipart upload")
    raw_type = request.headers.get("Content-Type")
    if raw_type is None:
        raise _missing_header("Content-Type", reg.content_type)
    mime = raw_type.split(";", 1)[0].strip().lower()
    if mime != reg.content_type.split(";", 1)[0].strip().lower():
        raise ValidationFailed(
            message=f"Content-Type is {short(mime, 60)!r} but {reg.document_id} was registered "
            f"as {reg.content_type!r}; send the headers listed in the upload instruction",
            details=[{"field": "headers.Content-Type", "message": "does not match registration"}],
        )
    checksum = _checksum_header(request)
    if checksum is None:
        raise _missing_header(CHECKSUM_HEADER, sha256_b64(reg.sha256))
    if checksum.strip() != sha256_b64(reg.sha256):
        raise integrity_error(
            reg,
            "sha256",
            f"the {CHECKSUM_HEADER} header ({short(checksum, 60)}) is not the sha256 "
            f"{reg.document_id} was registered with ({sha256_b64(reg.sha256)}, base64)",
            expected=sha256_b64(reg.sha256),
            received=short(checksum, 60),
        )
    _check_length(request, reg, reg.size, None)
    digest, md5, _ = await _read_body(request, reg, reg.size, part=None, running=None, keep=False)
    check_sha256(reg, digest, "the bytes hash to")
    state.engine.mark_uploaded(job, _job_file(job, reg))
    reg.stored = True
    reg.etag = f'"{md5}"'
    return json_response(
        {
            "status": "uploaded",
            "documentId": reg.document_id,
            "fileSize": reg.size,
            "sha256": digest,
            "etag": reg.etag,
        },
        headers={"ETag": reg.etag},
    )


async def put_part(request: web.Request) -> web.Response:
    """PUT /_mock/storage/multipart/{jobId}/{documentId}/{uploadId}/{partNumber}?token=."""
    state, storage = _state_and_storage(request)
    _verify(request, state, _RENEW_UPLOAD)
    reg, job = _registration_for(request, state, storage)
    number_text = request.match_info["partNumber"]
    if (
        reg.mode != "multipart"
        or reg.upload_id != request.match_info["uploadId"]
        or not number_text.isdigit()
        or not 1 <= int(number_text) <= reg.part_count
    ):  # unreachable with a genuine token; kept for safety
        raise NotFound(code="not_found", message="no such part of a multipart upload")
    number = int(number_text)
    expected = expected_part_size(reg.size, reg.part_size, number)
    _check_length(request, reg, expected, number)
    in_order = number == reg.folded + 1
    keep = not in_order and number > reg.folded
    if keep and expected > state.config.max_body_bytes:
        raise PayloadTooLarge(
            message=f"part {number} of {reg.document_id} arrived before part "
            f"{reg.folded + 1}; the mock holds out-of-order parts in memory, up to "
            f"{state.config.max_body_bytes} bytes each (--max-upload-mb); upload the parts in "
            "order",
            max_bytes=state.config.max_body_bytes,
        )
    running = reg.hasher.copy() if in_order else None
    digest, md5, data = await _read_body(
        request, reg, expected, part=number, running=running, keep=keep
    )
    checksum = _checksum_header(request)
    if checksum is not None and checksum.strip() != sha256_b64(digest):
        raise integrity_error(
            reg,
            "sha256",
            f"part {number} hashes to {sha256_b64(digest)} (base64 sha256) but its "
            f"{CHECKSUM_HEADER} header says {short(checksum, 60)}",
            expected=short(checksum, 60),
            received=sha256_b64(digest),
            part_number=number,
        )
    etag = f'"{md5}"'
    record = PartRecord(number, expected, digest, etag)
    if number <= reg.folded:
        # already hashed into the whole file: only an identical retry is accepted
        if reg.parts[number].sha256 != digest:
            raise integrity_error(
                reg,
                "part",
                f"part {number} of {reg.document_id} is already stored with other bytes and "
                "later parts were hashed after it; the mock cannot replace it; register the "
                "file again (and list this document in failedUploads)",
                expected=reg.parts[number].etag,
                received=etag,
                part_number=number,
            )
    elif running is not None and reg.folded == number - 1:
        reg.hasher = running
        reg.folded = number
        reg.parts[number] = record
    elif data is None:
        # the parts were discarded (whole-file mismatch) while this one was streaming
        raise integrity_error(
            reg,
            "part",
            f"the parts of {reg.document_id} were discarded while part {number} was uploading; "
            "upload every part again",
            part_number=number,
        )
    else:
        reg.pending[number] = data
        reg.parts[number] = record
    while reg.folded + 1 in reg.pending:
        reg.hasher.update(reg.pending.pop(reg.folded + 1))
        reg.folded += 1
    if reg.folded == reg.part_count and not reg.stored:
        whole = reg.hasher.hexdigest()
        if whole != reg.sha256:
            reg.reset_parts()
            raise integrity_error(
                reg,
                "sha256",
                f"the {reg.part_count} parts of {reg.document_id} together hash to sha256 "
                f"{whole} but the file was registered with {reg.sha256}; every part was "
                "discarded: upload all parts again",
                expected=reg.sha256,
                received=whole,
                part_number=number,
            )
        state.engine.mark_uploaded(job, _job_file(job, reg))
        reg.stored = True
    return json_response(
        {
            "status": "uploaded",
            "documentId": reg.document_id,
            "uploadId": reg.upload_id,
            "partNumber": number,
            "size": expected,
            "etag": etag,
            "partsReceived": len(reg.parts),
            "partCount": reg.part_count,
            "fileComplete": reg.stored,
        },
        headers={"ETag": etag},
    )


async def get_result(request: web.Request) -> web.Response:
    """GET /_mock/storage/results/{jobId}?token=: the job's v1 result, as at GET /result."""
    state, _ = _state_and_storage(request)
    job_id = request.match_info["jobId"]
    request[JOB_ID_KEY] = job_id
    job = state.engine.jobs.get(job_id)
    now = state.engine.now
    try:
        _verify(request, state, _RENEW_RESULT)
    except Forbidden as exc:
        # a result URL lives as long as its job: past expiresAt the answer is the job's expiry
        if exc.code == "token_expired" and job is not None:
            require_unexpired(now, job, "its result (resultUrl)")
        raise
    if job is None:
        raise NotFound(
            code="job_not_found", message=f"no job {short(job_id)} (the mock was reset?)"
        )
    require_unexpired(now, job, "its result (resultUrl)")
    require_result(job)
    return json_response(result_document(state, job))


def _job_file(job: Job, reg: Registration) -> JobFile:
    for f in job.files:
        if f.id == reg.file_id:
            return f
    raise NotFound(
        code="document_not_found", message=f"document {reg.document_id} is not on {job.id}"
    )


_TOKEN = (Param("token", "the signed token the URL was issued with (not a bearer key)"),)

ENDPOINTS = [
    Endpoint(
        "PUT", STORAGE_PREFIX + "/uploads/{jobId}/{documentId}", put_upload,
        "storagePutUpload",
        "Signed storage: PUT a direct_put file's bytes with the instruction's headers "
        "(403 token_invalid / token_expired; 422 integrity_error names size or sha256)",
        200, UploadPutResponse, tag="control", errors=(403, 404, 409, 422), query=_TOKEN,
    ),
    Endpoint(
        "PUT", STORAGE_PREFIX + "/multipart/{jobId}/{documentId}/{uploadId}/{partNumber}",
        put_part, "storagePutPart",
        "Signed storage: PUT one part of a multipart upload; answers its ETag",
        200, PartPutResponse, tag="control", errors=(403, 404, 409, 413, 422), query=_TOKEN,
    ),
    Endpoint(
        "GET", STORAGE_PREFIX + "/results/{jobId}", get_result, "storageGetResult",
        "Signed storage: a job's v1 result (the job's resultUrl)",
        200, ResultResponse, tag="control", errors=(403, 404, 409), query=_TOKEN,
    ),
]  # fmt: skip
