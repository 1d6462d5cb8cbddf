"""Registered uploads (API.md part A, "Uploads"): register, base64 content, and the full
complete-uploads body; `setup_uploads(app)` installs them with signed storage and results.

- `POST /jobs/{jobId}/uploads` registers 1-100 files with exact `fileSize` and `sha256` and answers
  an UploadInstruction per file: `direct_put` (a signed `uploadUrl` and the `headers` to send) or,
  for files declared over 5 GB, `multipart` (`uploadId` and signed part URLs of 100 MB). Limits
  (100 files, 10,000,000,000 declared bytes per job) are checked before any byte moves: 422
  `limit_exceeded`. Registered files are `pending` until their bytes are stored and verified.
- `POST /jobs/{jobId}/uploads/{documentId}/content` takes the bytes of a direct_put document as
  base64, checked against the registered size and sha256 (422 `integrity_error` naming which).
- `resolve_complete_body` turns the complete-uploads body (`documentIds`, `directUploads`,
  `multipartUploads`, `failedUploads`) into the files to process and the files that failed; the
  core's complete handler calls it through `state.complete_resolver`.

Errors beyond API.md's list: 409 `document_not_uploaded` (a document named for processing whose
bytes are not all stored; carries `documentStatus`), 409 `wrong_upload_mode` (base64 content for a
document stored by the form upload or registered for multipart; carries `uploadMode`), 403
`token_invalid` / `token_expired` on storage URLs (see `storage.py`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import secrets
import string
from typing import Literal, TypeVar

from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, field_validator
from pydantic.config import JsonDict

from statemachine import MAX_FILES, CommandRejected, FileSpec
from statemachine.engine import Job, JobFile

from .auth import authenticate, get_job_for
from .errors import ApiError, conflict, json_response, short
from .models import (
    JSON_BODY_LIMIT,
    CompleteUploadsRequest,
    JobModel,
    JsonInt,
    MultipartUpload,
    field_error,
    read_json,
)
from .openapi import OPENAPI_OPS_KEY, Operation, add_operations
from .public_api import PUBLIC_PREFIX, WRITE, command_error
from .results import ResultResponse, get_job_result
from .serialize import job_json
from .state import STATE_KEY, MockState
from .storage import (
    STORAGE_KEY,
    STORAGE_PREFIX,
    PartPutResponse,
    Registration,
    Storage,
    StorageSettings,
    UploadPutResponse,
    check_sha256,
    integrity_error,
    setup_storage,
)

__all__ = [
    "PartInstruction",
    "RegisterFile",
    "RegisterUploadsRequest",
    "RegisterUploadsResponse",
    "UploadContentRequest",
    "UploadContentResponse",
    "UploadInstruction",
    "openapi_operations",
    "register_uploads",
    "resolve_complete_body",
    "setup_uploads",
    "upload_content",
]

_ID_ALPHABET = string.ascii_lowercase + string.digits
_SHA256 = r"^[0-9a-f]{64}$"
_DEFAULT_FAILED_REASON = "the client reported the upload as failed"
M = TypeVar("M", bound=BaseModel)
Classification = Literal["plans", "specifications", "documents", "addenda", "mixed", "other"]


# --------------------------------------------------------------------------- models


class _Request(BaseModel):
    model_config = ConfigDict(extra="ignore")


# What `_safe_name` accepts, for the OpenAPI document: no slash, backslash or control character,
# not blank, not `.` or `..` (found by fuzzing: the document allowed names the server refused).
_FILE_NAME_SCHEMA: JsonDict = {
    "pattern": r"^[^/\\\x00-\x1f]*[^/\\\x00-\x1f\s][^/\\\x00-\x1f]*$",
    "not": {"enum": [".", ".."]},
}


class RegisterFile(_Request):
    fileName: str = Field(min_length=1, max_length=255, json_schema_extra=_FILE_NAME_SCHEMA)
    contentType: str = Field(min_length=1, max_length=255)
    fileSize: JsonInt = Field(ge=0, description="exact size in bytes")
    sha256: str = Field(pattern=_SHA256, description="64 lowercase hex characters")
    classification: Classification | None = None

    @field_validator("fileName")
    @classmethod
    def _safe_name(cls, name: str) -> str:
        if "/" in name or "\\" in name:
            raise ValueError("a file name cannot contain / or \\")
        if name in (".", "..") or ".." in name.split("."):
            raise ValueError("a file name cannot be . or .. or contain ..")
        if any(ord(c) < 32 for c in name):
            raise ValueError("a file name cannot contain NUL or control characters")
        if not name.strip():
            raise ValueError("a file name cannot be blank")
        return name


class RegisterUploadsRequest(_Request):
    # more than 100 files is limit_exceeded (checked by the handler), not a validation error
    files: list[RegisterFile] = Field(min_length=1, description="1 to 100 files")


class UploadContentRequest(_Request):
    uploadToken: str = Field(min_length=1, max_length=256)
    contentBase64: str = Field(description="the file's bytes, standard base64")
    sha256: str | None = Field(None, pattern=_SHA256)


class PartInstruction(BaseModel):
    partNumber: int
    size: int
    url: str


class UploadInstruction(BaseModel):
    documentId: str
    uploadMode: Literal["direct_put", "multipart"]
    uploadToken: str
    expiresAt: str
    uploadUrl: str | None = Field(None, description="direct_put only")
    headers: dict[str, str] | None = Field(None, description="direct_put only")
    uploadId: str | None = Field(None, description="multipart only")
    partSize: int | None = Field(None, description="multipart only")
    parts: list[PartInstruction] | None = Field(None, description="multipart only")


class RegisterUploadsResponse(BaseModel):
    job: JobModel
    uploads: list[UploadInstruction]


class DirectUploadRecord(BaseModel):
    documentId: str
    uploadToken: str


class UploadContentResponse(BaseModel):
    status: Literal["uploaded"]
    documentId: str
    fileName: str
    fileSize: int
    contentType: str
    uploadMode: Literal["direct_put"]
    directUpload: DirectUploadRecord


# --------------------------------------------------------------------------- handlers


def _storage(request: web.Request) -> Storage:
    return request.app[STORAGE_KEY]


def _new_upload_id() -> str:
    return "upl_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(26))


async def register_uploads(request: web.Request) -> web.Response:
    """POST /jobs/{jobId}/uploads."""
    principal = authenticate(request, WRITE)
    state = request.app[STATE_KEY]
    storage = _storage(request)
    job = get_job_for(request, principal, request.match_info["jobId"])
    body = await read_json(request, RegisterUploadsRequest, limit=JSON_BODY_LIMIT)
    if len(body.files) > MAX_FILES:
        raise ApiError(
            422,
            "limit_exceeded",
            f"{len(body.files)} files in one registration; a job holds at most {MAX_FILES} "
            "files (nothing was registered)",
            limit="maxFiles",
            maxFiles=MAX_FILES,
        )
    specs = [
        FileSpec(
            file_name=f.fileName,
            size=f.fileSize,
            content_type=f.contentType,
            classification=f.classification,
            sha256=f.sha256,
        )
        for f in body.files
    ]
    try:
        added = state.engine.add_files(job, specs, status="pending")
    except CommandRejected as exc:
        raise command_error(exc) from None
    now = state.engine.now
    instructions = []
    for f in added:
        reg = storage.register(
            job_id=job.id,
            document_id=f.document_id,
            file_id=f.id,
            file_name=f.file_name,
            size=f.size,
            sha256=f.sha256 or "",
            content_type=f.content_type,
            now=now,
            upload_id=_new_upload_id(),
        )
        instructions.append(storage.instruction(reg))
    return json_response({"job": job_json(state, job), "uploads": instructions})


def _registration(storage: Storage, job: Job, document_id: str, field: str) -> Registration:
    """The registration of a document of `job`: 404 when the job has no such document, 422 when
    it was stored by the form upload rather than registered."""
    reg = storage.get(job.id, document_id)
    if reg is not None:
        return reg
    if _stored_by_form(job, document_id):
        raise field_error(
            field,
            f"document {document_id} was stored by the form upload, not "
            "registered with POST /jobs/{jobId}/uploads",
        )
    raise _document_not_found(job, document_id, field)


def _direct_registration(storage: Storage, job: Job, document_id: str) -> Registration:
    """The direct_put registration the content route's path names: 404 when the job has no such
    document, 409 `wrong_upload_mode` when the document exists but came another way (the form
    upload, or a multipart registration): a well-formed request the document's state refuses."""
    reg = storage.get(job.id, document_id)
    if reg is not None and reg.mode == "direct_put":
        return reg
    if reg is not None:
        how, fix = "was registered for multipart upload", "PUT each part to its signed part URL"
    elif _stored_by_form(job, document_id):
        how, fix = "was stored by the form upload", "its bytes are already stored"
    else:
        raise _document_not_found(job, document_id, "documentId")
    raise conflict(
        "wrong_upload_mode",
        f"document {document_id} {how}; base64 content is accepted only for documents "
        f"registered as direct_put ({fix})",
        job.state,
        uploadMode="multipart" if reg is not None else "form",
    )


