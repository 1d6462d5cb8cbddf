"""The mock's signed storage: upload URLs, part URLs and result URLs under `/_mock/storage/...`.

Plangrep hands out pre-signed storage URLs; the mock points them at itself (API.md part B, "signed
storage URLs"). A storage request carries its token in the URL, never a bearer key:

- `token=<expires>.<signature>`: `expires` is a whole virtual epoch second, the signature an
  HMAC-SHA256 (base64url) over the URL path and `expires` with a random per-server key. A token
  whose signature does not match the path (forged, altered, another job's or document's) is
  **403 `token_invalid`**; a genuine token past its `expires` is **403 `token_expired`** (S3
  answers both with 403 as well; the codes tell them apart).
- `uploadToken` (`upt_...`): proves a document's registration; it does not expire and is checked
  by the base64 content route and by complete (`directUploads`).

Upload bytes are streamed and hashed, not kept: a direct PUT or a multipart part may not be
longer than its declared size, and its size and sha256 are checked (422 `integrity_error` naming
`size` or `sha256`). The whole-file sha256 of a multipart upload is folded in part order; a part
that arrives before an earlier one is held in memory until the gap closes, and such a part may be
at most `--max-upload-mb` (else 413). Expiry is virtual time, like every other timestamp.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from aiohttp import web
from pydantic import BaseModel, Field

from statemachine import format_time

from .auth import JOB_ID_KEY
from .errors import ApiError, conflict, json_response, short
from .models import read_chunk
from .state import STATE_KEY, MockState

if TYPE_CHECKING:
    from hashlib import _Hash

    from statemachine.engine import Job, JobFile

__all__ = [
    "CHECKSUM_HEADER",
    "DEFAULT_MULTIPART_THRESHOLD",
    "DEFAULT_PART_SIZE",
    "DEFAULT_UPLOAD_URL_TTL",
    "MAX_PARTS",
    "STORAGE_KEY",
    "STORAGE_PREFIX",
    "PartPutResponse",
    "PartRecord",
    "Registration",
    "Storage",
    "StorageSettings",
    "UploadMode",
    "UploadPutResponse",
    "check_sha256",
    "expected_part_size",
    "integrity_error",
    "part_count",
    "result_url",
    "setup_storage",
    "sha256_b64",
]

STORAGE_PREFIX = "/_mock/storage"
CHECKSUM_HEADER = "x-amz-checksum-sha256"
DEFAULT_MULTIPART_THRESHOLD = 5_000_000_000  # files declared over 5 GB get multipart
DEFAULT_PART_SIZE = 100_000_000  # 100 MB parts
DEFAULT_UPLOAD_URL_TTL = 3600.0  # virtual seconds an upload or part URL stays valid
MAX_PARTS = 10_000
_CHUNK = 1 << 16

UploadMode = Literal["direct_put", "multipart"]


# --------------------------------------------------------------------------- settings


@dataclass(frozen=True, slots=True)
class StorageSettings:
    """Sizes and lifetimes of the registered upload flow.

    The defaults are Plangrep's. Tests and embedders lower them (so a multipart upload does not
    need gigabytes) by assigning `app[STORAGE_KEY].settings` before the server starts, or through
    `MockConfig` fields `multipart_threshold_bytes`, `multipart_part_size_bytes`, `upload_url_ttl`
    when the configuration has them.
    """

    multipart_threshold: int = DEFAULT_MULTIPART_THRESHOLD
    part_size: int = DEFAULT_PART_SIZE
    upload_url_ttl: float = DEFAULT_UPLOAD_URL_TTL

    def __post_init__(self) -> None:
        if self.multipart_threshold < 0:
            raise ValueError(
                f"multipart_threshold_bytes must be >= 0, got {self.multipart_threshold}"
            )
        if self.part_size < 1:
            raise ValueError(f"multipart_part_size_bytes must be >= 1, got {self.part_size}")
        if not (math.isfinite(self.upload_url_ttl) and self.upload_url_ttl > 0):
            raise ValueError(f"upload_url_ttl must be > 0 seconds, got {self.upload_url_ttl}")

    @classmethod
    def from_config(cls, config: object) -> StorageSettings:
        """Settings from optional `MockConfig` fields of the same names; absent fields keep
        Plangrep's values."""

        def number(name: str, default: float) -> float:
            value = getattr(config, name, None)
            if value is None:
                return default
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ValueError(f"{name} must be a number, got {value!r}")
            return value

        return cls(
            multipart_threshold=int(
                number("multipart_threshold_bytes", DEFAULT_MULTIPART_THRESHOLD)
            ),
            part_size=int(number("multipart_part_size_bytes", DEFAULT_PART_SIZE)),
            upload_url_ttl=float(number("upload_url_ttl", DEFAULT_UPLOAD_URL_TTL)),
        )


