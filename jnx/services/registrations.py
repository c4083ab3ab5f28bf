"""系统 → 登记: a registration file uploaded in the console, checked offline (as ``jnx systems
register`` checks it: schema, secrets written as references, cron, the mapping tables it pins) with
each problem at its line in the file, before anything is saved; then stored behind the confirm step
and audited (``system.created`` / ``system.updated``). Right: ``systems.register`` (system administrator).
"""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel
from sqlalchemy.orm import Session

from jnx.errors import ConfigError
from jnx.exchange.registry import MappingCatalog, RegistrationInvalid, SystemRegistry, read_registration
from jnx.security.audit_sql import SqlAuditStore
from jnx.services.console_scope import Viewer
from jnx.store.models import SourceSystem

SUFFIXES = (".yaml", ".yml", ".json", ".toml")
_AT_LINE = re.compile(r":(\d+)(?::\d+)?: ")


class Problem(BaseModel):
    line: int | None
    place: str
    message: str


class FileLine(BaseModel):
    number: int
    text: str
    problems: list[str]


class RegistrationCheck(BaseModel):
    filename: str
    ok: bool
    action: Literal["created", "updated", "unchanged"] | None  # what saving would do
    summary: dict[str, Any]  # id, name, department, … of a file that passed
    problems: list[Problem]
    lines: list[FileLine]  # the file, each line with its problems
    hint: str | None


def _name(filename: str) -> Path:
    name = Path(filename or "registration.yaml").name
    if Path(name).suffix.lower() not in SUFFIXES:
        raise ConfigError(f"{name!r} is not a registration file ({', '.join(SUFFIXES)})", hint="upload the system's YAML or TOML file")
    return Path(name)


def check_registration(session: Session, viewer: Viewer, catalog: MappingCatalog, filename: str, data: bytes) -> RegistrationCheck:
    """Check an uploaded registration file; nothing is stored."""
    viewer.scope("systems.register")
    name = _name(filename)
    problems: list[Problem] = []
    summary: dict[str, Any] = {}
    action: Literal["created", "updated", "unchanged"] | None = None
    hint = None
    try:
        registration = read_registration(data, Path(name.name), catalog)
    except RegistrationInvalid as exc:
        problems = [Problem(line=p.line, place=p.place, message=p.message) for p in exc.problems]
        hint = exc.hint
    except ConfigError as exc:  # not UTF-8, YAML syntax, a plaintext secret, a table not published
        found = _AT_LINE.search(str(exc))
        problems = [Problem(line=int(found.group(1)) if found else None, place="(file)",
                            message=str(exc).replace(f"{name.name}:", "", 1).lstrip(" 0123456789:"))]
        hint = exc.hint
    else:
        document = registration.model_dump(mode="json", by_alias=True)
        row = session.get(SourceSystem, registration.id)
        action = "created" if row is None else "unchanged" if row.registration == document else "updated"
        lines = getattr(registration.adapter, "lines", [])
        summary = {"id": registration.id, "name": registration.name, "department": registration.department,
                   "department_credit_code": registration.department_credit_code, "region": registration.region,
                   "kind": str(registration.kind.value), "protocol": registration.adapter.protocol,
                   "mappings": ", ".join(f"{k}: {v}" for k, v in sorted(registration.mappings.items())),
                   "schedule": registration.schedule or "—", "lines": len(lines), "enabled": registration.enabled}
    return RegistrationCheck(filename=name.name, ok=not problems, action=action, summary=summary, problems=problems,
                             lines=annotated(data, problems), hint=hint)


def annotated(data: bytes, problems: list[Problem]) -> list[FileLine]:
    """An uploaded file's lines, each with the problems found at it (what the page shows in place)."""
    at: dict[int, list[str]] = {}
    for problem in problems:
        if problem.line is not None:
            at.setdefault(problem.line, []).append(f"{problem.place}: {problem.message}" if problem.place else problem.message)
    text = data.decode("utf-8", errors="replace")
    return [FileLine(number=n, text=line, problems=at.get(n, [])) for n, line in enumerate(text.splitlines(), start=1)]


def save_registration(session: Session, viewer: Viewer, audit: SqlAuditStore, catalog: MappingCatalog, filename: str,
                      data: bytes) -> RegistrationCheck:
    """Check the file again and store it (created or updated; an unchanged file stores nothing); audited."""
    checked = check_registration(session, viewer, catalog, filename, data)
    if not checked.ok:
        raise ConfigError(f"{checked.filename} has {len(checked.problems)} problem(s); nothing was saved",
                          hint="check the file again and fix the lines marked")
    registration = read_registration(data, Path(checked.filename), catalog)
    system, action = SystemRegistry().register(session, registration)
    session.commit()
    if action.value != "unchanged":
        audit.append(actor=viewer.username, action=f"system.{action.value}", subject=f"system:{system.id}",
                     details={"mappings": registration.mappings, "file": checked.filename, "via": "console"},
                     at=dt.datetime.now(dt.UTC))
    return checked.model_copy(update={"action": action.value})
