"""What the accounts tests share: fast Argon2 settings, a settable clock, valid credit codes, an audit list."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from jnx.codesets.validators import uscc_check_char
from jnx.settings import AccountSettings

T0 = dt.datetime(2026, 12, 7, 8, 0, tzinfo=dt.UTC)
GOOD_PASSWORD = "Jining#2026a"


def uscc(first17: str) -> str:
    """A valid 统一社会信用代码 with these first 17 characters."""
    return first17 + uscc_check_char(first17)


DEPT_A = uscc("11370800004285591")
DEPT_B = uscc("11370811004186622")


def fast_settings(**changes: Any) -> AccountSettings:
    """The default rules with a cheap hash, so tests do not spend 150 ms per password."""
    return AccountSettings(argon2_time_cost=1, argon2_memory_kib=8, **changes)


@dataclass
class Clock:
    now: dt.datetime = T0

    def __call__(self) -> dt.datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += dt.timedelta(**delta)


@dataclass
class Notes:
    entries: list[tuple[str, str, str, dict[str, Any]]] = field(default_factory=list)

    def __call__(self, actor: str, action: str, subject: str, details: dict[str, Any]) -> None:
        self.entries.append((actor, action, subject, details))

    def actions(self) -> list[str]:
        return [entry[1] for entry in self.entries]
