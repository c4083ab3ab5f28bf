"""Source-system registration (来源系统注册): the file a department writes, checked and stored.

A registration file (YAML, ``format: 1``) declares one system: who owns it, where it is, how to
talk to it (an :data:`~jnx.adapters.config.AdapterConfig`), which mapping table version maps each
record type it emits, and when to pull. Secrets are references only (``{env: NAME}`` or
``{store: NAME}``); a plaintext secret is refused with a message saying how to reference it.

:func:`load_registration` checks everything that can be checked offline (credit code, region,
cron, secrets, mapping tables exist when a catalog is given); :class:`SystemRegistry` stores
registrations in ``source_systems`` and answers list/show/enable/disable. Reachability and a dry
run are :mod:`jnx.exchange.syscheck`'s job.
"""

from __future__ import annotations

import datetime as dt
import re
import tomllib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import Any, Literal, Protocol

import yaml
from croniter import croniter
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)
from sqlalchemy import select
from sqlalchemy.orm import Session

from jnx.adapters.config import AdapterConfig
from jnx.adapters.urls import redact_url
from jnx.codesets import check_uscc, default_registry
from jnx.errors import ConfigError, NotFoundError
from jnx.store.models import SourceSystem, SystemKind

FORMAT = 1
MAX_FILE_BYTES = 1_000_000
SECRET_WORDS = ("password", "secret", "token", "passphrase", "apikey", "api_key", "private_key")
_SYSTEM_ID = re.compile(r"^[a-z0-9][a-z0-9._-]{1,63}$")
_TABLE_REF = re.compile(r"^[A-Za-z0-9_.-]+@[A-Za-z0-9_.-]+$")


class MappingCatalog(Protocol):
    """What registration needs to know of the mapping tables: does ``name@version`` exist?"""

    def has(self, name: str, version: str) -> bool: ...


def check_cron(value: str | None) -> str | None:
    """A schedule: a cron expression of 5 fields (China time), or none; ``ValueError`` saying why not."""
    if value is not None and (len(value.split()) != 5 or not croniter.is_valid(value)):
        raise ValueError(f"{value!r} is not a cron expression of 5 fields (minute hour day month weekday)")
    return value


