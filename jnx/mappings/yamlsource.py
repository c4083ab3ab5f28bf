"""Reading table files as YAML that remembers where everything is.

Every mapping becomes a :class:`LocatedMap` and every list a :class:`LocatedList`, each knowing the
line of itself and of each key or item, so the table checker can say ``file:line: reason``.

Two deliberate departures from plain YAML:

* **No implicit typing.** Plain scalars stay strings (``01`` stays ``"01"``, ``NO`` stays ``"NO"``,
  ``2021-07-15`` stays a string); the checker converts what it expects (versions, dates, booleans).
  Source codes are usually strings with leading zeros, and YAML 1.1's guessing would change them.
  An empty plain value, ``~`` and ``null`` are ``None``.
* **No anchors or aliases, no tags.** A table is read by people; references inside it hide what a
  field does and can blow up in size (billion laughs).
"""

from __future__ import annotations

from typing import Any

import yaml
from yaml.events import AliasEvent
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from jnx.mappings.errors import MappingTableError, TableProblem

_NULLS = frozenset({"", "~", "null", "Null", "NULL"})


class LocatedMap(dict[str, Any]):
    """A YAML mapping with ``line`` (its own) and ``lines`` (key → line of that key)."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: dict[str, int] = {}

    def line_of(self, key: str) -> int:
        return self.lines.get(key, self.line)


class LocatedList(list[Any]):
    """A YAML sequence with ``line`` (its own) and ``lines`` (index → line of that item)."""

    __slots__ = ("line", "lines")

    def __init__(self, line: int) -> None:
        super().__init__()
        self.line = line
        self.lines: list[int] = []

    def line_of(self, index: int) -> int:
        return self.lines[index] if 0 <= index < len(self.lines) else self.line


class _Problem(Exception):
    def __init__(self, line: int, reason: str) -> None:
        super().__init__(reason)
        self.line = line
        self.reason = reason


def _line(node: Node) -> int:
    return node.start_mark.line + 1


class _TableLoader(yaml.SafeLoader):
    """SafeLoader without implicit resolvers, aliases or tags; builds located containers."""

    yaml_implicit_resolvers: dict[Any, Any] = {}

    def compose_node(self, parent: Node | None, index: Any) -> Node | None:
        if self.check_event(AliasEvent):
            event = self.peek_event()  # type: ignore[no-untyped-call]
            raise _Problem(event.start_mark.line + 1, "anchors and aliases (*name) are not allowed in a mapping table")
        return super().compose_node(parent, index)

    def construct_document(self, node: Node) -> Any:
        return self._build(node)

    def _build(self, node: Node) -> Any:
        if node.tag not in ("tag:yaml.org,2002:str", "tag:yaml.org,2002:map", "tag:yaml.org,2002:seq"):
            raise _Problem(_line(node), f"YAML tags such as {node.tag!r} are not allowed in a mapping table")
        if isinstance(node, ScalarNode):
            value = str(node.value)
            return None if node.style is None and value in _NULLS else value
        if isinstance(node, SequenceNode):
            items = LocatedList(_line(node))
            for child in node.value:
                items.append(self._build(child))
                items.lines.append(_line(child))
            return items
        if isinstance(node, MappingNode):
            mapping = LocatedMap(_line(node))
            for key_node, value_node in node.value:
                if not isinstance(key_node, ScalarNode):
                    raise _Problem(_line(key_node), "keys must be plain text")
                key = str(key_node.value)
                if key in mapping:
                    raise _Problem(_line(key_node), f"key {key!r} appears twice (first at line {mapping.lines[key]})")
                mapping[key] = self._build(value_node)
                mapping.lines[key] = _line(key_node)
            return mapping
        raise _Problem(_line(node), "unsupported YAML node")  # pragma: no cover - the three kinds above are all


def load_located(text: str, source: str) -> LocatedMap:
    """Parse one YAML document into located containers; MappingTableError names ``source:line``."""
    loader = _TableLoader(text)
    try:
        document = loader.get_single_data()
    except _Problem as exc:
        raise MappingTableError([TableProblem(source, exc.line, exc.reason)]) from exc
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        raise MappingTableError([TableProblem(source, line, f"not valid YAML: {exc.problem or exc}")]) from exc
    except yaml.YAMLError as exc:
        raise MappingTableError([TableProblem(source, None, f"not valid YAML: {exc}")]) from exc
    finally:
        loader.dispose()
    if not isinstance(document, LocatedMap):
        raise MappingTableError([TableProblem(source, 1, "a mapping table is a YAML mapping (header keys and fields:)")])
    return document


def plain(value: Any) -> Any:
    """The located value as plain dicts and lists (for hashing and display)."""
    if isinstance(value, dict):
        return {k: plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    return value
