"""Signed counter links and one-time tokens."""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

from flask import current_app


def _mac(purpose: str, value: str, length: int) -> str:
    key = current_app.config["SECRET_KEY"].encode()
    digest = hmac.new(key, f"{purpose}:{value}".encode(), hashlib.sha256).digest()[:length]
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def counter_signature(counter_code: str) -> str:
    """The signature printed in a counter's QR link (96 bits of HMAC-SHA256)."""
    return _mac("counter", counter_code, 12)


def valid_counter_signature(counter_code: str, signature: str | None) -> bool:
    if not signature or not signature.isascii():  # compare_digest refuses non-ASCII text
        return False
    return hmac.compare_digest(counter_signature(counter_code).encode(), signature.encode())


def external_url(endpoint: str, **values) -> str:
    """An absolute URL under BASE_URL, built with or without a request (CLI, QR codes)."""
    path = current_app.url_map.bind("localhost").build(endpoint, values)
    return current_app.config["BASE_URL"] + path


def counter_url(counter_code: str) -> str:
    """The full signed URL a counter's QR code opens."""
    return external_url("citizen.counter_form", counter_code=counter_code, s=counter_signature(counter_code))


def new_token() -> str:
    """A one-time interaction token with 128 bits of randomness."""
    return secrets.token_urlsafe(16)


def replayable_token(idempotency_hash: str) -> str:
    """The token of a link asked for with an Idempotency-Key: the same for a retried request, so that the
    retry is answered with it although the database keeps only the token's hash (128 bits of HMAC)."""
    return _mac("token", idempotency_hash, 16)


def token_hash(token: str) -> str:
    """The stored form of a one-time token: a fast hash is enough, its 128 bits cannot be guessed."""
    return hashlib.sha256(token.encode()).hexdigest()


def keyed_hash(purpose: str, value: str) -> str:
    """A hash of an identifier that cannot be reversed or recomputed without the secret key."""
    return _mac(purpose, value, 32)
