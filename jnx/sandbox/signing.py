"""The case-handling system's request signature (docs/source-shapes.md §2, "Signing"):
HMAC-SHA256 with the app secret over method, path, sorted query, timestamp and nonce.

Both sides are here: :func:`sign` builds the headers a client sends (tests use it; an adapter may
implement the same few lines itself), :class:`SignatureVerifier` checks them on the server.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import threading
import time
from collections.abc import Mapping
from urllib.parse import quote

MAX_SKEW_S = 300
NONCE_TTL_S = 600
_NONCE = re.compile(r"^[A-Za-z0-9_-]{8,64}$")


def canonical_query(query: Mapping[str, list[str]] | Mapping[str, str]) -> str:
    pairs: list[tuple[str, str]] = []
    for name, values in query.items():
        for value in [values] if isinstance(values, str) else values:
            pairs.append((name, value))
    return "&".join(f"{quote(k, safe='-_.~')}={quote(v, safe='-_.~')}" for k, v in sorted(pairs))


def string_to_sign(method: str, path: str, query: Mapping[str, list[str]] | Mapping[str, str], timestamp: str, nonce: str) -> str:
    return "\n".join((method.upper(), path, canonical_query(query), timestamp, nonce))


def signature(secret: str, method: str, path: str, query: Mapping[str, list[str]] | Mapping[str, str],
              timestamp: str, nonce: str) -> str:
    message = string_to_sign(method, path, query, timestamp, nonce).encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def sign(app_key: str, secret: str, method: str, path: str, query: Mapping[str, str] | None = None,
         *, timestamp_ms: int | None = None, nonce: str | None = None) -> dict[str, str]:
    """Headers for one signed request."""
    ts = str(timestamp_ms if timestamp_ms is not None else int(time.time() * 1000))
    nonce = nonce or secrets.token_hex(16)
    return {"X-App-Key": app_key, "X-Timestamp": ts, "X-Nonce": nonce,
            "X-Signature": signature(secret, method, path, query or {}, ts, nonce)}


class SignatureError(Exception):
    def __init__(self, code: int, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


class SignatureVerifier:
    """Checks app key, timestamp window, nonce reuse and the signature; thread-safe."""

    def __init__(self, credentials: Mapping[str, str]) -> None:
        self._credentials = dict(credentials)
        self._seen: dict[str, float] = {}
        self._lock = threading.Lock()

    def verify(self, method: str, path: str, query: Mapping[str, list[str]], headers: Mapping[str, str]) -> str:
        app_key = headers.get("X-App-Key") or ""
        ts, nonce, given = headers.get("X-Timestamp") or "", headers.get("X-Nonce") or "", headers.get("X-Signature") or ""
        secret = self._credentials.get(app_key)
        if secret is None:
            raise SignatureError(40104, f"未知的 app key {app_key!r} (unknown app key)")
        if not ts.isdigit():
            raise SignatureError(40102, "X-Timestamp 缺失或不是毫秒时间戳 (missing or invalid timestamp)")
        now = time.time()
        if abs(now - int(ts) / 1000) > MAX_SKEW_S:
            raise SignatureError(40102, f"时间戳过期，允许误差 {MAX_SKEW_S} 秒 (stale timestamp)")
        if not _NONCE.match(nonce):
            raise SignatureError(40103, "X-Nonce 缺失或格式错误 (missing or invalid nonce)")
        expected = signature(secret, method, path, query, ts, nonce)
        if not hmac.compare_digest(expected, given.lower()):
            raise SignatureError(40101, "签名错误 (bad signature)")
        with self._lock:
            if len(self._seen) > 100_000:
                self._seen = {k: t for k, t in self._seen.items() if now - t < NONCE_TTL_S}
            seen_at = self._seen.get(f"{app_key}:{nonce}")
            if seen_at is not None and now - seen_at < NONCE_TTL_S:
                raise SignatureError(40103, "nonce 已使用 (reused nonce: replayed request)")
            self._seen[f"{app_key}:{nonce}"] = now
        return app_key
