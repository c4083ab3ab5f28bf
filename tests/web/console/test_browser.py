"""A journey per role through the console in Debian's Chromium: log in (changing the first password,
setting up TOTP where the role needs it), the overview, an error group, a replay previewed then
applied and watched, a withdrawal, the audit chain verified — no JavaScript error on any page, and a
screenshot of each page in the screenshots folder."""

from __future__ import annotations

import datetime as dt
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from jnx.exchange import error_queue
from jnx.security import totp
from jnx.store.db import create_engine_for, session_factory
from jnx.store.models import MappingErrorEntry, MappingErrorStatus, SourceSystem
from tests.web.console.conftest import FIRST_PASSWORD, JUSTICE_BUREAU, PASSWORD, Demo

pytestmark = [pytest.mark.browser, pytest.mark.e2e, pytest.mark.integration]


class Journey:
    """One user's pages: each visit checked for JavaScript errors and photographed."""

    def __init__(self, browser: Any, demo: Demo, folder: Path, role: str) -> None:
        self.page = browser.new_page()
        self.demo, self.folder, self.role = demo, folder, role
        self.problems: list[str] = []
        self.page.on("console", lambda m: self.problems.append(f"{m.type}: {m.text}") if m.type == "error" else None)
        self.page.on("pageerror", lambda e: self.problems.append(f"page error: {e}"))

    def go(self, path: str) -> Any:
        self.page.goto(self.demo.url + path)
        return self.page

    def shot(self, name: str) -> None:
        self.page.wait_for_load_state("networkidle")
        self.page.screenshot(path=str(self.folder / f"{self.role}-{name}.png"))

    def login(self, username: str, *, totp_secret: list[str] | None = None) -> None:
        page = self.go("/login")
        assert page.locator("form input[name=username]").count() == 1
        assert page.locator("form input[name=password]").count() == 1
        self.shot("login")
        page.fill("input[name=username]", username)
        page.fill("input[name=password]", FIRST_PASSWORD)
        page.click("form button[type=submit]")
        assert page.url.endswith("/password"), page.url
        self.shot("password")
        page.fill("input[name=new_password]", PASSWORD)
        page.fill("input[name=confirm_password]", PASSWORD)
        page.click("main form button[type=submit]")
        if page.url.endswith("/totp"):
            assert totp_secret is not None, "this role was asked for TOTP"
            page.click("main form button[type=submit]")  # create a key
            secret = page.locator("[data-totp-secret]").inner_text().strip()
            totp_secret.append(secret)
            page.fill("input[name=code]", totp.code_at(secret, dt.datetime.now(dt.UTC)))
            page.click("main form button[type=submit]")
            assert page.locator("[data-recovery-codes]").count() == 1
            self.shot("totp")
            page.click("text=继续")

    def done(self) -> None:
        assert self.problems == [], self.problems
        self.page.close()


def _engine(demo: Demo) -> Any:
    return create_engine_for(demo.settings.effective_database_url)


def _groups(demo: Demo) -> list[error_queue.ErrorGroup]:
    engine = _engine(demo)
    try:
        with session_factory(engine)() as session:
            return error_queue.groups(session)
    finally:
        engine.dispose()


def _open_errors(demo: Demo) -> int:
    engine = _engine(demo)
    try:
        with session_factory(engine)() as session:
            from sqlalchemy import func, select

            return int(session.scalar(select(func.count()).select_from(MappingErrorEntry)
                                      .where(MappingErrorEntry.status == MappingErrorStatus.OPEN)) or 0)
    finally:
        engine.dispose()


def _cli_groups_after_replay(demo: Demo, group: str, tmp: Path) -> dict[str, int]:
    """What `jnx errors replay --group G` does to the groups, on a copy of the database."""
    home = tmp / "cli-home"
    shutil.copytree(demo.settings.home, home)
    env = {k: v for k, v in os.environ.items() if not k.startswith("JNX_")} | {"JNX_HOME": str(home)}
    subprocess.run([sys.executable, "-m", "jnx.cli", "errors", "replay", "--group", group, "--json"], env=env,
                   check=True, capture_output=True, timeout=120)
    listed = subprocess.run([sys.executable, "-m", "jnx.cli", "errors", "groups", "--json"], env=env, check=True,
                            capture_output=True, text=True, timeout=60)
    return {g["group"]: g["records"] for g in json.loads(listed.stdout)["groups"]}