def _stored_by_form(job: Job, document_id: str) -> bool:
    """Whether `document_id` is a file of `job` that has no registration (a form upload's)."""
    return any(f.document_id == document_id for f in job.files)


def _document_not_found(job: Job, document_id: str, field: str) -> ApiError:
    return ApiError(
        404,
        "document_not_found",
        f"{field}: no document {short(document_id)} in job {job.id}",
        documentId=short(document_id),
        field=field,
    )


def _file_of(job: Job, reg: Registration) -> JobFile:
    for f in job.files:
        if f.id == reg.file_id:
            return f
    raise _document_not_found(job, reg.document_id, "documentId")


def _decode_base64(text: str) -> bytes:
    compact = "".join(text.split())  # `base64` wraps lines; whitespace is not data
    try:
        if len(compact) % 4:
            raise ValueError("length is not a multiple of 4")
        return base64.b64decode(compact, validate=True)
    except (binascii.Error, ValueError):
        raise field_error(
            "contentBase64", "not valid standard base64 (A-Z a-z 0-9 + / with = padding)"
        ) from None


async def upload_content(request: web.Request) -> web.Response:
    """POST /jobs/{jobId}/uploads/{documentId}/content (direct_put documents only)."""
    principal = authenticate(request, WRITE)
    state = request.app[STATE_KEY]
    storage = _storage(request)
    job = get_job_for(request, principal, request.match_info["jobId"])
    reg = _direct_registration(storage, job, request.match_info["documentId"])
    limit = state.config.max_body_bytes * 4 // 3 + 64 * 1024
    body = await read_json(
        request,
        UploadContentRequest,
        limit=limit,
        hint=" (4/3 of --max-upload-mb: base64 is a third longer than the bytes it carries)",
    )
    if not storage.check_upload_token(reg, body.uploadToken):
        raise field_error(
            "uploadToken",
            f"does not match the uploadToken issued for {reg.document_id} at registration",
        )
    if job.state not in ("awaiting_uploads", "uploading"):
        raise conflict(
            "uploads_closed",
            f"job {job.id} is {job.state}; uploads are accepted only in awaiting_uploads and "
            "uploading",
            job.state,
        )
    if body.sha256 is not None and body.sha256 != reg.sha256:
        raise integrity_error(
            reg,
            "sha256",
            f"the sha256 in the body ({body.sha256}) is not the one {reg.document_id} was "
            f"registered with ({reg.sha256})",
            expected=reg.sha256,
            received=body.sha256,
        )
    data = _decode_base64(body.contentBase64)
    if len(data) != reg.size:
        raise integrity_error(
            reg,
            "size",
            f"the decoded content is {len(data)} bytes but {reg.document_id} was registered "
            f"with fileSize {reg.size}",
            expected=reg.size,
            received=len(data),
        )
    digest = hashlib.sha256(data).hexdigest()
    check_sha256(reg, digest, "the decoded content hashes to")
    try:
        state.engine.mark_uploaded(job, _file_of(job, reg))
    except CommandRejected as exc:
        raise command_error(exc) from None
    reg.stored = True
    reg.etag = f'"{hashlib.md5(data, usedforsecurity=False).hexdigest()}"'
    return json_response(
        {
            "status": "uploaded",
            "documentId": reg.document_id,
            "fileName": reg.file_name,
            "fileSize": reg.size,
            "contentType": reg.content_type,
            "uploadMode": "direct_put",
            "directUpload": {"documentId": reg.document_id, "uploadToken": reg.upload_token},
        }
    )


