"""映射表 → 发布: a new table version uploaded in the console, checked as ``jnx mappings validate``
checks it (fields, transforms, code sets, codes) with each problem at its line, and what publishing
would do (a new version, the same content already published, or refused: other content under a
published NAME@VERSION); then published behind the confirm step and audited (``mapping.published``).
Right: ``mappings.publish`` (system administrator). Publishing never pins it: a system's registration does.
"""

from __future__ import annotations

import datetime as dt
import tempfile
from pathlib import Path
from typing import Literal

from pydantic import BaseModel

from jnx.errors import ConfigError
from jnx.exchange.wiring import TableCatalog
from jnx.mappings.errors import MappingTableError
from jnx.mappings.registry import read_table
from jnx.security.audit_sql import SqlAuditStore
from jnx.services.console_scope import Viewer
from jnx.services.registrations import FileLine, Problem, annotated

MAX_TABLE_BYTES = 1_000_000


class TableCheck(BaseModel):
    filename: str
    ok: bool
    table: str | None  # NAME@VERSION the file declares
    would: Literal["publish", "unchanged", "refused"] | None
    fields: int
    problems: list[Problem]
    lines: list[FileLine]


def _checked(catalog: TableCatalog, filename: str, data: bytes, folder: Path) -> tuple[TableCheck, Path]:
    name = Path(filename or "table.yaml").name
    if Path(name).suffix.lower() not in {".yaml", ".yml"}:
        raise ConfigError(f"{name!r} is not a mapping table file (.yaml)", hint="upload the table's YAML file")
    if len(data) > MAX_TABLE_BYTES:
        raise ConfigError(f"{name} is larger than {MAX_TABLE_BYTES} bytes: not a mapping table")
    path = folder / name
    path.write_bytes(data)
    registry = catalog.registry
    try:
        table = read_table(path, registry.dictionary, registry.codesets)
    except MappingTableError as exc:
        problems = [Problem(line=p.line, place="", message=p.reason) for p in exc.problems]
        return TableCheck(filename=name, ok=False, table=None, would=None, fields=0, problems=problems,
                          lines=annotated(data, problems)), path
    same = [e for e in registry.entries() if e.name == table.name and e.version == table.version]
    problems = []
    would: Literal["publish", "unchanged", "refused"] = "publish"
    if same:
        would = "unchanged" if same[0].recorded_hash == table.content_hash else "refused"
        if would == "refused":
            latest = max(e.version for e in registry.entries() if e.name == table.name)
            problems = [Problem(line=None, place="version",
                                message=f"{table.name}@{table.version} is already published with other content; published "
                                        f"versions never change: set version: {latest + 1} and upload it again")]
    return TableCheck(filename=name, ok=not problems, table=str(table.ref), would=would, fields=len(table.fields), problems=problems,
                      lines=annotated(data, problems)), path


def check_table(catalog: TableCatalog, viewer: Viewer, filename: str, data: bytes) -> TableCheck:
    """Check an uploaded table file; nothing is published."""
    viewer.scope("mappings.publish")
    with tempfile.TemporaryDirectory(prefix="jnx-table-") as folder:
        return _checked(catalog, filename, data, Path(folder))[0]


def publish_table(catalog: TableCatalog, viewer: Viewer, audit: SqlAuditStore, filename: str, data: bytes) -> TableCheck:
    """Check the file again and publish it as a new version (the same content: nothing to do); audited."""
    viewer.scope("mappings.publish")
    with tempfile.TemporaryDirectory(prefix="jnx-table-") as folder:
        checked, path = _checked(catalog, filename, data, Path(folder))
        if not checked.ok or checked.would == "refused":
            raise ConfigError(f"{checked.filename} has {len(checked.problems)} problem(s); nothing was published",
                              hint="check the file again and fix what is marked")
        outcome = catalog.registry.publish(path)
    if outcome.status == "published":
        audit.append(actor=viewer.username, action="mapping.published", subject=str(outcome.table.ref),
                     details={"hash": outcome.table.content_hash, "file": checked.filename, "via": "console"}, at=dt.datetime.now(dt.UTC))
    return checked.model_copy(update={"would": "publish" if outcome.status == "published" else "unchanged"})
