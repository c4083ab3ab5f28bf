"""Done when (issue 19): stopping a sandbox platform opens a "line down" alert that reaches a webhook on
loopback (signed: the receiver checks the HMAC) and an SMTP server (aiosmtpd) on loopback; restarting
the platform resolves the alert, and the resolution reaches both too. SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from jnx.ops.watch import AlertWatch
from jnx.sandbox.runner import Sandbox, SandboxConfig
from jnx.settings import AlertSettings, Settings
from jnx.store.db import create_engine_for, session_factory
from jnx.store.models import Alert, AlertKind, AlertNotification
from tests.exchange.test_crash_safety import ENVIRONMENT, register, registration
from tests.ops.receivers import SECRET, smtp_server, webhook

pytestmark = pytest.mark.integration

SYSTEM = "jn-case-handling"


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(SandboxConfig(seed=3, records=20, port_base=0)) as running:
        yield running


def test_a_stopped_platform_opens_a_line_down_alert_and_its_restart_resolves_it(
        sandbox: Sandbox, database_url: str, tmp_path: Path) -> None:
    with webhook() as hook, smtp_server() as mail:
        alerts = AlertSettings(webhook_url=hook.url, webhook_secret={"env": "JNX_TEST_HOOK_SECRET"},
                               email_to=["ops@jining.example", "duty@jining.example"], smtp_host="127.0.0.1",
                               smtp_port=mail.port, email_from="jnx@jining.example")
        settings = Settings(home=tmp_path, database_url=database_url, alerts=alerts)
        engine = create_engine_for(database_url)
        try:
            register(engine, registration(sandbox, SYSTEM))
            watch = AlertWatch.build(settings, engine, {**ENVIRONMENT, "JNX_TEST_HOOK_SECRET": SECRET})

            first = watch.check()
            assert first is not None and first.opened == [] and "line_down" in first.checked

            sandbox.servers["case_handling"].stop()
            down = watch.check()
            assert down is not None and len(down.opened) == 2, down.as_dict()  # primary and backup
            assert sorted(hook.events()) == [("alert.opened", "line_down", f"line:{SYSTEM}/backup"),
                                             ("alert.opened", "line_down", f"line:{SYSTEM}/primary")]
            assert hook.refused == 0
            assert {b["alert"]["severity"] for b in hook.received} == {"critical"}  # no line of the system answers
            assert len(mail.messages) == 2 and all(m["Subject"].startswith("[jnx CRITICAL] line ") for m in mail.messages)
            assert mail.envelopes[0] == ("jnx@jining.example", ["ops@jining.example", "duty@jining.example"])

            again = watch.check()  # still down: updated, not opened again, nothing sent again
            assert again is not None and again.opened == [] and sorted(again.updated) == sorted(down.opened)
            assert len(hook.received) == 2 and len(mail.messages) == 2

            sandbox.servers["case_handling"].start()
            up = watch.check()
            assert up is not None and sorted(up.resolved) == sorted(down.opened)
            assert sorted(e for e in hook.events() if e[0] == "alert.resolved") == [
                ("alert.resolved", "line_down", f"line:{SYSTEM}/backup"),
                ("alert.resolved", "line_down", f"line:{SYSTEM}/primary")]
            assert len(mail.messages) == 4 and sum(m["Subject"].startswith("[jnx RESOLVED]") for m in mail.messages) == 2

            with session_factory(engine)() as session:
                rows = list(session.scalars(select(Alert).order_by(Alert.id)))
                assert [(a.kind, a.resolved_at is not None) for a in rows] == [(AlertKind.LINE_DOWN, True)] * 2
                assert all(a.notifications["opened"]["webhook"]["state"] == "sent" for a in rows)
                assert all(a.notifications["resolved"]["email"]["state"] == "sent" for a in rows)
                attempts = session.scalars(select(AlertNotification)).all()
                assert len(attempts) == 8 and all(n.ok for n in attempts)  # 2 alerts × 2 events × 2 channels
                assert SECRET not in " ".join(f"{n.target} {n.answer}" for n in attempts)
        finally:
            engine.dispose()


def test_jnx_serve_itself_tells_the_webhook_of_the_line_down_and_of_its_end(
        sandbox: Sandbox, database_url: str, tmp_path: Path) -> None:
    """The same, through a real `jnx serve` process evaluating every second."""
    import os
    import signal
    import subprocess
    import sys
    import time

    engine = create_engine_for(database_url)
    register(engine, registration(sandbox, SYSTEM))
    engine.dispose()
    with webhook() as hook:
        env = {**os.environ, **ENVIRONMENT, "JNX_DATABASE_URL": database_url, "JNX_HOME": str(tmp_path),
               "JNX_ALERTS__INTERVAL_SECONDS": "1", "JNX_ALERTS__WEBHOOK_URL": hook.url,
               "JNX_ALERTS__WEBHOOK_SECRET__ENV": "JNX_TEST_HOOK_SECRET", "JNX_TEST_HOOK_SECRET": SECRET}
        log = (tmp_path / "serve.log").open("wb")
        serve = subprocess.Popen([sys.executable, "-m", "jnx.cli", "serve", "--workers", "1", "--no-deliver"], env=env,
                                 stdout=subprocess.DEVNULL, stderr=log)

        def until(events: int) -> None:
            deadline = time.monotonic() + 90
            while len(hook.received) < events and time.monotonic() < deadline:
                assert serve.poll() is None, (tmp_path / "serve.log").read_text()[-2000:]
                time.sleep(0.1)

        try:
            time.sleep(1)
            sandbox.servers["case_handling"].stop()
            until(2)
            assert sorted(e[0] for e in hook.events()) == ["alert.opened"] * 2
            sandbox.servers["case_handling"].start()
            until(4)
            assert sorted(e[0] for e in hook.events()) == ["alert.opened"] * 2 + ["alert.resolved"] * 2
            assert hook.refused == 0 and {e[2] for e in hook.events()} == {f"line:{SYSTEM}/primary", f"line:{SYSTEM}/backup"}
        finally:
            serve.send_signal(signal.SIGTERM)
            try:
                serve.wait(timeout=60)
            except subprocess.TimeoutExpired:
                serve.kill()
                serve.wait()
            log.close()
        assert serve.returncode == 0, (tmp_path / "serve.log").read_text()[-2000:]