# --------------------------------------------------------------------------- complete


def _not_uploaded(job: Job, f: JobFile, field: str, detail: str = "") -> ApiError:
    return conflict(
        "document_not_uploaded",
        f"{field}: document {f.document_id} is {f.status}; its bytes were never "
        f"{'fully ' if detail else ''}stored{detail}; upload it first, or list it in "
        "failedUploads",
        job.state,
        documentId=f.document_id,
        documentStatus=f.status,
        field=field,
    )


def _strip_etag(etag: str) -> str:
    return etag.strip().removeprefix("W/").strip('"')


def _check_multipart(
    job: Job, f: JobFile, reg: Registration, entry: MultipartUpload, field: str
) -> None:
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
    seen: set[int] = set()
    for j, part in enumerate(entry.parts):
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
    for j, part in enumerate(entry.parts):
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
    missing = [n for n in range(1, reg.part_count + 1) if n not in seen]
    if missing:
        listed = ", ".join(str(n) for n in missing[:10]) + (" ..." if len(missing) > 10 else "")
        raise field_error(
            f"{field}.parts",
            f"list every part of {reg.document_id} (1 to {reg.part_count}) "
            f"with its ETag; missing: {listed}",
        )
    if not reg.stored or f.status != "uploaded":
        raise _not_uploaded(job, f, field)


