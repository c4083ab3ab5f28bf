"""``jnx systems check``: does a registration work? Each line's reachability and latency, the API or
WSDL operation, the credentials, and a sample pull mapped as a dry run — a department knows in one
command whether its system is connected."""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import requests

from jnx.adapters.config import DbFrontConfig, FileDropConfig, SecretResolver, SoapConfig
from jnx.adapters.factory import Adapters, build_adapters, new_session
from jnx.errors import AuthenticationError, JnxError
from jnx.exchange.ingest import decode_payload
from jnx.exchange.registry import RegisteredSystem
from jnx.exchange.runs import TableSource, _context, beijing_today

SAMPLE = 5


@dataclass
class LineCheck:
    name: str
    url: str
    ok: bool
    latency_ms: float | None
    detail: str


@dataclass
class StreamCheck:
    record_type: str
    table: str
    ok: bool
    pulled: int = 0
    mapped: int = 0
    with_errors: int = 0
    errors_by_rule: dict[str, int] = field(default_factory=dict)
    detail: str = ""


@dataclass
class SystemCheck:
    system: str
    lines: list[LineCheck] = field(default_factory=list)
    streams: list[StreamCheck] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    def as_dict(self) -> dict[str, Any]:
        return {"system": self.system, "ok": self.ok, "problems": self.problems,
                "lines": [vars(line) for line in self.lines], "streams": [vars(s) for s in self.streams]}


def _probe_url(config: Any, url: str) -> str:
    return url + "?wsdl" if isinstance(config, SoapConfig) and "?" not in url else url


def check_lines(system: RegisteredSystem, session: requests.Session | None = None, timeout: float = 5.0) -> list[LineCheck]:
    """Each HTTP line on its own (no failover): reachable at all, and how fast. A 4xx still means reachable."""
    config = system.registration.adapter
    if isinstance(config, (DbFrontConfig, FileDropConfig)):
        return []
    session = session or new_session(pool_size=2)
    checks = []
    for index, line in enumerate(config.lines):
        name = line.name or ("primary" if index == 0 else f"backup{index}")
        url = _probe_url(config, line.url)
        started = time.perf_counter()
        try:
            answer = session.get(url, timeout=(min(config.timeouts.connect, timeout), timeout))
        except requests.RequestException as exc:
            checks.append(LineCheck(name, line.url, False, None, f"unreachable: {type(exc).__name__}"))
            continue
        latency = (time.perf_counter() - started) * 1000
        detail = f"HTTP {answer.status_code}"
        ok = answer.status_code < 500
        if isinstance(config, SoapConfig) and answer.ok:
            missing = [spec.operation for spec in config.pull if spec.operation not in answer.text]
            if missing:
                ok, detail = False, f"WSDL has no operation {', '.join(missing)}"
            else:
                detail = "WSDL found with " + ", ".join(spec.operation for spec in config.pull)
        checks.append(LineCheck(name, line.url, ok, round(latency, 1), detail))
    return checks


def check_system(
    system: RegisteredSystem,
    *,
    tables: TableSource,
    secrets: SecretResolver,
    adapters_factory: Callable[..., Adapters] = build_adapters,
) -> SystemCheck:
    report = SystemCheck(system.id)
    report.lines = check_lines(system)
    for line in report.lines:
        if not line.ok:
            report.problems.append(f"line {line.name} ({line.url}): {line.detail}")
    if report.lines and not any(line.ok for line in report.lines):
        report.problems.append("no line is reachable: nothing can be pulled")
        return report
    try:
        adapters = adapters_factory(system.registration.adapter, secrets)
    except JnxError as exc:
        report.problems.append(f"cannot build the adapter: {exc}")
        return report
    try:
        for record_type, puller in adapters.pullers.items():
            report.streams.append(_check_stream(system, record_type, puller, tables, report))
    finally:
        adapters.close()
    return report


def _check_stream(system: RegisteredSystem, record_type: str, puller: Any, tables: TableSource, report: SystemCheck) -> StreamCheck:
    name, version = system.registration.table_for(record_type)
    stream = StreamCheck(record_type, f"{name}@{version}", ok=True)
    try:
        mapper = tables.compiled(name, version)
    except JnxError as exc:
        stream.ok, stream.detail = False, f"mapping table: {exc}"
        report.problems.append(f"{record_type}: {stream.detail}")
        return stream
    pages = puller.pull(None, page_size=SAMPLE)
    try:
        page = next(iter(pages), None)
    except AuthenticationError as exc:
        stream.ok, stream.detail = False, f"credentials refused: {exc}"
        report.problems.append(f"{record_type}: {stream.detail}")
        return stream
    except JnxError as exc:
        stream.ok, stream.detail = False, f"sample pull failed: {exc}"
        report.problems.append(f"{record_type}: {stream.detail}")
        return stream
    finally:
        close = getattr(pages, "close", None)
        if close is not None:
            close()
    records = list(page.records[:SAMPLE]) if page is not None else []
    stream.pulled = len(records)
    rules: Counter[str] = Counter()
    for record in records:
        payload = decode_payload(record.payload)
        if payload is None:
            rules["payload.undecodable"] += 1
            stream.with_errors += 1
            continue
        result = mapper(payload, _context(system), today=beijing_today())
        if result.ok:
            stream.mapped += 1
        else:
            stream.with_errors += 1
            rules.update(issue.rule for issue in result.issues)
    stream.errors_by_rule = dict(rules)
    stream.detail = f"credentials accepted; sample of {stream.pulled}: {stream.mapped} mapped, {stream.with_errors} with errors"
    if records and stream.mapped == 0:
        stream.ok = False
        report.problems.append(f"{record_type}: no sample record maps with {stream.table} — is it the right table?")
    return stream
