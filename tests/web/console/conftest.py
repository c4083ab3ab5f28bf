"""The console's test bed: the demo's data (``jnx demo`` at a small size, run as a user runs it, once per session), users of
each role, the console served by uvicorn on loopback, and Debian's Chromium driven by Playwright."""

from __future__ import annotations

import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import uvicorn

from jnx.security.accounts import Accounts
from jnx.security.audit_sql import SqlAuditStore
from jnx.settings import AccountSettings, Settings
from jnx.store.db import create_engine_for, session_factory
from jnx.web.console import create_console_app

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
FIRST_PASSWORD = "Jining#2026first"
PASSWORD = "Jining#2026later"
#: 济宁市司法局, the department of the demo's case-handling system
JUSTICE_BUREAU = "11370800004180002M"


@dataclass(frozen=True)
class Demo:
    settings: Settings
    url: str  # the console, served on loopback


def fast_accounts() -> AccountSettings:
    return AccountSettings(argon2_time_cost=1, argon2_memory_kib=1024)


def add_user(settings: Settings, username: str, roles: list[str], department: str | None = None) -> None:
    engine = create_engine_for(settings.effective_database_url)
    notes: list[tuple[str, str, str, dict[str, Any]]] = []
    try:
        with session_factory(engine).begin() as session:
            Accounts(session, settings.accounts, note=lambda *a: notes.append(a)).add(
                "test", username, roles=roles, password=FIRST_PASSWORD, department=department, display_name=username)
        audit = SqlAuditStore(engine)
        for actor, action, subject, details in notes:
            audit.append(actor=actor, action=action, subject=subject, details=details, at=dt.datetime.now(dt.UTC))
    finally:
        engine.dispose()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="session")
def demo_settings(tmp_path_factory: pytest.TempPathFactory) -> Settings:
    home = tmp_path_factory.mktemp("console-demo")
    settings = Settings(home=home, database_url=None, accounts=fast_accounts())
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNX_")} | {"JNX_HOME": str(home)}
    done = subprocess.run([sys.executable, "-m", "jnx.cli", "demo", "--records", "150", "--seed", "3", "--json"], env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    demo = settings.model_copy(update={"home": home / "demo"})
    for name, roles, department in (
        ("op", ["operator"], None),
        ("officer", ["department-officer"], JUSTICE_BUREAU),
        ("credit", ["credit-operator"], None),
        ("auditor", ["audit-admin"], None),
        ("secadmin", ["security-admin"], None),
        ("judge", ["supervisor"], None),
        ("sysadmin", ["system-admin"], None),
    ):
        add_user(demo, name, roles, department)
    return demo


@pytest.fixture
def demo_copy(demo_settings: Settings, tmp_path: Path) -> Iterator[tuple[Settings, Any]]:
    """A copy of the demo's home (its database) with an operator ``fixer`` and an officer ``stranger`` of
    another department, and an in-process client of the console on it: tests that change data."""
    from fastapi.testclient import TestClient

    home = tmp_path / "demo"
    shutil.copytree(demo_settings.home, home)
    settings = demo_settings.model_copy(update={"home": home})
    add_user(settings, "fixer", ["operator"])
    add_user(settings, "stranger", ["department-officer"], "11370800MB28500117")
    with TestClient(create_console_app(settings, environment={})) as client:
        yield settings, client


@pytest.fixture(scope="session")
def console(demo_settings: Settings) -> Iterator[Demo]:
    port = _free_port()
    app = create_console_app(demo_settings, environment={})
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started:
        if time.monotonic() > deadline:
            raise RuntimeError("the console did not start")
        time.sleep(0.05)
    yield Demo(demo_settings, f"http://127.0.0.1:{port}")
    server.should_exit = True
    thread.join(10)


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where each page's screenshot goes: ``JNX_CONSOLE_SCREENSHOTS`` or a temporary folder."""
    wanted = os.environ.get("JNX_CONSOLE_SCREENSHOTS")
    folder = Path(wanted) if wanted else tmp_path_factory.mktemp("screenshots")
    folder.mkdir(parents=True, exist_ok=True)
    return folder


@pytest.fixture(scope="session")
def playwright_instance() -> Iterator[Any]:
    if not Path(CHROMIUM).exists() or shutil.which("chromium") is None:
        pytest.skip("Debian's chromium is not installed (apt-get install -y chromium fonts-noto-cjk)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        yield playwright


@pytest.fixture
def browser(playwright_instance: Any) -> Iterator[Any]:
    """A fresh Chromium (its own user-data-dir) at 1366×768, Chinese first; console errors collected."""
    profile = tempfile.mkdtemp(prefix="jnx-chromium-")
    context = playwright_instance.chromium.launch_persistent_context(
        profile, executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True, viewport={"width": 1366, "height": 768},
        locale="zh-CN", timezone_id="Asia/Shanghai")
    context.set_default_timeout(15_000)
    try:
        yield context
    finally:
        context.close()
        shutil.rmtree(profile, ignore_errors=True)
