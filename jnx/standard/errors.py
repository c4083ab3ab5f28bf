"""Errors of the data standard.

::

    StandardError (jnx.errors)
     ├── DictionaryError     the element dictionary itself is inconsistent (a shipping bug)
     └── RecordInvalid       a record breaks the standard; carries every issue found
    InputError (jnx.errors)
     └── UnusableInput       a file handed to the validator cannot be read at all
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from jnx.errors import InputError, StandardError

if TYPE_CHECKING:
    from jnx.standard.report import Issue


class DictionaryError(StandardError):
    """The data element dictionary is inconsistent: unknown code set, duplicate id, undefined element…"""

    exit_code = 3


class RecordInvalid(StandardError):
    """A record breaks the standard; ``issues`` lists every failing field."""

    def __init__(self, record_type: str, issues: Sequence[Issue]) -> None:
        self.record_type = record_type
        self.issues = tuple(issues)
        lines = "; ".join(issue.describe() for issue in self.issues)
        super().__init__(f"{record_type} record is invalid ({len(self.issues)} issue(s)): {lines}")


class UnusableInput(InputError):
    """The file cannot be read as records at all (malformed, too large, wrong encoding, a DTD…)."""