def test_operator_reviews_errors_and_replays_a_group(browser: Any, console: Demo, screenshots: Path, tmp_path: Path) -> None:
    me = Journey(browser, console, screenshots, "operator")
    me.login("op")
    page = me.go("/")
    engine = _engine(console)
    with session_factory(engine)() as session:
        from sqlalchemy import select

        system_ids = list(session.scalars(select(SourceSystem.id)))
    engine.dispose()
    text = page.locator("main").inner_text()
    for system_id in system_ids:
        assert system_id in text
    me.shot("overview")

    page = me.go("/errors")
    groups = _groups(console)
    rows = page.locator("table[data-list=error-groups] tbody tr")
    assert rows.count() == min(len(groups), 50)
    first = rows.nth(0)
    assert first.locator("td[data-col=system]").inner_text() == groups[0].system
    assert first.locator("td[data-col=records]").inner_text() == str(groups[0].records)
    me.shot("errors")

    # the largest group, then one error beside its raw record with the failing field marked
    first.locator("td[data-col=records] a").click()
    assert page.locator("[data-figure=records]").inner_text() == str(groups[0].records)
    me.shot("error-group")
    page.locator("table[data-list^=errors] tbody tr td[data-col=id] a").first.click()
    assert page.locator("pre[data-raw]").count() == 1
    me.shot("error")

    # preview a replay: a GET that changes nothing
    target = groups[1] if len(groups) > 1 else groups[0]
    before = _open_errors(console)
    page = me.go(f"/errors/replay?group={target.group}")
    assert page.locator("[data-touches]").get_attribute("data-touches") == str(target.records)
    assert _open_errors(console) == before
    me.shot("replay-preview")
    expected = _cli_groups_after_replay(console, target.group, tmp_path)

    page.locator("form[method=post][action='/errors/replay'] button[type=submit]").click()
    page.wait_for_selector("[data-job][data-state=done]", timeout=60_000)
    me.shot("replay-done")
    after = {g.group: g.records for g in _groups(console)}
    assert after.get(target.group, 0) == expected.get(target.group, 0)

    me.go("/systems")
    me.shot("systems")
    me.go(f"/systems/{target.system}")
    me.shot("system")
    page = me.go("/runs")
    me.shot("runs")
    page.locator("table[data-list=runs] tbody tr td[data-col=id] a").first.click()
    me.shot("run")
    page = me.go("/mappings")
    me.shot("mappings")
    page.locator("table[data-list=mapping-tables] tbody tr td[data-col=name] a").first.click()
    assert page.locator("main table.list tbody tr").count() > 0
    me.shot("mapping")
    page.click("text=用已存记录试映射")  # the version tried on stored records: nothing stored
    assert int(page.locator("[data-figure=mapped]").inner_text().replace(",", "")) >= 0
    me.shot("mapping-test")
    page = me.go("/records")
    page.locator("table[data-list=records] tbody tr td[data-col=id] a").first.click()
    assert page.locator("h2").filter(has_text="原始记录").count() == 1
    me.shot("record")

    # correct one raw record in a form: preview (nothing changes), then apply; its lineage names the user
    engine = _engine(console)
    with session_factory(engine)() as session:
        from sqlalchemy import select

        wrong = session.scalars(select(MappingErrorEntry).where(
            MappingErrorEntry.system_id == "jn-case-handling", MappingErrorEntry.field == "party_type",
            MappingErrorEntry.rule == "code.unknown", MappingErrorEntry.status == MappingErrorStatus.OPEN)
            .order_by(MappingErrorEntry.id)).first()
        assert wrong is not None and wrong.source_path
        wrong_id, source_path = wrong.id, wrong.source_path
    engine.dispose()
    page = me.go(f"/errors/{wrong_id}")
    page.click("text=更正这条记录…")
    assert page.locator("tr[data-failing] th label").first.inner_text() == source_path
    page.fill(f"input[name='field:{source_path}']", "2")
    page.click("text=预览更正")
    assert page.locator("[data-figure=fixed]").get_attribute("class") == "good"
    me.shot("correct-preview")
    before = _open_errors(console)
    page.fill("input[name=reason]", "源系统当事人类型录入错误")
    page.click("text=应用更正")
    assert re.search(r"/records/\d+$", page.url) and page.locator(".flash.ok").count() == 1
    assert _open_errors(console) < before
    assert "op 手工更正" in page.locator("main").inner_text()
    me.shot("corrected-record")
    me.done()


def test_department_officer_sees_only_its_department(browser: Any, console: Demo, screenshots: Path) -> None:
    me = Journey(browser, console, screenshots, "officer")
    me.login("officer")
    engine = _engine(console)
    with session_factory(engine)() as session:
        from sqlalchemy import select

        own = set(session.scalars(select(SourceSystem.id).where(SourceSystem.department_credit_code == JUSTICE_BUREAU)))
        others = set(session.scalars(select(SourceSystem.id))) - own
    engine.dispose()
    assert own and others
    page = me.go("/")
    listed = set(page.locator("td[data-col=id]").all_inner_texts())
    assert listed == own
    me.shot("overview")
    page = me.go("/errors")
    assert set(page.locator("td[data-col=system]").all_inner_texts()) <= own
    me.shot("errors")
    page = me.go(f"/systems/{sorted(others)[0]}")
    assert page.locator("main").inner_text().count("no system") == 1
    me.problems = [p for p in me.problems if "404" not in p]  # the refused page answers 404, as a missing row would
    me.done()


