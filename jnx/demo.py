"""``jnx demo``: the main job in one command, on the embedded default.

Start the sandbox platforms on loopback, create a fresh SQLite database in a demo folder, register
the sandbox systems, run every pulling system, derive the 双公示 disclosures, push them to the
sandbox credit platform, and sum it up with where to look next.

The demo adds one system the sandbox does not simulate separately: a provincial mirror of the
case-handling feed (the same penalties reported by a second system, as when a department's national
system also reports its decisions). Its records are the same decisions, so they merge into the
standard records the case-handling system made — one record, both sources in its lineage.
"""

from __future__ import annotations

import copy
import shutil
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select

from jnx.adapters.config import MappingSecrets
from jnx.codesets import check_id_number
from jnx.exchange.error_queue import groups
from jnx.exchange.ingest import PageCounts
from jnx.exchange.registry import SystemRegistry, parse_registration
from jnx.exchange.runs import RunSummary, beijing_today
from jnx.exchange.wiring import Exchange
from jnx.ops.logs import log_context, remember_secrets
from jnx.publicity.delivery import credit_outbox
from jnx.publicity.derive import revocation
from jnx.publicity.outbox import DeliverySummary
from jnx.publicity.sealing import EnvelopeSealer
from jnx.publicity.views import count_overdue
from jnx.sandbox.envelopes import envelope_unwrap
from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.sandbox.systems import registrations_for, secrets_from
from jnx.security.audit_sql import SqlAuditStore
from jnx.security.keys import KeyUse, PrivateKey, Suite, generate_private_key
from jnx.security.masking import ID_NUMBER_LIKE
from jnx.settings import Settings
from jnx.store.db import create_engine_for, session_factory, upgrade
from jnx.store.models import (
    Delivery,
    DeliveryStatus,
    Disclosure,
    DisclosureAction,
    DisclosureKind,
    DisclosureRevision,
    DisclosureStatus,
    EnforcementPublicity,
    MappingErrorEntry,
    MappingErrorStatus,
    StandardRecord,
    utcnow,
)

Say = Callable[[str], None]
MIRROR_ID = "jn-province-mirror"


@dataclass(frozen=True)
class DemoOptions:
    records: int = 1000
    seed: int = 1
    keep: bool = False  # keep the previous demo database instead of starting afresh


