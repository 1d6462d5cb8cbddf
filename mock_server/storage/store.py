"""The mock's signed storage: registrations, upload and part URLs, result URLs (API.md part B,
"signed storage URLs"), and artifact download tokens (single use, 5 virtual minutes). Plangrep
hands out pre-signed storage URLs; the mock points them at itself under `/_mock/storage/...`. A
storage request carries its token in the URL, never a bearer key (`signing.py`); an
`uploadToken` (`upt_...`) proves a document's registration: it does not expire and is checked
by the base64 content route and by complete (`directUploads`, `multipartUploads`).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import math
import secrets
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Literal

from statemachine import format_time

from .signing import Signer

if TYPE_CHECKING:
    from hashlib import _Hash

    from statemachine import Job

__all__ = [
    "CHECKSUM_HEADER",
    "DEFAULT_MULTIPART_THRESHOLD",
    "DEFAULT_PART_SIZE",
    "DEFAULT_UPLOAD_URL_TTL",
    "DOWNLOAD_TOKEN_TTL",
    "MAX_PARTS",
    "STORAGE_PREFIX",
    "DownloadToken",
    "DownloadTokens",
    "PartRecord",
    "Registration",
    "Storage",
    "StorageSettings",
    "UploadMode",
    "expected_part_size",
    "part_count",
    "sha256_b64",
]

STORAGE_PREFIX = "/_mock/storage"
CHECKSUM_HEADER = "x-amz-checksum-sha256"
DEFAULT_MULTIPART_THRESHOLD = 5_000_000_000  # files declared over 5 GB get multipart
DEFAULT_PART_SIZE = 100_000_000  # 100 MB parts
DEFAULT_UPLOAD_URL_TTL = 3600.0  # virtual seconds an upload or part URL stays valid
MAX_PARTS = 10_000
DOWNLOAD_TOKEN_TTL = 300.0  # virtual seconds an artifact download token stays valid
_KEEP_TOKENS = 10_000  # beyond this, tokens past their expiry are forgotten when one is issued

UploadMode = Literal["direct_put", "multipart"]


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


@dataclass(slots=True)
class DownloadToken:
    """A short-lived, single-use credential for one artifact: of a job's result (`scope` job)
    or of a project's entities (`scope` project)."""

    token: str
    scope: Literal["job", "project"]
    owner_id: str  # the job's or the project's id
    path: str
    expires_at: float
    used_at: float | None = None


class DownloadTokens:
    """Issued artifact download tokens (`GET|HEAD /artifact-downloads/{token}`). How Plangrep
    issues them is not documented; the mock issues them through its control API."""

    def __init__(self, ttl: float = DOWNLOAD_TOKEN_TTL) -> None:
        self.ttl = ttl
        self._tokens: dict[str, DownloadToken] = {}

    def issue(
        self, scope: Literal["job", "project"], owner_id: str, path: str, now: float
    ) -> DownloadToken:
        if len(self._tokens) >= _KEEP_TOKENS:
            self._tokens = {k: t for k, t in self._tokens.items() if t.expires_at >= now}
        token = DownloadToken(
            "adt_" + secrets.token_urlsafe(24), scope, owner_id, path, now + self.ttl
        )
        self._tokens[token.token] = token
        return token

    def get(self, token: str) -> DownloadToken | None:
        return self._tokens.get(token)

    def __len__(self) -> int:
        return len(self._tokens)

    def clear(self) -> None:
        self._tokens.clear()


class Storage:
    """Signing keys, registrations, download tokens and the origin the signed URLs point at."""

    def __init__(self, settings: StorageSettings | None = None, key: bytes | None = None) -> None:
        self.settings = settings or StorageSettings()
        self.signer = Signer(key)
        self.registrations: dict[str, Registration] = {}  # by document id
        self.downloads = DownloadTokens()
        self.origin: str | None = None

    def upload_token(self, job_id: str, document_id: str) -> str:
        return "upt_" + self.signer.mac(f"upload-token\n{job_id}\n{document_id}")[:32]

    def verify(self, path: str, token: str | None, now: float, *, renew: str) -> None:
        """`Signer.verify` for this server's key (raises `TokenRejected`)."""
        self.signer.verify(path, token, now, renew=renew)

    def check_upload_token(self, reg: Registration, token: str) -> bool:
        return hmac.compare_digest(token.encode("utf-8"), reg.upload_token.encode("utf-8"))

    def url(self, path: str, expires: int) -> str:
        return f"{self.origin or ''}{path}?token={self.signer.sign(path, expires)}"

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
        self.downloads.clear()