def resolve_complete_body(
    storage: Storage, state: MockState, job: Job, body: CompleteUploadsRequest
) -> tuple[list[JobFile] | None, list[tuple[JobFile, str]]]:
    """(files to process or None for every stored file, [(failed file, reason)]).

    404 `document_not_found` for a document the job does not have; 422 `validation_error` for an
    `uploadToken` or `uploadId` that does not match, a document listed under the wrong upload
    mode, or one listed both for processing and as failed; 422 `integrity_error` for a part ETag
    that storage did not return; 409 `document_not_uploaded` for a document whose bytes are not
    all stored. A job outside its upload window is left to the engine (409 uploads_closed,
    no_documents, job_not_ready).
    """
    if job.state != "uploading":
        return None, []
    by_doc = {f.document_id: f for f in job.files}

    def file_for(document_id: str, field: str) -> JobFile:
        f = by_doc.get(document_id)
        if f is None:
            raise _document_not_found(job, document_id, field)
        return f

    failed: dict[str, tuple[JobFile, str]] = {}
    for i, item in enumerate(body.failedUploads or []):
        f = file_for(item.documentId, f"failedUploads[{i}].documentId")
        failed[f.id] = (f, item.reason or _DEFAULT_FAILED_REASON)

    chosen: dict[str, tuple[JobFile, str]] = {}
    for i, doc in enumerate(body.documentIds or []):
        field = f"documentIds[{i}]"
        f = file_for(doc, field)
        if f.status != "uploaded":
            raise _not_uploaded(job, f, field)
        chosen.setdefault(f.id, (f, field))
    for i, direct in enumerate(body.directUploads or []):
        field = f"directUploads[{i}]"
        f = file_for(direct.documentId, f"{field}.documentId")
        reg = _registration(storage, job, direct.documentId, f"{field}.documentId")
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
        if not reg.stored or f.status != "uploaded":
            raise _not_uploaded(job, f, field)
        chosen.setdefault(f.id, (f, field))
    for i, entry in enumerate(body.multipartUploads or []):
        field = f"multipartUploads[{i}]"
        f = file_for(entry.documentId, f"{field}.documentId")
        reg = _registration(storage, job, entry.documentId, f"{field}.documentId")
        _check_multipart(job, f, reg, entry, field)
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


