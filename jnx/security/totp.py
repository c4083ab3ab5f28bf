"""Two-factor login: TOTP (RFC 6238, pyotp) and one-time recovery codes. Pure: the clock is passed in.

A code is accepted once: the time step it belongs to is remembered (``last_step``) and a code of
that step or an earlier one is refused, so a code seen over a shoulder cannot be replayed.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets

import pyotp

DIGITS = 6
INTERVAL = 30
WINDOW = 1  # one step either side, for clocks a little apart
RECOVERY_CODES = 10
ISSUER = "jnx 济宁执法监督"


def new_secret() -> str:
    return pyotp.random_base32(length=32)


def provisioning_uri(secret: str, username: str) -> str:
    """The ``otpauth://`` URI an authenticator app reads (as a QR code or typed in)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).provisioning_uri(name=username, issuer_name=ISSUER)


def code_at(secret: str, at: dt.datetime) -> str:
    """The code an authenticator shows at ``at`` (tests, and enrolment checks)."""
    return pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL).at(at)


def matching_step(secret: str, code: str, at: dt.datetime, *, last_step: int | None) -> int | None:
    """The time step ``code`` belongs to if it is right at ``at`` and newer than ``last_step``, else None."""
    code = code.strip().replace(" ", "")
    if len(code) != DIGITS or not code.isdigit():
        return None
    totp = pyotp.TOTP(secret, digits=DIGITS, interval=INTERVAL)
    now_step = int(at.timestamp()) // INTERVAL
    for step in range(now_step - WINDOW, now_step + WINDOW + 1):
        if last_step is not None and step <= last_step:
            continue
        if secrets.compare_digest(totp.generate_otp(step), code):
            return step
    return None


def new_recovery_codes(count: int = RECOVERY_CODES) -> list[str]:
    """Codes shown once to the user: ``xxxx-xxxx-xxxx`` from an unambiguous alphabet (60 bits each)."""
    alphabet = "abcdefghjkmnpqrstuvwxyz23456789"
    return ["-".join("".join(secrets.choice(alphabet) for _ in range(4)) for _ in range(3)) for _ in range(count)]


def recovery_code_hash(code: str) -> str:
    """How a recovery code is stored: SHA-256 of its normalised form (the codes are random, 60 bits)."""
    normal = code.strip().lower().replace(" ", "")
    return hashlib.sha256(normal.encode("ascii", "ignore")).hexdigest()


def looks_like_recovery_code(code: str) -> bool:
    return len(code.strip().replace("-", "").replace(" ", "")) == 12
