"""Signed storage: URL signing (pure), the store of registrations and download tokens, and its
routes."""

from __future__ import annotations

from .signing import Signer, TokenRejected
from .store import (
    CHECKSUM_HEADER,
    DEFAULT_MULTIPART_THRESHOLD,
    DEFAULT_PART_SIZE,
    DEFAULT_UPLOAD_URL_TTL,
    DOWNLOAD_TOKEN_TTL,
    MAX_PARTS,
    STORAGE_PREFIX,
    DownloadToken,
    DownloadTokens,
    PartRecord,
    Registration,
    Storage,
    StorageSettings,
    UploadMode,
    expected_part_size,
    part_count,
    sha256_b64,
)

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
    "Signer",
    "Storage",
    "StorageSettings",
    "TokenRejected",
    "UploadMode",
    "expected_part_size",
    "part_count",
    "sha256_b64",
]