def part_count(size: int, part_size: int) -> int:
    return max(1, -(-size // part_size))


def expected_part_size(size: int, part_size: int, number: int) -> int:
    """Bytes of part `number` (1-based): `part_size`, the last part the rest."""
    count = part_count(size, part_size)
    return part_size if number < count else size - (count - 1) * part_size


def sha256_b64(hex_digest: str) -> str:
    """The base64 form of a hex sha256, as the `x-amz-checksum-sha256` header carries it."""
    return base64.b64encode(bytes.fromhex(hex_digest)).decode("ascii")


# --------------------------------------------------------------------------- responses (OpenAPI)


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


# --------------------------------------------------------------------------- records


@dataclass(slots=True)
class PartRecord:
    number: int
    size: int
    sha256: str
    etag: str


@dataclass(slots=True)
class Registration:
    """A registered document and what storage holds of it."""

    job_id: str
    document_id: str
    file_id: str
    mode: UploadMode
    file_name: str
    size: int
    sha256: str
    content_type: str
    upload_token: str
    expires: int
    upload_id: str | None = None
    part_size: int = 0
    stored: bool = False
    etag: str | None = None
    parts: dict[int, PartRecord] = field(default_factory=dict)
    folded: int = 0  # parts 1..folded are hashed into `hasher`, in order
    pending: dict[int, bytes] = field(default_factory=dict)  # out-of-order parts, held
    hasher: _Hash = field(default_factory=hashlib.sha256)

    @property
    def part_count(self) -> int:
        return part_count(self.size, self.part_size) if self.mode == "multipart" else 1

    def reset_parts(self) -> None:
        self.parts.clear()
        self.pending.clear()
        self.folded = 0
        self.hasher = hashlib.sha256()

    def release(self) -> None:
        """Drop held part bytes (the upload window closed)."""
        self.pending.clear()


# --------------------------------------------------------------------------- the store


def _url_message(path: str, expires: int) -> str:
    return f"url\n{path}\n{expires}"


class Storage:
    """Signing keys, registrations and the origin the signed URLs point at."""

    def __init__(self, settings: StorageSettings | None = None, key: bytes | None = None) -> None:
        self.settings = settings or StorageSettings()
        self._key = key or secrets.token_bytes(32)
        self.registrations: dict[str, Registration] = {}  # by document id
        self.origin: str | None = None

    # signing ---------------------------------------------------------------

    def _mac(self, message: str) -> str:
        digest = hmac.new(self._key, message.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def sign(self, path: str, expires: int) -> str:
        """The token of a storage URL: `<expires>.<signature over path and expires>`."""
        return f"{expires}.{self._mac(_url_message(path, expires))}"

    def verify(self, path: str, token: str | None, now: float) -> None:
        """403 `token_invalid` unless the token was signed for this path; 403 `token_expired`
        once its expiry (virtual time) has passed."""
        if not token:
            raise _forbidden(
                "token_invalid",
                "this storage URL has no token; use the URL exactly as the API returned it "
                "(storage URLs carry ?token=..., not a bearer key)",
            )
        expires_text, dot, signature = token.partition(".")
        if not dot or not expires_text.isdigit() or len(expires_text) > 12:
            raise _forbidden(
                "token_invalid",
                "the storage token is malformed; use the URL exactly as the API returned it",
            )
        expires = int(expires_text)
        if not hmac.compare_digest(signature, self._mac(_url_message(path, expires))):
            raise _forbidden(
                "token_invalid",
                f"the storage token was not issued for {short(path)}; tokens are bound to "
                "their job, document, part and expiry; use the URL exactly as returned",
            )
        if now > expires:
            raise _forbidden(
                "token_expired",
                f"this storage URL expired at {format_time(expires)} (now "
                f"{format_time(now)}); register the file again for a fresh URL",
                expiredAt=format_time(expires),
            )

    def upload_token(self, job_id: str, document_id: str) -> str:
        return "upt_" + self._mac(f"upload-token\n{job_id}\n{document_id}")[:32]

    def check_upload_token(self, reg: Registration, token: str) -> bool:
        return hmac.compare_digest(token.encode("utf-8"), reg.upload_token.encode("utf-8"))

    def url(self, path: str, expires: int) -> str:
        return f"{self.origin or ''}{path}?token={self.sign(path, expires)}"

    # paths -----------------------------------------------------------------

    @staticmethod
    def upload_path(job_id: str, document_id: str) -> str:
        return f"{STORAGE_PREFIX}/uploads/{job_id}/{document_id}"

    @staticmethod
    def part_path(job_id: str, document_id: str, upload_id: str, number: int) -> str:
        return f"{STORAGE_PREFIX}/multipart/{job_id}/{document_id}/{upload_id}/{number}"

    @staticmethod
    def result_path(job_id: str) -> str:
        return f"{STORAGE_PREFIX}/results/{job_id}"

    # registrations ---------------------------------------------------------

    def register(
        self,
        *,
        job_id: str,
        document_id: str,
        file_id: str,
        file_name: str,
        size: int,
        sha256: str,
        content_type: str,
        now: float,
        upload_id: str,
    ) -> Registration:
        multipart = size > self.settings.multipart_threshold
        # at most MAX_PARTS parts (S3's limit): small configured part sizes grow for big files
        part_size = max(self.settings.part_size, -(-size // MAX_PARTS))
        reg = Registration(
            job_id=job_id,
            document_id=document_id,
            file_id=file_id,
            mode="multipart" if multipart else "direct_put",
            file_name=file_name,
            size=size,
            sha256=sha256,
            content_type=content_type,
            upload_token=self.upload_token(job_id, document_id),
            expires=math.ceil(now + self.settings.upload_url_ttl),
            upload_id=upload_id if multipart else None,
            part_size=part_size if multipart else 0,
        )
        self.registrations[document_id] = reg
        return reg

    def get(self, job_id: str, document_id: str) -> Registration | None:
        reg = self.registrations.get(document_id)
        return reg if reg is not None and reg.job_id == job_id else None

    def instruction(self, reg: Registration) -> dict[str, Any]:
        """The UploadInstruction of a registered document (API.md part A, "Register")."""
        out: dict[str, Any] = {
            "documentId": reg.document_id,
            "uploadMode": reg.mode,
            "uploadToken": reg.upload_token,
            "expiresAt": format_time(reg.expires),
        }
        if reg.mode == "direct_put":
            out["uploadUrl"] = self.url(self.upload_path(reg.job_id, reg.document_id), reg.expires)
            out["headers"] = {
                "Content-Type": reg.content_type,
                CHECKSUM_HEADER: sha256_b64(reg.sha256),
            }
            return out
        assert reg.upload_id is not None
        out["uploadId"] = reg.upload_id
        out["partSize"] = reg.part_size
        out["parts"] = [
            {
                "partNumber": n,
                "size": expected_part_size(reg.size, reg.part_size, n),
                "url": self.url(
                    self.part_path(reg.job_id, reg.document_id, reg.upload_id, n), reg.expires
                ),
            }
            for n in range(1, reg.part_count + 1)
        ]
        return out

    def result_url(self, job: Job) -> str:
        """A signed URL serving the job's result; valid until the job's `expiresAt`, so the
        URL (and the result that contains it) never changes."""
        return self.url(self.result_path(job.id), math.ceil(job.expires_at))

    def release_job(self, job_id: str) -> None:
        for reg in self.registrations.values():
            if reg.job_id == job_id:
                reg.release()

    def clear(self) -> None:
        self.registrations.clear()


STORAGE_KEY: web.AppKey[Storage] = web.AppKey("plangrep_mock_storage", Storage)


def result_url(state: MockState, job: Job) -> str:
    """`resultUrl` of a completed job (the hook `serialize.job_json` calls via
    `state.result_url`); empty string when storage is not set up."""
    if state.result_url is None:
        return ""
    return state.result_url(state, job)


# --------------------------------------------------------------------------- errors


def _forbidden(code: str, message: str, **extra: Any) -> ApiError:
    return ApiError(403, code, message, **extra)


def integrity_error(
    reg: Registration,
    what: Literal["size", "sha256", "part"],
    message: str,
    *,
    expected: object = None,
    received: object = None,
    part_number: int | None = None,
) -> ApiError:
    """422 `integrity_error` naming which check failed (`field`: size, sha256 or part)."""
    extra: dict[str, Any] = {"field": what, "documentId": reg.document_id}
    if expected is not None:
        extra["expected"] = expected
    if received is not None:
        extra["received"] = received
    if part_number is not None:
        extra["partNumber"] = part_number
    return ApiError(422, "integrity_error", message, **extra)


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


def _missing_header(name: str, value: str) -> ApiError:
    return ApiError(
        422,
        "validation_error",
        f"the required header {name} is missing; send the headers listed in the upload "
        f"instruction ({name}: {value})",
        details=[{"field": f"headers.{name}", "message": "required header missing"}],
    )


# --------------------------------------------------------------------------- handlers


def _state_and_storage(request: web.Request) -> tuple[MockState, Storage]:
    return request.app[STATE_KEY], request.app[STORAGE_KEY]


def _registration_for(
    request: web.Request, state: MockState, storage: Storage
) -> tuple[Registration, Job]:
    job_id = request.match_info["jobId"]
    document_id = request.match_info["documentId"]
    request[JOB_ID_KEY] = job_id
    reg = storage.get(job_id, document_id)
    job = state.engine.jobs.get(job_id)
    if reg is None or job is None:
        raise ApiError(
            404,
            "document_not_found",
            f"no registered document {short(document_id)} on job {short(job_id)}; "
            "register the file with POST /jobs/{jobId}/uploads",
        )
    if job.state not in ("awaiting_uploads", "uploading"):
        raise conflict(
            "uploads_closed",
            f"job {job.id} is {job.state}; storage accepts bytes only while the job is "
            "awaiting_uploads or uploading",
            job.state,
        )
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
    storage.verify(request.path, request.query.get("token"), state.engine.now)
    reg, job = _registration_for(request, state, storage)
    if reg.mode != "direct_put":  # unreachable with a genuine token; kept for safety
        raise ApiError(422, "validation_error", f"{reg.document_id} is a multipart upload")
    raw_type = request.headers.get("Content-Type")
    if raw_type is None:
        raise _missing_header("Content-Type", reg.content_type)
    mime = raw_type.split(";", 1)[0].strip().lower()
    if mime != reg.content_type.split(";", 1)[0].strip().lower():
        raise ApiError(
            422,
            "validation_error",
            f"Content-Type is {short(mime, 60)!r} but {reg.document_id} was registered as "
            f"{reg.content_type!r}; send the headers listed in the upload instruction",
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
    storage.verify(request.path, request.query.get("token"), state.engine.now)
    reg, job = _registration_for(request, state, storage)
    number_text = request.match_info["partNumber"]
    if (
        reg.mode != "multipart"
        or reg.upload_id != request.match_info["uploadId"]
        or not number_text.isdigit()
        or not 1 <= int(number_text) <= reg.part_count
    ):  # unreachable with a genuine token; kept for safety
        raise ApiError(404, "not_found", "no such part of a multipart upload")
    number = int(number_text)
    expected = expected_part_size(reg.size, reg.part_size, number)
    _check_length(request, reg, expected, number)
    in_order = number == reg.folded + 1
    keep = not in_order and number > reg.folded
    if keep and expected > state.config.max_body_bytes:
        raise ApiError(
            413,
            "payload_too_large",
            f"part {number} of {reg.document_id} arrived before part {reg.folded + 1}; the mock "
            f"holds out-of-order parts in memory, up to {state.config.max_body_bytes} bytes "
            "each (--max-upload-mb); upload the parts in order",
            maxBytes=state.config.max_body_bytes,
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
    from .results import require_result, result_document

    state, storage = _state_and_storage(request)
    storage.verify(request.path, request.query.get("token"), state.engine.now)
    job_id = request.match_info["jobId"]
    request[JOB_ID_KEY] = job_id
    job = state.engine.jobs.get(job_id)
    if job is None:
        raise ApiError(404, "job_not_found", f"no job {short(job_id)} (the mock was reset?)")
    require_result(job)
    return json_response(result_document(state, job))


def _job_file(job: Job, reg: Registration) -> JobFile:
    for f in job.files:
        if f.id == reg.file_id:
            return f
    raise ApiError(404, "document_not_found", f"document {reg.document_id} is not on {job.id}")


@web.middleware
async def _origin_middleware(request: web.Request, handler: Any) -> web.StreamResponse:
    storage = request.app[STORAGE_KEY]
    if storage.origin is None:
        storage.origin = f"{request.scheme}://{request.host}"
    response: web.StreamResponse = await handler(request)
    return response


def setup_storage(app: web.Application, settings: StorageSettings | None = None) -> Storage:
    """Install the store, its routes and hooks: `state.result_url`, a reset hook, and the
    origin (learned from the first request unless set on `storage.origin` beforehand)."""
    state = app[STATE_KEY]
    storage = Storage(settings or StorageSettings.from_config(state.config))
    app[STORAGE_KEY] = storage
    state.result_url = lambda _state, job: storage.result_url(job)
    state.on_reset.append(lambda _state: storage.clear())

    def on_transition(record: Any, obj: Any) -> None:
        window = ("awaiting_uploads", "uploading")
        if record.kind == "job" and record.src in window and record.dst not in window:
            storage.release_job(record.object_id)

    state.subscribe(on_transition)
    app.middlewares.append(_origin_middleware)
    app.router.add_put(STORAGE_PREFIX + "/uploads/{jobId}/{documentId}", put_upload)
    app.router.add_put(
        STORAGE_PREFIX + "/multipart/{jobId}/{documentId}/{uploadId}/{partNumber}", put_part
    )
    app.router.add_get(STORAGE_PREFIX + "/results/{jobId}", get_result)
    return storage