def _mirror(case_handling: Mapping[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(dict(case_handling))
    doc.update(id=MIRROR_ID, name="山东省行政执法监督平台（济宁数据回流）", kind="other", schedule=None,
               department="山东省司法厅", department_credit_code="11370000MB2850055E", region="370800")
    return doc


def run_demo(options: DemoOptions, settings: Settings, say: Say) -> dict[str, Any]:
    """Run the whole exchange against the sandbox; the summary as a dict (``--json`` prints it)."""
    started = time.monotonic()
    home = settings.home / "demo"
    if home.exists() and not options.keep:
        shutil.rmtree(home)
    home.mkdir(parents=True, exist_ok=True)
    demo_settings = settings.model_copy(update={"home": home, "database_url": None})
    url = demo_settings.effective_database_url
    upgrade(url)
    say(f"database: {url}")
    keys = DemoKeys.generate()
    sandbox = Sandbox(SandboxConfig(seed=options.seed, records=options.records, port_base=0,
                                    unwrap=envelope_unwrap([keys.platform_enc], [keys.jnx_sig.public()])))
    say(f"starting the sandbox platforms ({options.records} records each, seed {options.seed})…")
    with sandbox:
        environment = secrets_from(sandbox.config.credentials)
        remember_secrets(environment)  # no log line, nothing on stderr shows them
        engine = create_engine_for(url)
        try:
            return _exchange(options, demo_settings, sandbox, engine, environment, keys, say, started)
        finally:
            engine.dispose()


@dataclass(frozen=True)
class DemoKeys:
    """Real keys, made for this demo only: jnx signs with ``jnx_sig``; the platform decrypts with ``platform_enc``."""

    jnx_sig: PrivateKey
    platform_enc: PrivateKey

    @classmethod
    def generate(cls) -> DemoKeys:
        return cls(generate_private_key("jnx-demo-sig-1", Suite.JOSE, KeyUse.SIG),
                   generate_private_key("sandbox-credit-enc-1", Suite.JOSE, KeyUse.ENC))


def _exchange(options: DemoOptions, settings: Settings, sandbox: Sandbox, engine: Any, environment: dict[str, str],
              keys: DemoKeys, say: Say, started: float) -> dict[str, Any]:
    documents = registrations_for(sandbox.urls())
    documents.append(_mirror(next(d for d in documents if d["id"] == "jn-case-handling")))
    ex = Exchange(settings=settings, engine=engine, environment=environment, worker_id="demo")
    changes: list[tuple[str, str, dict[str, Any]]] = []
    registry = SystemRegistry(on_change=lambda action, subject, details: changes.append((action, subject, details)))
    with session_factory(engine).begin() as session:
        for doc in documents:
            system, action = registry.register(session, parse_registration(doc, f"{doc['id']}.yaml", ex.catalog))
            say(f"registered {system.id} ({system.name}): {action.value}")
    audit = SqlAuditStore(engine)
    for change, subject, details in changes:  # after the commit: the chain has its own transaction
        audit.append(actor="jnx-demo", action=change, subject=subject, details=details, at=utcnow())
    derived = ex.deriver.summary  # the runs derive the 双公示 disclosures of what they store
    service = ex.runs()
    totals = PageCounts()
    runs: list[RunSummary] = []
    with session_factory(engine)() as session:
        credit = registry.get(session, next(d["id"] for d in documents if d["kind"] == "credit"))
    delivered = DeliverySummary()
    # two passes: the sources' records, then the revisions they report later (corrections, revocations,
    # changes of decisions), each pulled, derived and pushed — what 15-minute schedules do over days
    for step in ("first pull", "revisions"):
        if step == "revisions":
            revised = sum(sandbox.advance().values())
            say(f"the sources revise {revised} records (corrections, revoked and changed decisions)…")
        for doc in documents:
            if doc["kind"] == "credit":
                continue
            with log_context(system=doc["id"]):
                ran = service.run_now(doc["id"])
                runs.append(ran)
                totals.add(ran.counts)
                with log_context(run_id=ran.run_id):
                    say(f"ran {doc['id']} ({step}): {ran.status.value} — pulled {ran.counts.pulled}, new {ran.counts.new}, "
                        f"revised {ran.counts.revised}, merged {ran.counts.duplicates_merged}, with errors {ran.counts.errors}"
                        + (f" — {ran.error}" if ran.error else ""))
        # every disclosure is signed by jnx and encrypted to the platform (JWS in JWE), pushes and receipts audited
        with log_context(system=credit.id):
            with credit_outbox(engine, credit, MappingSecrets(environment), audit=audit,
                               sealer=EnvelopeSealer(keys.jnx_sig, keys.platform_enc.public())) as wired:
                passed = wired.deliver(limit=1_000_000)
            delivered.add(passed)
            say(f"pushed disclosures, signed and encrypted: {passed.acknowledged} acknowledged, {passed.rejected} rejected")
    summary = _summary(engine, runs, totals, derived.as_dict(), delivered.as_dict(), settings, time.monotonic() - started)
    summary["platform"] = platform_view(sandbox)
    summary["revoked"] = revoked_view(engine)
    with session_factory(engine)() as session:
        summary["enforcement_publicity"] = {status.value: count for status, count in session.execute(
            select(EnforcementPublicity.status, func.count()).group_by(EnforcementPublicity.status))}
    return summary


def revoked_view(engine: Any) -> dict[str, int]:
    """Decisions the sources mark revoked (撤销, 确认违法, 确认无效) and what became of their disclosures:
    ``published`` must be 0, and every one that was ever acknowledged has an acknowledged withdrawal."""
    with session_factory(engine)() as session:
        keys = {record.business_key for record in session.scalars(select(StandardRecord).where(StandardRecord.record_type == "penalty"))
                if revocation(record.data) is not None}
        disclosures = [d for d in session.scalars(select(Disclosure).where(Disclosure.kind == DisclosureKind.PENALTY))
                       if d.business_key in keys]
        acknowledged = {(row[0], row[1]) for row in session.execute(
            select(DisclosureRevision.disclosure_id, DisclosureRevision.action)
            .join(Delivery, Delivery.disclosure_revision_id == DisclosureRevision.id)
            .where(Delivery.status == DeliveryStatus.ACKNOWLEDGED,
                   DisclosureRevision.disclosure_id.in_([d.id for d in disclosures])))}
    shown = {d.id for d in disclosures
             if (d.id, DisclosureAction.NEW) in acknowledged or (d.id, DisclosureAction.CORRECTION) in acknowledged}
    return {"records": len(keys), "disclosures": len(disclosures),
            "published": sum(1 for d in disclosures if d.status is DisclosureStatus.PUBLISHED),
            "acknowledged_before": len(shown),
            "withdrawals_acknowledged": sum(1 for d in shown if (d, DisclosureAction.WITHDRAWAL) in acknowledged)}


def platform_view(sandbox: Sandbox) -> dict[str, int]:
    """What the sandbox credit platform holds after the pushes, checked from its side: how many records
    came from jnx, and how many natural persons' ID numbers it holds in clear (must be 0)."""
    store = sandbox.servers["credit"].platform.store  # type: ignore[attr-defined]
    pushed = [held for held in store.records.values() if held.source == "push"]
    clear = 0
    for held in pushed:
        for value in held.record.values():
            if isinstance(value, str):
                clear += sum(1 for m in ID_NUMBER_LIKE.findall(value) if check_id_number(m.upper()))
    return {"records_from_jnx": len(pushed), "records_filed_by_hand": len(store.records) - len(pushed),
            "receipts": len(store.receipts), "clear_id_numbers": clear}


def _summary(engine: Any, runs: list[RunSummary], totals: PageCounts, derived: dict[str, Any], delivered: dict[str, Any],
             settings: Settings, seconds: float) -> dict[str, Any]:
    today = beijing_today()
    with session_factory(engine)() as session:
        standard = session.scalar(select(func.count()).select_from(StandardRecord)) or 0
        errors_open = session.scalar(select(func.count(func.distinct(MappingErrorEntry.raw_record_id)))
                                     .where(MappingErrorEntry.status == MappingErrorStatus.OPEN)) or 0
        error_groups = len(groups(session))
        disclosures = session.scalar(select(func.count()).select_from(Disclosure)) or 0
        acknowledged = session.scalar(select(func.count(func.distinct(Delivery.disclosure_revision_id)))
                                      .where(Delivery.status == DeliveryStatus.ACKNOWLEDGED)) or 0
        rejected = session.scalar(select(func.count(func.distinct(Delivery.disclosure_revision_id)))
                                  .where(Delivery.status == DeliveryStatus.REJECTED)) or 0
        overdue = count_overdue(session, today)  # as `jnx disclosures list --overdue` counts them
    return {
        "pulled": totals.pulled,
        "standard_records": standard,
        "new": totals.new,
        "revised": totals.revised,
        "mapping_errors": errors_open,
        "error_groups": error_groups,
        "duplicates_merged": totals.duplicates_merged,
        "disclosures": disclosures,
        "disclosures_acknowledged": acknowledged,
        "disclosures_rejected": rejected,
        "overdue": overdue,
        "derived": derived,
        "delivery": delivered,
        "runs": [r.as_dict() for r in runs],
        "home": str(settings.home),
        "seconds": round(seconds, 2),
    }


def render(summary: dict[str, Any], say: Say) -> None:
    """The summary for a newcomer: what happened, and where to look next."""
    home = summary["home"]
    say("")
    say("jnx demo — what happened")
    say(f"  pulled {summary['pulled']} records in {len(summary['runs'])} runs of {len({r['system'] for r in summary['runs']})} systems "
        "(licensing SOAP, case-handling REST, double-random REST, and a provincial mirror of the case-handling feed)")
    say(f"  {summary['standard_records']} standard records stored "
        f"({summary['duplicates_merged']} duplicates merged into records another system had already reported)")
    say(f"  {summary['mapping_errors']} records wait in the errors queue, in {summary['error_groups']} groups by cause")
    say(f"  {summary['disclosures']} 双公示 disclosures derived; {summary['disclosures_acknowledged']} acknowledged by the "
        f"credit platform, {summary['disclosures_rejected']} rejected; {summary['overdue']} overdue")
    platform = summary.get("platform", {})
    if platform:
        say(f"  the credit platform holds {platform['records_from_jnx']} records from jnx "
            f"(and {platform['records_filed_by_hand']} filed by hand); ID numbers in clear there: {platform['clear_id_numbers']}")
    revoked = summary.get("revoked", {})
    if revoked:
        say(f"  {revoked['records']} penalties the sources mark revoked: {revoked['published']} shown on the platform; "
            f"{revoked['withdrawals_acknowledged']} of the {revoked['acknowledged_before']} published before were withdrawn")
    tracked = summary.get("enforcement_publicity", {})
    if tracked:
        say(f"  执法公示 (20 working days) of {sum(tracked.values())} 行政强制 / 行政检查 records: "
            f"{tracked.get('on_time', 0)} on time, {tracked.get('late', 0)} late, {tracked.get('revoked', 0)} revoked")
    say(f"  in {summary['seconds']:.1f} s")
    say("")
    jnx = _command_name()
    say("where to look next (the demo's data is in its own folder):")
    say(f"  export JNX_HOME={home}")
    say(f"  {jnx} errors groups             # why records failed, largest cause first")
    say(f"  {jnx} errors show ID            # one error beside its raw record (personal data masked)")
    say(f"  {jnx} disclosures list --overdue")
    say(f"  {jnx} runs list")
    say("  docs/ explains each part; examples/systems/ holds registration files to copy")


def _command_name() -> str:
    """``jnx`` when that is what the shell finds, else the path the demo was started with (.venv/bin/jnx)."""
    invoked = sys.argv[0] if sys.argv and sys.argv[0].endswith("jnx") else "jnx"
    found = shutil.which("jnx")
    if found is not None and Path(found).resolve() == Path(invoked).resolve():
        return "jnx"
    return invoked
