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

from jnx.adapters.auth import build_http_auth
from jnx.adapters.base import Adapters
from jnx.adapters.config import (
    DbFrontConfig,
    FileDropConfig,
    RestConfig,
    SecretResolver,
    SoapConfig,
)
from jnx.adapters.factory import build_adapters, new_session
from jnx.adapters.urls import redact_url
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


PROBES = 3


def _probe(session: requests.Session, url: str, timeout: tuple[float, float]) -> tuple[requests.Response | None, float | None, str]:
    """Up to :data:`PROBES` tries: a line is judged by its best answer, not by one unlucky 5xx or timeout."""
    answer: requests.Response | None = None
    failure = ""
    for _ in range(PROBES):
        started = time.perf_counter()
        try:
            answer = session.get(url, timeout=timeout)
        except requests.RequestException as exc:
            failure = f"unreachable: {type(exc).__name__}"
            continue
        latency = (time.perf_counter() - started) * 1000
        if answer.status_code < 500:
            return answer, latency, ""
        failure = f"HTTP {answer.status_code}"
    return (answer, None, failure) if answer is not None and answer.status_code < 500 else (None, None, failure + f" ({PROBES} tries)")


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
        answer, latency, failure = _probe(session, url, (min(config.timeouts.connect, timeout), timeout))
        if answer is None:
            checks.append(LineCheck(name, redact_url(line.url), False, None, failure))
            continue
        detail = f"HTTP {answer.status_code}"
        ok = True
        if isinstance(config, SoapConfig) and answer.ok:
            missing = [spec.operation for spec in config.pull if spec.operation not in answer.text]
            if missing:
                ok, detail = False, f"WSDL has no operation {', '.join(missing)}"
            else:
                detail = "WSDL found with " + ", ".join(spec.operation for spec in config.pull)
        checks.append(LineCheck(name, redact_url(line.url), ok, round(latency, 1) if latency is not None else None, detail))
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
    push = getattr(system.registration.adapter, "push", None)
    if isinstance(system.registration.adapter, RestConfig) and push is not None:
        report.streams.extend(_check_push(system, secrets, report))
    return report


def _check_push(system: RegisteredSystem, secrets: SecretResolver, report: SystemCheck) -> list[StreamCheck]:
    """A receiving platform: an authenticated GET on each push path. Nothing is pushed; 401/403 means
    the credentials are refused, any other answer that they are accepted (the path takes POSTs)."""
    config = system.registration.adapter
    assert isinstance(config, RestConfig) and config.push is not None
    try:
        auth = build_http_auth(config.auth, secrets)
    except JnxError as exc:
        report.problems.append(f"push: {exc}")
        return [StreamCheck("push", "-", ok=False, detail=str(exc))]
    lines = [line for line in report.lines if line.ok] or report.lines
    base = lines[0].url.rstrip("/") if lines else ""
    session = new_session(pool_size=2)
    checks = []
    for record_type, path in config.push.paths.items():
        check = StreamCheck(f"push {record_type}", path, ok=True)
        try:
            answer = session.get(base + path, auth=auth, timeout=(config.timeouts.connect, config.timeouts.read))
        except requests.RequestException as exc:
            check.ok, check.detail = False, f"unreachable: {type(exc).__name__}"
        else:
            if answer.status_code in (401, 403):
                check.ok, check.detail = False, f"credentials refused (HTTP {answer.status_code})"
            else:
                check.detail = f"credentials accepted (HTTP {answer.status_code} to a GET; pushes are POSTs)"
        if not check.ok:
            report.problems.append(f"push {record_type} ({path}): {check.detail}")
        checks.append(check)
    session.close()
    return checks


SAMPLE_PAGES = 10  # pages a sample pull reads at most (a routed pull may find none of its records in the first)


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
    found: list[Any] = []
    try:
        # a pull routed by `where` keeps its share of each page: read on until the sample is full
        for number, page in enumerate(pages, 1):
            found.extend(page.records)
            if len(found) >= SAMPLE or number >= SAMPLE_PAGES:
                break
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
    records = found[:SAMPLE]
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
