"""Request authentication for REST lines, as small ``requests`` auth classes built from config.

:class:`HmacSigner` signs like the case-handling system (docs/source-shapes.md § Signing): lower-case
hex HMAC-SHA256 with the app secret over ``METHOD\\nPATH\\nSORTED_QUERY\\nTIMESTAMP\\nNONCE``, the
timestamp in epoch milliseconds, the query sorted by name then value and RFC 3986 encoded. Each
attempt of a retried call is signed afresh (new timestamp and nonce).
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, quote, urlsplit

import requests
from requests.auth import AuthBase, HTTPBasicAuth

from jnx.adapters.config import (
    HmacAuthConfig,
    PasswordAuthConfig,
    SecretResolver,
    TokenAuthConfig,
    resolve_secret,
)


def sorted_query(query: str) -> str:
    pairs = sorted(parse_qsl(query, keep_blank_values=True))
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in pairs)


def string_to_sign(method: str, url: str, timestamp: str, nonce: str) -> str:
    parts = urlsplit(url)
    return "\n".join([method.upper(), parts.path or "/", sorted_query(parts.query), timestamp, nonce])


class HmacSigner(AuthBase):
    """App key + secret, HMAC-SHA256; the secret never leaves this object."""

    def __init__(
        self,
        config: HmacAuthConfig,
        secret: str,
        *,
        clock: Callable[[], float] = time.time,
        nonce: Callable[[], str] = lambda: secrets.token_hex(16),
    ) -> None:
        self._config = config
        self._secret = secret.encode()
        self._clock = clock
        self._nonce = nonce

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        timestamp = str(int(self._clock() * 1000))
        nonce = self._nonce()
        message = string_to_sign(request.method or "GET", request.url or "", timestamp, nonce)
        signature = hmac.new(self._secret, message.encode(), hashlib.sha256).hexdigest()
        c = self._config
        request.headers[c.app_key_header] = c.app_key
        request.headers[c.timestamp_header] = timestamp
        request.headers[c.nonce_header] = nonce
        request.headers[c.signature_header] = signature
        return request

    def __repr__(self) -> str:
        return f"HmacSigner(app_key={self._config.app_key!r})"


class TokenHeader(AuthBase):
    """A static token in a header (``Authorization: Bearer …``, ``X-Api-Token: …``)."""

    def __init__(self, config: TokenAuthConfig, token: str) -> None:
        self._header = config.header
        self._value = f"{config.prefix}{token}"

    def __call__(self, request: requests.PreparedRequest) -> requests.PreparedRequest:
        request.headers[self._header] = self._value
        return request

    def __repr__(self) -> str:
        return f"TokenHeader(header={self._header!r})"


def build_http_auth(
    config: HmacAuthConfig | PasswordAuthConfig | TokenAuthConfig | None, secrets_: SecretResolver
) -> AuthBase | None:
    """The requests auth for a REST line, secrets resolved now (fails early when one is missing)."""
    if config is None:
        return None
    if isinstance(config, HmacAuthConfig):
        return HmacSigner(config, resolve_secret(secrets_, config.secret))
    if isinstance(config, TokenAuthConfig):
        return TokenHeader(config, resolve_secret(secrets_, config.token))
    return HTTPBasicAuth(config.username, resolve_secret(secrets_, config.password))
