"""Published mapping tables: where they live, how versions stay immutable, how one is found.

Tables live in folders laid out as ``<folder>/<name>/<version>.yaml``: the shipped folder
(``jnx/mappings/tables``) and the user folder (``<JNX home>/mappings``, passed in by the CLI).
Each folder has a ``published.lock`` listing ``name@version sha256`` for every table published in
it. A table whose content no longer matches its recorded hash was edited in place: it is refused
(load, validate and publish all say so) — a change is published as a new version instead, and the
old version stays, so records made by it can still be explained and replayed.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from jnx.codesets import CodeSetRegistry
from jnx.mappings.compiler import CompiledTable, compile_table
from jnx.mappings.errors import (
    MappingTableError,
    PublishedVersionError,
    TableProblem,
    UnknownTableError,
)
from jnx.mappings.model import TargetDictionary
from jnx.mappings.table import MappingTable, parse_table

SHIPPED_DIR = Path(__file__).with_name("tables")
LOCK_NAME = "published.lock"


@dataclass(frozen=True, slots=True)
class TableEntry:
    """A published table file: name, version, where it is, and the hash recorded at publication."""

    name: str
    version: int
    path: Path
    recorded_hash: str | None

    @property
    def ref(self) -> str:
        return f"{self.name}@{self.version}"


@dataclass(frozen=True, slots=True)
class PublishOutcome:
    table: MappingTable
    path: Path
    status: str
    """``published`` (new version written) or ``unchanged`` (the same content is already published)."""


def parse_ref(text: str) -> tuple[str, int | None]:
    """``name@version`` or ``name`` (the latest version)."""
    name, _, version = text.partition("@")
    if version and not version.isdigit():
        raise UnknownTableError(f"{text!r}: the version after @ is a whole number, e.g. {name}@1",
                                hint="`jnx mappings list` shows every table and its versions")
    return name, int(version) if version else None


def read_table(path: Path, dictionary: TargetDictionary, codesets: CodeSetRegistry) -> MappingTable:
    """Read and check one table file."""
    try:
        text = path.read_bytes().decode("utf-8")
    except OSError as exc:
        raise MappingTableError([TableProblem(str(path), None, f"cannot read: {exc.strerror}")]) from exc
    except UnicodeDecodeError as exc:
        raise MappingTableError([TableProblem(str(path), None, f"not UTF-8 text (byte {exc.start})")]) from exc
    return parse_table(text, str(path), dictionary, codesets)


def _read_lock(folder: Path) -> dict[str, str]:
    lock = folder / LOCK_NAME
    if not lock.is_file():
        return {}
    recorded: dict[str, str] = {}
    for number, line in enumerate(lock.read_text(encoding="utf-8").splitlines(), start=1):
        if line.strip() and not line.startswith("#"):
            parts = line.split()
            if len(parts) != 2:
                raise MappingTableError([TableProblem(str(lock), number, "expected 'name@version sha256'")])
            recorded[parts[0]] = parts[1]
    return recorded


class TableRegistry:
    """The published tables of several folders; the last folder is where ``publish`` writes."""

    def __init__(self, folders: Sequence[Path], dictionary: TargetDictionary, codesets: CodeSetRegistry,
                 publish_to: Path | None = None) -> None:
        self.folders = list(folders)
        self.dictionary = dictionary
        self.codesets = codesets
        self.publish_to = publish_to
        self._compiled: dict[tuple[str, int], CompiledTable] = {}

    def entries(self) -> list[TableEntry]:
        found: dict[tuple[str, int], TableEntry] = {}
        for folder in self.folders:
            if not folder.is_dir():
                continue
            recorded = _read_lock(folder)
            for path in sorted(folder.glob("*/*.yaml")):
                if path.stem.isdigit():
                    key = (path.parent.name, int(path.stem))
                    found.setdefault(key, TableEntry(key[0], key[1], path, recorded.get(f"{key[0]}@{key[1]}")))
        return sorted(found.values(), key=lambda e: (e.name, e.version))

    def entry(self, name: str, version: int | None = None) -> TableEntry:
        versions = [e for e in self.entries() if e.name == name]
        if not versions:
            known = ", ".join(sorted({e.name for e in self.entries()})) or "none"
            raise UnknownTableError(f"no mapping table {name!r}; known: {known}", hint="jnx mappings list")
        if version is None:
            return versions[-1]
        for candidate in versions:
            if candidate.version == version:
                return candidate
        refs = [e.ref for e in versions]
        choices = f"{', '.join(refs[:-1])} or {refs[-1]}" if len(refs) > 1 else refs[0]
        raise UnknownTableError(
            f"{name} has no version {version}; versions: {', '.join(str(e.version) for e in versions)}",
            hint=f"use {choices}; `jnx mappings list` shows every table and its versions",
        )

    def load_entry(self, entry: TableEntry) -> MappingTable:
        """Read, check, and compare with the recorded hash; MappingTableError if edited in place."""
        table = read_table(entry.path, self.dictionary, self.codesets)
        problems = []
        if (table.name, table.version) != (entry.name, entry.version):
            problems.append(TableProblem(str(entry.path), None, f"the file says {table.name}@{table.version} but lies at "
                                         f"{entry.name}/{entry.version}.yaml"))
        if entry.recorded_hash is None:
            problems.append(TableProblem(str(entry.path), None, f"{entry.ref} is not in {LOCK_NAME}: publish it with "
                                         "jnx mappings publish"))
        elif entry.recorded_hash != table.content_hash:
            problems.append(TableProblem(str(entry.path), None, f"{entry.ref} was changed after it was published "
                                         f"(hash {table.content_hash[:12]}, published {entry.recorded_hash[:12]})"))
        if problems:
            raise MappingTableError(problems, hint="published versions are immutable: restore the file and publish "
                                    "the change as a new version")
        return table

    def load(self, name: str, version: int | None = None) -> MappingTable:
        return self.load_entry(self.entry(name, version))

    def compiled(self, name: str, version: int | None = None) -> CompiledTable:
        """The compiled mapper of name@version (compiled once per registry)."""
        entry = self.entry(name, version)
        key = (entry.name, entry.version)
        if key not in self._compiled:
            self._compiled[key] = compile_table(self.load_entry(entry), self.dictionary)
        return self._compiled[key]

    def publish(self, path: Path) -> PublishOutcome:
        """Publish a table file as a new version; refuse other content under a published name@version."""
        table = read_table(path, self.dictionary, self.codesets)
        existing = [e for e in self.entries() if e.name == table.name]
        for entry in existing:
            if entry.version == table.version:
                if entry.recorded_hash == table.content_hash:
                    return PublishOutcome(table, entry.path, "unchanged")
                latest = max(e.version for e in existing)
                raise PublishedVersionError(
                    f"{table.name}@{table.version} is already published with other content; published versions never change",
                    hint=f"set version: {latest + 1} in the file and publish it as a new version",
                )
        if self.publish_to is None:
            raise PublishedVersionError("no folder to publish into", hint="set JNX_HOME")
        target = self.publish_to / table.name / f"{table.version}.yaml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(path.read_bytes())
        with (self.publish_to / LOCK_NAME).open("a", encoding="utf-8") as lock:
            lock.write(f"{table.name}@{table.version} {table.content_hash}\n")
        return PublishOutcome(table, target, "published")
