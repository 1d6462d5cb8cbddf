"""Signed URL tokens (pure: no HTTP): `<expires>.<HMAC-SHA256 over the path and expires>`.

`expires` is a whole virtual epoch second; the signature is base64url with a random per-server
key. A token whose signature does not match the path (forged, altered, another job's or
document's) is rejected as `token_invalid`; a genuine token past its `expires` as
`token_expired` (S3 answers both with 403 as well; the codes tell them apart).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from statemachine import format_time

__all__ = ["Signer", "TokenRejected"]


class TokenRejected(Exception):
    """A storage token that does not open this path: `code` is token_invalid or token_expired."""

    def __init__(self, *, code: str, message: str, expired_at: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.expired_at = expired_at


def _url_message(path: str, expires: int) -> str:
    return f"url\n{path}\n{expires}"


class Signer:
    """HMAC signatures with one random key per server."""

    def __init__(self, key: bytes | None = None) -> None:
        self._key = key or secrets.token_bytes(32)

    def mac(self, message: str) -> str:
        digest = hmac.new(self._key, message.encode("utf-8"), hashlib.sha256).digest()
        return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")

    def sign(self, path: str, expires: int) -> str:
        """The token of a storage URL: `<expires>.<signature over path and expires>`."""
        return f"{expires}.{self.mac(_url_message(path, expires))}"

    def verify(self, path: str, token: str | None, now: float, *, renew: str) -> None:
        """Raise `TokenRejected` unless the token was signed for this path and has not expired
        (virtual time). `renew` tells a client how to get a fresh URL."""
        if not token:
            raise TokenRejected(
                code="token_invalid",
                message="this storage URL has no token; use the URL exactly as the API "
                "returned it (storage URLs carry ?token=..., not a bearer key)",
            )
        expires_text, dot, signature = token.partition(".")
        if not dot or not expires_text.isdigit() or len(expires_text) > 12:
            raise TokenRejected(
                code="token_invalid",
                message="the storage token is malformed; use the URL exactly as the API "
                "returned it",
            )
        expires = int(expires_text)
        if not hmac.compare_digest(signature, self.mac(_url_message(path, expires))):
            shown = path if len(path) <= 80 else path[:80] + "..."
            raise TokenRejected(
                code="token_invalid",
                message=f"the storage token was not issued for {shown}; tokens are bound to "
                "their job, document, part and expiry; use the URL exactly as returned",
            )
        if now > expires:
            raise TokenRejected(
                code="token_expired",
                message=f"this storage URL expired at {format_time(expires)} (now "
                f"{format_time(now)}); {renew}",
                expired_at=format_time(expires),
            )
