"""Errors of the code sets, below :class:`jnx.errors.CodeSetError`."""

from __future__ import annotations

from jnx.errors import CodeSetError


class UnknownCodeError(CodeSetError):
    """A value is not a code of a set (or not in force on the date asked for).

    Raised where a caller needs the entry itself (``CodeSet.resolve``, ``resolve_region``); checks
    that only judge a value return a :class:`~jnx.codesets.validators.Verdict` instead.
    """

    exit_code = 1

    def __init__(self, codeset: str, value: str, rule: str, reason: str) -> None:
        super().__init__(f"{reason} [{rule}]", hint=f"see the codes with `jnx codesets show {codeset}`")
        self.codeset = codeset
        self.value = value
        self.rule = rule
        self.reason = reason