# --------------------------------------------------------------------------- setup


def openapi_operations() -> list[Operation]:
    """What `GET /openapi.json` says about the routes of this part."""
    p = PUBLIC_PREFIX
    auth_errors = (401, 403, 500, 503)
    body_errors = (400, 413, 415, 422)
    token = (("token", "the signed token the URL was issued with (not a bearer key)"),)
    return [
        Operation(
            "post", p + "/jobs/{jobId}/uploads", "registerUploads",
            "Register 1-100 files (exact size, sha256); answers an upload instruction each",
            "public", 200, RegisterUploadsResponse, (*auth_errors, *body_errors, 404, 409),
            RegisterUploadsRequest, "json", True,
        ),
        Operation(
            "post", p + "/jobs/{jobId}/uploads/{documentId}/content", "uploadRegisteredFile",
            "The bytes of a registered direct_put document, as base64", "public", 200,
            UploadContentResponse, (*auth_errors, *body_errors, 404, 409),
            UploadContentRequest, "json", True,
        ),
        Operation(
            "get", p + "/jobs/{jobId}/result", "getJobResult",
            "The v1 result of a completed or completed_with_errors job", "public", 200,
            ResultResponse, (*auth_errors, 404, 409),
        ),
        Operation(
            "put", STORAGE_PREFIX + "/uploads/{jobId}/{documentId}", "storagePutUpload",
            "Signed storage: PUT a direct_put file's bytes with the instruction's headers "
            "(403 token_invalid / token_expired; 422 integrity_error names size or sha256)",
            "control", 200, UploadPutResponse, (403, 404, 409, 422), auth=False, query=token,
        ),
        Operation(
            "put", STORAGE_PREFIX + "/multipart/{jobId}/{documentId}/{uploadId}/{partNumber}",
            "storagePutPart",
            "Signed storage: PUT one part of a multipart upload; answers its ETag",
            "control", 200, PartPutResponse, (403, 404, 409, 413, 422), auth=False,
            query=token,
        ),
        Operation(
            "get", STORAGE_PREFIX + "/results/{jobId}", "storageGetResult",
            "Signed storage: a job's v1 result (the job's resultUrl)", "control", 200,
            ResultResponse, (403, 404, 409), auth=False, query=token,
        ),
    ]  # fmt: skip


def setup_uploads(app: web.Application, settings: StorageSettings | None = None) -> Storage:
    """Install registered uploads, base64 content, the complete-body resolver, signed storage
    and results (`GET /jobs/{jobId}/result`, `GET /_mock/storage/results/{jobId}`)."""
    storage = setup_storage(app, settings)
    state = app[STATE_KEY]

    def resolver(
        st: MockState, job: Job, body: CompleteUploadsRequest
    ) -> tuple[list[JobFile] | None, list[tuple[JobFile, str]]]:
        return resolve_complete_body(storage, st, job, body)

    state.complete_resolver = resolver
    if OPENAPI_OPS_KEY in app:
        add_operations(app, openapi_operations())
    else:  # set up before the OpenAPI part: describe the routes once everything is set up

        async def describe(app: web.Application) -> None:
            if OPENAPI_OPS_KEY in app:
                add_operations(app, openapi_operations())

        app.on_startup.append(describe)
    r = app.router
    p = PUBLIC_PREFIX
    r.add_post(p + "/jobs/{jobId}/uploads", register_uploads)
    r.add_post(p + "/jobs/{jobId}/uploads/{documentId}/content", upload_content)
    r.add_get(p + "/jobs/{jobId}/result", get_job_result)
    return storage
