"""Writing Python source a line at a time, for the two places jnx generates code from checked data:
mapping tables (:mod:`jnx.mappings.compiler`) and the standard's record check (:mod:`jnx.standard.compiled`)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass
class SourceWriter:
    """Lines of generated source, and the objects they refer to by name (bound, never spelt out)."""

    lines: list[str] = field(default_factory=list)
    names: dict[str, Any] = field(default_factory=dict)

    def bind(self, prefix: str, value: Any) -> str:
        """A fresh name (``_<prefix><n>``) for ``value`` in the generated code's namespace."""
        name = f"_{prefix}{len(self.names)}"
        self.names[name] = value
        return name

    def emit(self, depth: int, line: str) -> None:
        self.lines.append("    " * depth + line)