def test_credit_operator_withdraws_a_disclosure(browser: Any, console: Demo, screenshots: Path) -> None:
    me = Journey(browser, console, screenshots, "credit")
    me.login("credit")
    page = me.go("/disclosures?status=published")
    me.shot("disclosures")
    page.locator("table[data-list=disclosures] tbody tr td[data-col=id] a").first.click()
    number = re.search(r"/disclosures/(\d+)", page.url)
    assert number is not None
    me.shot("disclosure")
    page.click("text=撤销公示…")
    assert page.locator("[data-touches]").get_attribute("data-touches") == "1"
    me.shot("withdraw-confirm")
    page.fill("input[name=reason]", "决定被撤销")
    page.locator("form[action$='/withdraw'] button[type=submit]").click()
    assert page.url.endswith(f"/disclosures/{number.group(1)}")
    assert page.locator(".flash.ok").count() == 1
    assert page.locator("[data-revision]").count() >= 2
    # reconciliation: the demo's platform is gone (its sandbox stopped), so the job ends with a message saying why
    me.go("/disclosures")
    page.click("text=与信用平台对账…")
    page.locator("form[method=post][action='/disclosures/reconcile'] button[type=submit]").click()
    page.wait_for_selector("[data-job]:not([data-state=running])", timeout=120_000)
    assert page.locator("[data-job]").get_attribute("data-state") in {"done", "failed"}
    assert "Traceback" not in page.content()
    me.shot("reconcile")
    me.done()


def test_audit_admin_verifies_the_chain(browser: Any, console: Demo, screenshots: Path) -> None:
    me = Journey(browser, console, screenshots, "auditor")
    me.login("auditor", totp_secret=[])
    page = me.go("/audit")
    assert page.locator("table[data-list=audit] tbody tr").count() > 0
    me.shot("audit")
    page.click("text=校验审计链")
    assert page.locator("[data-chain=ok]").count() == 1
    me.shot("audit-verify")
    me.done()


def test_security_admin_sees_the_users(browser: Any, console: Demo, screenshots: Path) -> None:
    me = Journey(browser, console, screenshots, "secadmin")
    me.login("secadmin", totp_secret=[])
    page = me.go("/users")
    names = page.locator("td[data-col=username]").all_inner_texts()
    assert {"op", "officer", "credit", "auditor", "secadmin"} <= set(names)
    me.shot("users")
    page = me.go("/me")
    me.shot("me")
    page = me.go("/users?lang=en")
    assert "Users" in page.locator("header nav").inner_text()
    assert "Users" in me.go("/me").locator("header nav").inner_text()  # the choice is kept (cookie)
    me.done()


def test_supervisor_reads_everything_and_changes_nothing(browser: Any, console: Demo, screenshots: Path) -> None:
    me = Journey(browser, console, screenshots, "supervisor")
    me.login("judge")
    page = me.go("/errors")
    assert page.locator("table[data-list=error-groups] tbody tr").count() > 0
    page.locator("td[data-col=records] a").first.click()
    assert page.locator("text=预览重放…").count() == 0  # no action offered to a read-only role
    before = _open_errors(console)
    group = page.url.rsplit("/", 1)[1]
    me.go(f"/errors/replay?group={group}")  # the preview reads, and is allowed …
    assert me.page.locator("[data-touches]").count() == 1
    me.page.locator("form[method=post][action='/errors/replay'] button[type=submit]").click()
    assert me.page.locator("main").inner_text().count("errors.replay") == 1  # … applying it is refused (403)
    assert _open_errors(console) == before
    me.problems = [p for p in me.problems if "403" not in p]
    page = me.go("/audit")
    assert page.locator("table[data-list=audit] tbody tr").count() > 0
    me.shot("audit")
    me.done()


def test_system_admin_disables_and_enables_a_system(browser: Any, console: Demo, screenshots: Path, tmp_path: Path) -> None:
    me = Journey(browser, console, screenshots, "sysadmin")
    me.login("sysadmin", totp_secret=[])
    page = me.go("/systems")
    me.shot("systems")
    page.locator("table[data-list=systems] tbody tr td[data-col=id] a").first.click()
    system_url = page.url
    page.click("text=停用…")
    assert page.locator("[data-touches]").get_attribute("data-touches") == "1"
    me.shot("disable-confirm")
    page.locator("main form[method=post] button[type=submit]").click()
    assert page.url == system_url and page.locator(".flash.ok").count() == 1
    assert page.locator("h1 .badge").inner_text() == "已停用"
    page.click("text=启用…")
    page.locator("main form[method=post] button[type=submit]").click()
    assert page.locator("h1 .badge").inner_text() == "已启用"

    # a registration uploaded and checked: each problem at its line in the file, nothing saved
    example = (Path(__file__).parents[3] / "examples" / "systems" / "licensing.yaml").read_text(encoding="utf-8")
    broken = tmp_path / "licensing-new.yaml"
    broken.write_text(re.sub(r"\nschedule: .*", "\nschedule: every day at two", example.replace("id: jn-licensing", "id: jn-licensing-new"),
                             count=1), encoding="utf-8")
    page = me.go("/systems")
    page.click("text=登记系统…")
    page.set_input_files("input[name=file]", str(broken))
    page.click("text=检查（不保存）")
    assert page.locator("[data-check=failed]").count() == 1 and page.locator("[data-line-error]").count() == 1
    page.click("[data-problems] a")  # the problem's link goes to its line
    me.shot("register-check")
    me.done()
