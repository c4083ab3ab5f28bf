"""Password rules and hashing (Argon2id through argon2-cffi). Pure: no database, no clock.

The rules come from :class:`jnx.settings.AccountSettings`: length, character classes, not the
username, not one of the last N, a maximum age. The hash cost is set so a login takes 50–250 ms on
the target machine (``benchmarks/bench_login.py`` prints it).
"""

from __future__ import annotations

import datetime as dt
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from argon2 import PasswordHasher, Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from jnx.settings import AccountSettings


@dataclass(frozen=True)
class PasswordPolicy:
    min_length: int = 8
    min_classes: int = 3
    history: int = 5
    max_age_days: int = 90

    @classmethod
    def from_settings(cls, settings: AccountSettings) -> PasswordPolicy:
        return cls(
            min_length=settings.password_min_length,
            min_classes=settings.password_min_classes,
            history=settings.password_history,
            max_age_days=settings.password_max_age_days,
        )


def character_classes(password: str) -> set[str]:
    """Which of lower, upper, digit and other the password uses (any script's letters count by case)."""
    classes: set[str] = set()
    for char in password:
        if char.islower():
            classes.add("lower")
        elif char.isupper():
            classes.add("upper")
        elif char.isdigit():
            classes.add("digit")
        else:
            classes.add("other")
    return classes


def rule_problems(password: str, *, username: str, policy: PasswordPolicy) -> list[str]:
    """Each rule the password breaks, as a sentence; empty when it is acceptable (history aside)."""
    problems: list[str] = []
    if len(password) < policy.min_length:
        problems.append(f"at least {policy.min_length} characters are needed (it has {len(password)})")
    used = character_classes(password)
    if len(used) < policy.min_classes:
        problems.append(
            f"characters from at least {policy.min_classes} of lower case, upper case, digits and others are needed "
            f"(it has {len(used)})"
        )
    folded = unicodedata.normalize("NFKC", password).casefold()
    name = username.casefold()
    if name and (folded in (name, name[::-1]) or (len(name) >= 4 and (name in folded or name[::-1] in folded))):
        problems.append("it may not be or contain the username")
    return problems


def is_expired(changed_at: dt.datetime | None, now: dt.datetime, policy: PasswordPolicy) -> bool:
    """Whether a password set at ``changed_at`` must be changed now (never set counts as expired)."""
    if changed_at is None:
        return True
    if policy.max_age_days <= 0:
        return False
    return now - changed_at >= dt.timedelta(days=policy.max_age_days)


class Hasher:
    """Argon2id hashes of passwords at a set cost; verifies hashes of any earlier cost too."""

    def __init__(self, *, time_cost: int = 3, memory_kib: int = 65536, parallelism: int = 1) -> None:
        self._hasher = PasswordHasher(
            time_cost=time_cost, memory_cost=memory_kib, parallelism=parallelism, hash_len=32, salt_len=16, type=Type.ID
        )

    @classmethod
    def from_settings(cls, settings: AccountSettings) -> Hasher:
        return cls(
            time_cost=settings.argon2_time_cost, memory_kib=settings.argon2_memory_kib, parallelism=settings.argon2_parallelism
        )

    def hash(self, password: str) -> str:
        return self._hasher.hash(password)

    def verify(self, stored: str | None, password: str) -> bool:
        if not stored:
            return False
        try:
            return self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True

    def burn(self, password: str) -> None:
        """Spend the time of one verification, so an unknown username answers as slowly as a known one."""
        self.verify(_DUMMY.get(self), password)

    def matches_any(self, stored: Iterable[str], password: str) -> bool:
        return any(self.verify(h, password) for h in stored)


class _DummyHashes:
    def __init__(self) -> None:
        self._by_hasher: dict[int, str] = {}

    def get(self, hasher: Hasher) -> str:
        key = id(hasher)
        if key not in self._by_hasher:
            self._by_hasher[key] = hasher.hash("jnx-no-such-user")
        return self._by_hasher[key]


_DUMMY = _DummyHashes()
