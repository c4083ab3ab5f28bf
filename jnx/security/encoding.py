"""Base64url (RFC 7515 §2, no padding) and reading compact JOSE headers without trusting them."""

from __future__ import annotations

import binascii
import json
from dataclasses import dataclass
from typing import Any

_TO_STANDARD = bytes.maketrans(b"-_", b"+/")
_TO_URLSAFE = bytes.maketrans(b"+/", b"-_")
_PADDING = ("", "=", "==", "===")


def b64url(data: bytes) -> str:
    return binascii.b2a_base64(data, newline=False).rstrip(b"=").translate(_TO_URLSAFE).decode("ascii")


def b64url_decode(text: str) -> bytes:
    """Strict base64url: rejects padding, whitespace and characters outside the alphabet."""
    try:
        encoded = text.encode("ascii")
        standard = encoded.translate(_TO_STANDARD, b"+/=")  # deletes standard-alphabet and padding characters
        if len(standard) != len(encoded):
            raise ValueError("not base64url")
        return binascii.a2b_base64(standard + _PADDING[-len(standard) % 4].encode(), strict_mode=True)
    except (binascii.Error, ValueError) as exc:  # UnicodeEncodeError is a ValueError
        raise ValueError("not base64url") from exc


_CANONICAL = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode  # = json.dumps with these options


def canonical_json(data: Any) -> bytes:
    """Sorted keys, no spaces, UTF-8: the bytes a header or an audit entry is hashed over."""
    return _CANONICAL(data).encode("utf-8")


def split_compact(token: str | bytes, parts: int) -> list[str]:
    """Split a compact serialization into ``parts`` segments or raise ``ValueError``."""
    if isinstance(token, bytes):
        try:
            token = token.decode("ascii")
        except UnicodeDecodeError as exc:
            raise ValueError("compact serialization must be ASCII") from exc
    segments = token.strip().split(".")
    if len(segments) != parts:
        raise ValueError(f"expected {parts} dot-separated parts, found {len(segments)}")
    return segments


MAX_HEADER_CHARS = 16 * 1024  # a protected header of jnx's profiles is a few hundred characters
MAX_HEADER_DEPTH = 4  # {"epk": {...}} is depth 2; nothing legitimate nests deeper


def _depth(node: Any, limit: int) -> int:
    """How deep ``node`` nests (a scalar is 0), counting no further than ``limit`` + 1."""
    if limit < 0 or not isinstance(node, (dict, list)):
        return 0
    children = node.values() if isinstance(node, dict) else node
    return 1 + max((_depth(child, limit - 1) for child in children), default=0)


def read_header(segment: str) -> dict[str, Any]:
    """Decode a protected header segment into a JSON object (unverified), refusing one longer than
    ``MAX_HEADER_CHARS`` or nested deeper than ``MAX_HEADER_DEPTH``."""
    if len(segment) > MAX_HEADER_CHARS:
        raise ValueError(f"protected header longer than {MAX_HEADER_CHARS} characters")
    try:
        data = b64url_decode(segment)
        # json.loads(bytes) guesses the encoding from the first bytes: "{" and a non-zero second byte is
        # always UTF-8 (no BOM, not UTF-16/32), so decode it as json.loads would and skip the guess
        header = json.loads(data.decode("utf-8", "surrogatepass") if data[:1] == b"{" and data[1:2] not in (b"", b"\x00")
                            else data)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise ValueError("protected header is not base64url JSON") from exc
    if not isinstance(header, dict):
        raise ValueError("protected header is not a JSON object")
    if _depth(header, MAX_HEADER_DEPTH) > MAX_HEADER_DEPTH:
        raise ValueError(f"protected header nests deeper than {MAX_HEADER_DEPTH} levels")
    return header


@dataclass(frozen=True)
class Compact:
    """A compact JWS (3 parts) or JWE (5 parts), split once, with its decoded (unverified) header."""

    segments: tuple[str, ...]
    header: dict[str, Any]

    @classmethod
    def parse(cls, token: str | bytes, parts: int) -> Compact:
        """Raises ``ValueError`` when ``token`` is not ``parts`` base64url segments with a JSON header."""
        segments = split_compact(token, parts)
        return cls(tuple(segments), read_header(segments[0]))