class Registration(BaseModel):
    """A registration file, validated."""

    model_config = ConfigDict(extra="forbid", frozen=True, hide_input_in_errors=True)

    format: Literal[1] = 1
    id: str = Field(description="system id: lower case letters, digits, . _ -")
    name: str = Field(description="the system's name, e.g. 济宁市行政执法网上办案系统")
    department: str = Field(description="owning department (部门名称)")
    department_credit_code: str = Field(description="the department's 统一社会信用代码")
    region: str = Field(description="区划代码: GB/T 2260, or a functional zone's 政务 code")
    kind: SystemKind
    adapter: AdapterConfig
    mappings: dict[str, str] = Field(
        default_factory=dict, description="record type → mapping table NAME@VERSION, for every record type pulled"
    )
    schedule: str | None = Field(None, description="cron expression (5 fields) for scheduled runs")
    enabled: bool = True
    settings: dict[str, str] = Field(
        default_factory=dict, description="values mapping tables may look up, e.g. data_source_unit"
    )
    description: str | None = None

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _SYSTEM_ID.match(value):
            raise ValueError("use 2–64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
        return value

    @field_validator("department_credit_code")
    @classmethod
    def _credit_code(cls, value: str) -> str:
        verdict = check_uscc(value)
        if not verdict:
            raise ValueError(f"{verdict.reason} [{verdict.rule}]")
        return value

    @field_validator("region")
    @classmethod
    def _region(cls, value: str) -> str:
        # judged on today: a code abolished years ago (370802 市中区) is no region for a new system
        verdict = default_registry().check("region", value, dt.date.today())
        if not verdict:
            raise ValueError(f"{verdict.reason} [{verdict.rule}]")
        return value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        return check_cron(value)

    @field_validator("mappings")
    @classmethod
    def _mapping_refs(cls, value: dict[str, str]) -> dict[str, str]:
        for record_type, ref in value.items():
            if not _TABLE_REF.match(ref):
                raise ValueError(f"{record_type}: {ref!r} is not NAME@VERSION")
        return value

    @model_validator(mode="after")
    def _line_names_are_unique(self) -> Registration:
        names = [line.name for line in getattr(self.adapter, "lines", []) if line.name]
        twice = sorted({name for name in names if names.count(name) > 1})
        if twice:
            raise ValueError(f"line name(s) {twice} are used twice; name each line once (primary, backup, …)")
        return self

    @model_validator(mode="after")
    def _every_pulled_type_has_a_table(self) -> Registration:
        pulled = {spec.record_type for spec in getattr(self.adapter, "pull", [])}
        missing = sorted(pulled - set(self.mappings))
        if missing:
            raise ValueError(f"record types {missing} are pulled but have no mapping table in `mappings`")
        return self

    def table_for(self, record_type: str) -> tuple[str, str]:
        """(name, version) of the table pinned for ``record_type``."""
        try:
            name, version = self.mappings[record_type].split("@", 1)
        except KeyError:
            raise ConfigError(f"system {self.id!r} pins no mapping table for record type {record_type!r}") from None
        return name, version

    @property
    def primary_mapping(self) -> tuple[str, str]:
        if not self.mappings:
            return "", ""
        first = next(iter(self.mappings.values()))
        name, version = first.split("@", 1)
        return name, version


def _plaintext_secrets(node: Any, path: str = "") -> Iterable[str]:
    """Dotted paths of keys that look like secrets but hold a plain string."""
    if isinstance(node, Mapping):
        for key, value in node.items():
            here = f"{path}.{key}" if path else str(key)
            if isinstance(value, str) and any(word in str(key).lower() for word in SECRET_WORDS):
                yield here
            else:
                yield from _plaintext_secrets(value, here)
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _plaintext_secrets(value, f"{path}.{i}")


Place = tuple[str | int, ...]
"""Where a value is in a registration document: its keys and list indexes from the top."""


def _in_document(doc: Any, loc: Iterable[str | int]) -> Place:
    """``loc`` of a validation error with what is not in the file left out (the adapter's protocol tag)."""
    place: list[str | int] = []
    node = doc
    for part in loc:
        if isinstance(node, Mapping) and part in node or isinstance(node, list) and isinstance(part, int) and 0 <= part < len(node):
            node = node[part]  # type: ignore[index]  # a key of a mapping or an index of a list, as tested
        elif isinstance(node, Mapping) and isinstance(part, str) and node.get("protocol") == part:
            continue  # pydantic's name for the protocol a union picked, not a key of the file
        else:
            node = None
        place.append(part)
    return tuple(place)


def _message(error: Mapping[str, Any]) -> str:
    """Pydantic's message without its kind prefix ("Value error, …"): our validators' words alone."""
    msg = str(error["msg"])
    for prefix in ("Value error, ", "Assertion failed, "):
        msg = msg.removeprefix(prefix)
    return msg


@dataclass(frozen=True, slots=True)
class RegistrationProblem:
    """One thing wrong with a registration file: where (the line, when known, and the key path) and what."""

    line: int | None
    place: str
    message: str


class RegistrationInvalid(ConfigError):
    """A registration document that does not validate; ``problems`` holds each one with its line."""

    def __init__(self, message: str, problems: list[RegistrationProblem], hint: str | None = None) -> None:
        super().__init__(message, hint=hint)
        self.problems = problems


def _problems(exc: ValidationError, doc: Any, lines: Mapping[Place, int]) -> list[RegistrationProblem]:
    out = []
    for error in exc.errors(include_url=False):
        place = _in_document(doc, error["loc"])
        line = next((lines[place[:n]] for n in range(len(place), 0, -1) if place[:n] in lines), None)
        out.append(RegistrationProblem(line, ".".join(str(part) for part in place) or "(file)", _message(error)))
    return out


def _format_validation(problems: list[RegistrationProblem], source: str) -> str:
    return "\n".join(f"{source}:{p.line}: {p.place}: {p.message}" if p.line else f"{source}: {p.place}: {p.message}"
                     for p in problems)


def parse_registration(doc: Any, source: str, catalog: MappingCatalog | None = None, *,
                       lines: Mapping[Place, int] | None = None) -> Registration:
    """Validate a parsed registration document; ConfigError lists every problem with its place
    (and its line, when ``lines`` gives the line of each place in the file)."""
    if not isinstance(doc, Mapping):
        raise ConfigError(f"{source}: a registration file is a mapping of keys (id, name, department, …)")
    leaked = list(_plaintext_secrets(doc))
    if leaked:
        raise ConfigError(
            f"{source}: plaintext secret at {', '.join(leaked)}",
            hint="write secrets as references, e.g. `password: {env: JNX_SECRET_NAME}`, never as values",
        )
    try:
        registration = Registration.model_validate(doc)
    except ValidationError as exc:
        problems = _problems(exc, doc, lines or {})
        raise RegistrationInvalid(_format_validation(problems, source), problems,
                                  hint="fix the fields above; docs/registration.md has a full example per kind") from None
    if catalog is not None:
        missing = [ref for name, version, ref in _refs(registration) if not catalog.has(name, version)]
        if missing:
            raise ConfigError(
                f"{source}: mapping table(s) not found: {', '.join(missing)}",
                hint="`jnx mappings list` shows the published tables; publish a new one with `jnx mappings publish FILE`",
            )
    return registration


def _refs(registration: Registration) -> list[tuple[str, str, str]]:
    out = []
    for ref in registration.mappings.values():
        name, version = ref.split("@", 1)
        out.append((name, version, ref))
    return out


def _read_limited(path: Path) -> bytes:
    """The file's bytes, refusing folders and anything over the limit (pipes and devices too)."""
    if path.is_dir():
        raise ConfigError(f"{path} is a folder; give the registration file itself")
    try:
        with path.open("rb") as handle:
            data = handle.read(MAX_FILE_BYTES + 1)
    except FileNotFoundError as exc:
        raise ConfigError(f"no such file: {path}",
                          hint="give the path of a registration file, see examples/systems/") from exc
    except OSError as exc:
        raise ConfigError(f"cannot read {path}: {exc.strerror or exc}") from exc
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{path} is larger than {MAX_FILE_BYTES} bytes: not a registration file")
    return data


def _yaml_error(exc: yaml.YAMLError, path: Path) -> ConfigError:
    """One line: file:line:column, what is wrong, and what was being read when it went wrong."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    context, context_mark = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    if "'\\t'" in problem:
        problem, context = "a tab character; YAML is indented with spaces, never tabs", None
    if context and context_mark is not None and mark is not None and context_mark.line != mark.line:
        problem += f" ({context} that starts at line {context_mark.line + 1}, column {context_mark.column + 1})"
    elif context:
        problem += f" ({context})"
    if mark is None:
        return ConfigError(f"{path}: not valid YAML: {problem}", hint="fix the YAML; see docs/registration.md")
    return ConfigError(f"{path}:{mark.line + 1}:{mark.column + 1}: not valid YAML: {problem}",
                       hint=f"fix the YAML at {path}:{mark.line + 1}; see docs/registration.md")


def _key_lines(node: yaml.Node | None, place: Place = ()) -> dict[Place, int]:
    """The line (1-based) of every key and list item of a composed YAML document."""
    lines: dict[Place, int] = {}
    if isinstance(node, yaml.MappingNode):
        for key, value in node.value:
            if isinstance(key, yaml.ScalarNode):
                here = (*place, key.value)
                lines[here] = key.start_mark.line + 1
                lines.update(_key_lines(value, here))
    elif isinstance(node, yaml.SequenceNode):
        for index, item in enumerate(node.value):
            here = (*place, index)
            lines[here] = item.start_mark.line + 1
            lines.update(_key_lines(item, here))
    return lines


def _parse_yaml(text: str, path: Path) -> tuple[Any, dict[Place, int]]:
    """YAML (or JSON) without aliases, and the line of each key: an alias bomb expands nothing, it is
    refused before loading."""
    try:
        for event in yaml.parse(text, Loader=yaml.SafeLoader):
            if isinstance(event, yaml.AliasEvent):
                raise ConfigError(f"{path}: YAML aliases (*name) are not allowed in a registration file",
                                  hint="write each value out in full")
        return yaml.safe_load(text), _key_lines(yaml.compose(text, Loader=yaml.SafeLoader))
    except yaml.YAMLError as exc:
        raise _yaml_error(exc, path) from exc
    except RecursionError as exc:  # the YAML reader recurses once per level of nesting
        raise ConfigError(f"{path}: not valid YAML for a registration file: nested too deeply",
                          hint="a registration file is a few levels deep; see examples/systems/") from exc


def load_registration(path: Path, catalog: MappingCatalog | None = None) -> Registration:
    """Read and check a registration file: YAML (``.yaml``/``.yml``; JSON is YAML too) or TOML (``.toml``)."""
    return read_registration(_read_limited(path), path, catalog)


def read_registration(data: bytes, path: Path, catalog: MappingCatalog | None = None) -> Registration:
    """Check a registration file's bytes (``path`` names it in messages; its suffix says TOML or YAML)."""
    if len(data) > MAX_FILE_BYTES:
        raise ConfigError(f"{path} is larger than {MAX_FILE_BYTES} bytes: not a registration file")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 at byte {exc.start}", hint="save the file as UTF-8") from exc
    lines: dict[Place, int] = {}
    if path.suffix.lower() == ".toml":
        try:
            doc: Any = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            at = re.search(r"at line (\d+)", str(exc))
            raise ConfigError(f"{path}: not valid TOML: {exc}",
                              hint=f"fix the TOML at {path}{':' + at.group(1) if at else ''}; see docs/registration.md") from exc
    else:
        doc, lines = _parse_yaml(text, path)
    return parse_registration(doc, str(path), catalog, lines=lines)


class RegisterAction(StrEnum):
    CREATED = "created"
    UPDATED = "updated"
    UNCHANGED = "unchanged"


@dataclass(frozen=True, slots=True)
class RegisteredSystem:
    """A stored system as the CLI and the exchange see it."""

    id: str
    name: str
    department: str
    department_credit_code: str
    region: str
    kind: str
    protocol: str
    mappings: dict[str, str]
    schedule: str | None
    enabled: bool
    registration: Registration
    updated_at: dt.datetime

    def summary(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "department": self.department,
            "department_credit_code": self.department_credit_code,
            "region": self.region,
            "kind": self.kind,
            "protocol": self.protocol,
            "lines": [redact_url(line.url) for line in getattr(self.registration.adapter, "lines", [])],
            "mappings": self.mappings,
            "schedule": self.schedule,
            "enabled": self.enabled,
            "updated_at": self.updated_at,
        }


def _to_registered(row: SourceSystem) -> RegisteredSystem:
    registration = Registration.model_validate(row.registration)
    return RegisteredSystem(
        id=row.id,
        name=registration.name,
        department=row.department_name,
        department_credit_code=row.department_credit_code,
        region=row.region_code,
        kind=row.kind.value,
        protocol=row.protocol,
        mappings=dict(registration.mappings),
        schedule=row.schedule_cron,
        enabled=row.enabled,
        registration=registration,
        updated_at=row.updated_at,
    )


class SystemRegistry:
    """Registered systems in the database. Methods take a session; the caller commits."""

    def __init__(self, on_change: Callable[[str, str, dict[str, Any]], None] | None = None) -> None:
        # on_change(action, system_id, details): the audit trail hook
        self._on_change = on_change

    def register(self, session: Session, registration: Registration) -> tuple[RegisteredSystem, RegisterAction]:
        document = registration.model_dump(mode="json", by_alias=True)
        name, version = registration.primary_mapping
        row = session.get(SourceSystem, registration.id)
        if row is None:
            row = SourceSystem(id=registration.id)
            session.add(row)
            action = RegisterAction.CREATED
        elif row.registration == document:
            return _to_registered(row), RegisterAction.UNCHANGED
        else:
            action = RegisterAction.UPDATED
        row.department_name = registration.department
        row.department_credit_code = registration.department_credit_code
        row.region_code = registration.region
        row.kind = registration.kind
        row.protocol = registration.adapter.protocol
        row.registration = document
        row.mapping_name = name
        row.mapping_version = version
        row.schedule_cron = registration.schedule
        row.enabled = registration.enabled
        session.flush()
        if self._on_change is not None:
            self._on_change(f"system.{action.value}", registration.id, {"mappings": registration.mappings})
        return _to_registered(row), action

    def get(self, session: Session, system_id: str) -> RegisteredSystem:
        row = session.get(SourceSystem, system_id)
        if row is None:
            known = ", ".join(session.scalars(select(SourceSystem.id).order_by(SourceSystem.id))) or "none yet"
            raise NotFoundError(
                f"no system {system_id!r} is registered (registered: {known})",
                hint="register it with `jnx systems register FILE`",
            )
        return _to_registered(row)

    def list(self, session: Session, *, enabled_only: bool = False) -> list[RegisteredSystem]:
        query = select(SourceSystem).order_by(SourceSystem.id)
        if enabled_only:
            query = query.where(SourceSystem.enabled.is_(True))
        return [_to_registered(row) for row in session.scalars(query)]

    def set_enabled(self, session: Session, system_id: str, enabled: bool) -> RegisteredSystem:
        self.get(session, system_id)  # raises with the known ids
        row = session.get(SourceSystem, system_id)
        assert row is not None
        if row.enabled != enabled:
            row.enabled = enabled
            session.flush()
            if self._on_change is not None:
                self._on_change("system.enabled" if enabled else "system.disabled", system_id, {})
        return _to_registered(row)
