"""Errors of the mapping tables: a table that cannot be loaded, a version that cannot be published,
a table that does not exist, a sample file that cannot be read.

::

    MappingError (jnx.errors)
     ├── MappingTableError     the table file is wrong: every problem with file:line:reason
     ├── PublishedVersionError  name@version exists with other content; publish a new version
     └── UnknownTableError      no table name@version (also a NotFoundError)
    InputError (jnx.errors)
     └── SampleFileError        a sample file of source records cannot be read

Field-level problems of a *record* are not exceptions: they are :class:`jnx.mappings.issues.MappingIssue`
values, collected and returned with the record.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from jnx.errors import InputError, MappingError, NotFoundError


@dataclass(frozen=True, slots=True)
class TableProblem:
    """One reason a table does not load, at ``source:line``."""

    source: str
    line: int | None
    reason: str

    def __str__(self) -> str:
        return f"{self.source}:{self.line}: {self.reason}" if self.line else f"{self.source}: {self.reason}"


class MappingTableError(MappingError):
    """A mapping table file is wrong; carries every problem found, each with file and line."""

    def __init__(self, problems: Sequence[TableProblem], *, hint: str | None = None) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = str(self.problems[0]) if count == 1 else f"{count} problems in mapping table:\n" + "\n".join(
            f"  {p}" for p in self.problems
        )
        super().__init__(head, hint=hint or "fix the table file; docs/mapping-tables.md lists fields and transforms")


class PublishedVersionError(MappingError):
    """Publishing other content under a name@version that is already published."""


class UnknownTableError(MappingError, NotFoundError):
    """No mapping table with that name (or version)."""


class SampleFileError(InputError):
    """A file of sample source records is unreadable (format, encoding, JSON syntax)."""
