"""Uploads (API.md part A, "Uploads"): the form upload, registered uploads and base64 content.

- `POST /jobs/{jobId}/files` stores the files of a multipart form (a `metadata` part, a JSON
  string, and file parts `file0`, `file1`, ...); a retried `clientUploadFlowId` stores nothing
  twice and answers `skipped`.
- `POST /jobs/{jobId}/uploads` registers 1-100 files with exact `fileSize` and `sha256` and
  answers an UploadInstruction per file: `direct_put` (a signed `uploadUrl` and the `headers` to
  send) or, for files declared over 5 GB, `multipart` (`uploadId` and signed part URLs of
  100 MB). Limits (100 files, 10,000,000,000 declared bytes per job) are checked before any byte
  moves: 422 `limit_exceeded`. Registered files are `pending` until their bytes are stored.
- `POST /jobs/{jobId}/uploads/{documentId}/content` takes the bytes of a direct_put document as
  base64, checked against the registered size and sha256 (422 `integrity_error` naming which).

Errors beyond API.md's list: 409 `wrong_upload_mode` (base64 content for a document stored by the
form upload or registered for multipart; carries `uploadMode`).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import secrets
import string
from typing import Any

from aiohttp import BodyPartReader, web
from aiohttp.http_exceptions import HttpProcessingError

from statemachine import (
    MAX_FILES,
    CommandRejected,
    FileSpec,
    FileStatus,
    FormUploadRecord,
    Job,
    JobFile,
    require_upload_window,
)

from ..errors import (
    Conflict,
    NotFound,
    PayloadTooLarge,
    Unprocessable,
    UnsupportedMediaType,
    command_error,
    field_error,
    json_response,
    short,
)
from ..http.auth import Principal, get_job_for
from ..http.body import JSON_BODY_LIMIT, parse_model, read_json
from ..http.endpoints import Endpoint
from ..state import STATE_KEY
from ..storage.routes import check_sha256, integrity_error
from ..storage.store import Registration, Storage
from .models import (
    FormFileMetadata,
    FormMetadata,
    FormUploadResponse,
    RegisterUploadsRequest,
    RegisterUploadsResponse,
    UploadContentRequest,
    UploadContentResponse,
)
from .projects import WRITE
from .serialize import job_json

__all__ = ["ENDPOINTS", "document_not_found", "registration"]

P = "/api/open/v1"
_ID_ALPHABET = string.ascii_lowercase + string.digits


# --------------------------------------------------------------------------- form upload


async def upload_files(request: web.Request, principal: Principal) -> web.Response:
    """The form upload: a `metadata` part (a JSON string) and file parts `file0`, `file1`, ..."""
    state = request.app[STATE_KEY]
    job = get_job_for(request, principal, request.match_info["jobId"])
    mime = request.content_type
    if mime != "multipart/form-data":
        raise UnsupportedMediaType(
            message=f"the body is {mime or 'without a content type'}; this route takes "
            "multipart/form-data with a metadata part and file parts file0, file1, ...",
        )
    metadata_text, parts = await _read_form(request, state.config.max_body_bytes)
    if metadata_text is None:
        raise field_error("metadata", "the form has no metadata part (a JSON string)")
    try:
        raw_meta = json.loads(metadata_text)
    except ValueError as exc:
        raise field_error("metadata", f"the metadata part is not valid JSON: {exc}") from None
    meta = parse_model(FormMetadata, raw_meta)
    if not parts:
        raise field_error("file0", "the form has no file part; name them file0, file1")
    specs, names = _form_specs(meta, parts)
    flow = meta.clientUploadFlowId
    flows = job.upload_flows
    if flow is not None and flows is not None and flow in flows:
        # a retry of an upload flow that already went through: nothing is stored twice
        return json_response(
            {
                "job": job_json(state, job),
                "status": "skipped",
                "uploads": [_form_upload_json(r) for r in flows[flow]],
            }
        )
    try:
        added = state.engine.add_files(job, specs)
    except CommandRejected as exc:
        raise command_error(exc) from None
    records = tuple(
        FormUploadRecord(f, part, f.status) for f, part in zip(added, names, strict=True)
    )
    if flow is not None:
        if job.upload_flows is None:
            job.upload_flows = {}
        job.upload_flows[flow] = records
    return json_response(
        {
            "job": job_json(state, job),
            "status": "uploaded",
            "uploads": [_form_upload_json(r) for r in records],
        }
    )


def _form_upload_json(record: FormUploadRecord) -> dict[str, Any]:
    f = record.file
    return {
        "documentId": f.document_id,
        "fileId": f.id,
        "fileName": f.file_name,
        "contentType": f.content_type,
        "fileSize": f.size,
        "partName": record.part_name,
        "status": record.status,
    }


async def _read_form(
    request: web.Request, limit: int
) -> tuple[str | None, dict[str, tuple[str | None, str | None, bytes]]]:
    """(metadata text, {part name: (file name, content type, bytes)}), at most `limit` bytes."""
    try:
        return await _read_form_parts(request, limit)
    except (HttpProcessingError, ValueError) as exc:
        # aiohttp's multipart reader raises these for a body it cannot parse (a part header
        # with control characters, a missing boundary, ...): the client's error, not ours
        raise field_error("(body)", f"the multipart body is malformed: {exc}") from None


async def _read_form_parts(
    request: web.Request, limit: int
) -> tuple[str | None, dict[str, tuple[str | None, str | None, bytes]]]:
    reader = await request.multipart()
    metadata: str | None = None
    parts: dict[str, tuple[str | None, str | None, bytes]] = {}
    total = 0
    while True:
        part = await reader.next()
        if part is None:
            break
        if not isinstance(part, BodyPartReader):
            raise field_error("(body)", "nested multipart bodies are not accepted")
        name = part.name or ""
        chunks: list[bytes] = []
        while True:
            chunk = await part.read_chunk(256 * 1024)
            if not chunk:
                break
            total += len(chunk)
            if total > limit:
                raise PayloadTooLarge(
                    message=f"the upload is larger than {limit} bytes (see --max-upload-mb)",
                    max_bytes=limit,
                )
            chunks.append(chunk)
        data = b"".join(chunks)
        if name == "metadata":
            try:
                metadata = data.decode("utf-8")
            except UnicodeDecodeError:
                raise field_error("metadata", "the metadata part is not UTF-8 text") from None
        else:  # a part without a name is checked like any other name (it is not file0..N)
            if name in parts:
                raise field_error(short(name, 64), "this part name appears twice")
            parts[name] = (part.filename, part.headers.get("Content-Type"), data)
    return metadata, parts


def _bad_file_name(name: str) -> str | None:
    if "/" in name or "\\" in name:
        return "a file name cannot contain / or \\"
    if name in (".", "..") or ".." in name.split("."):
        return "a file name cannot be . or .. or contain .."
    if "\x00" in name or any(ord(c) < 32 for c in name):
        return "a file name cannot contain NUL or control characters"
    if not name.strip():
        return "a file name cannot be empty"
    if len(name) > 255:
        return f"a file name has at most 255 characters, got {len(name)}"
    return None


def _form_specs(
    meta: FormMetadata, parts: dict[str, tuple[str | None, str | None, bytes]]
) -> tuple[list[FileSpec], list[str]]:
    """Match metadata entries to file parts; entries without a part and parts with a name
    other than file0..N are errors."""
    by_part: dict[str, FormFileMetadata] = {}
    for i, entry in enumerate(meta.files or []):
        if entry.partName in by_part:
            raise field_error(f"metadata.files.{i}.partName", "named twice")
        if entry.partName not in parts:
            raise field_error(
                f"metadata.files.{i}.partName",
                f"no form part named {short(entry.partName, 64)!r}; "
                f"parts sent: {', '.join(sorted(parts)) or 'none'}",
            )
        by_part[entry.partName] = entry
    specs: list[FileSpec] = []
    names: list[str] = []
    for name in sorted(parts, key=_part_order):
        if _part_order(name) == (1, 0, name):
            raise field_error(short(name, 64), "file parts are named file0, file1, ...")
        filename, content_type, data = parts[name]
        found = by_part.get(name)
        file_name = found.fileName if found else (filename or name)
        problem = _bad_file_name(file_name)
        if problem:
            raise field_error(f"{short(name, 64)}.fileName", problem)
        if found and found.sha256 and hashlib.sha256(data).hexdigest() != found.sha256:
            raise Unprocessable(
                code="integrity_error",
                message=f"the bytes of part {name} do not match its declared sha256",
                fields={"documentField": "sha256", "partName": name},
            )
        specs.append(
            FileSpec(
                file_name=file_name,
                size=len(data),
                content_type=(found.contentType if found else content_type) or "application/pdf",
                classification=found.classification if found else None,
                sha256=found.sha256 if found else None,
            )
        )
        names.append(name)
    return specs, names


def _part_order(name: str) -> tuple[int, int, str]:
    digits = name[4:]
    # ASCII digits only: "file²" is isdigit() but not int()-able
    if name.startswith("file") and digits.isascii() and digits.isdigit() and len(name) <= 8:
        return (0, int(digits), name)
    return (1, 0, name)


# --------------------------------------------------------------------------- registered uploads


def _new_upload_id() -> str:
    return "upl_" + "".join(secrets.choice(_ID_ALPHABET) for _ in range(26))


async def register_uploads(request: web.Request, principal: Principal) -> web.Response:
    """POST /jobs/{jobId}/uploads."""
    state = request.app[STATE_KEY]
    storage = state.storage
    job = get_job_for(request, principal, request.match_info["jobId"])
    body = await read_json(request, RegisterUploadsRequest, limit=JSON_BODY_LIMIT)
    if len(body.files) > MAX_FILES:
        raise Unprocessable(
            code="limit_exceeded",
            message=f"{len(body.files)} files in one registration; a job holds at most "
            f"{MAX_FILES} files (nothing was registered)",
            fields={"limit": "maxFiles", "maxFiles": MAX_FILES},
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
        added = state.engine.add_files(job, specs, status=FileStatus.PENDING)
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


def registration(storage: Storage, job: Job, document_id: str, field: str) -> Registration:
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
    raise document_not_found(job, document_id, field)


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
        raise document_not_found(job, document_id, "documentId")
    raise Conflict(
        code="wrong_upload_mode",
        message=f"document {document_id} {how}; base64 content is accepted only for documents "
        f"registered as direct_put ({fix})",
        current_status=job.state,
        fields={"uploadMode": "multipart" if reg is not None else "form"},
    )


def _stored_by_form(job: Job, document_id: str) -> bool:
    """Whether `document_id` is a file of `job` that has no registration (a form upload's)."""
    return any(f.document_id == document_id for f in job.files)


def document_not_found(job: Job, document_id: str, field: str) -> NotFound:
    return NotFound(
        code="document_not_found",
        message=f"{field}: no document {short(document_id)} in job {job.id}",
        fields={"documentId": short(document_id), "field": field},
    )


def _file_of(job: Job, reg: Registration) -> JobFile:
    for f in job.files:
        if f.id == reg.file_id:
            return f
    raise document_not_found(job, reg.document_id, "documentId")


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


async def upload_content(request: web.Request, principal: Principal) -> web.Response:
    """POST /jobs/{jobId}/uploads/{documentId}/content (direct_put documents only)."""
    state = request.app[STATE_KEY]
    storage = state.storage
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
    require_upload_window(job)  # its CommandRejected is answered 409 by the middleware
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


ENDPOINTS = [
    Endpoint(
        "POST", P + "/jobs/{jobId}/files", upload_files, "uploadFiles",
        "Form upload: a metadata part (JSON string) and file parts file0..N",
        200, FormUploadResponse, scope=WRITE, errors=(404, 409, 413, 415, 422),
        body=FormMetadata, body_kind="multipart", body_required=True,
    ),
    Endpoint(
        "POST", P + "/jobs/{jobId}/uploads", register_uploads, "registerUploads",
        "Register 1-100 files (exact size, sha256); answers an upload instruction each",
        200, RegisterUploadsResponse, scope=WRITE, errors=(404, 409),
        body=RegisterUploadsRequest, body_kind="json", body_required=True,
    ),
    Endpoint(
        "POST", P + "/jobs/{jobId}/uploads/{documentId}/content", upload_content,
        "uploadRegisteredFile", "The bytes of a registered direct_put document, as base64",
        200, UploadContentResponse, scope=WRITE, errors=(404, 409),
        body=UploadContentRequest, body_kind="json", body_required=True,
    ),
]  # fmt: skip
