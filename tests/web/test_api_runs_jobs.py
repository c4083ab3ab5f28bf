"""Runs and jobs through the real app on SQLite and PostgreSQL: runs listed in cursor pages as
`jnx runs list --json` prints them, one run with its per-page counts, a run started over HTTP as a
job (202, Location, polled, followed as server-sent events, seen by `jnx jobs show`), a job of another
user is 404, and a job whose process died is marked failed once its lease is over."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.adapters.base import Adapters
from jnx.adapters.testing import FakePuller
from jnx.exchange.wiring import Exchange
from jnx.security.accounts import Accounts
from jnx.security.audit_sql import SqlAuditStore
from jnx.services.jobs import JobRunner
from jnx.settings import Settings
from jnx.store.models import Job, JobStatus, Run
from tests.commands.conftest import Jnx
from tests.exchange.test_conflicts import _feed_of
from tests.web.api_support import _auth

SYSTEM = "jn-case-handling"

pytestmark = pytest.mark.usefixtures("cli_on_the_same_database")


def wait_for(client: TestClient, url: str, headers: dict[str, str], seconds: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + seconds
    while True:
        answer = client.get(url, headers=headers)
        assert answer.status_code == 200, answer.text
        if answer.json()["status"] not in ("queued", "running") or time.monotonic() > deadline:
            return dict(answer.json())
        time.sleep(0.2)


def test_runs_page_as_the_cli_lists_them_and_one_run_has_its_page_counts(
        token: Callable[..., str], client: TestClient, data: Any, run: Any, cases: list[dict[str, Any]], jnx: Jnx) -> None:
    run(cases[:1])  # a second run
    headers = _auth(token())
    cli = jnx("runs", "list", "--json")
    assert cli.code == 0, cli.err
    whole = client.get("/api/v1/runs", headers=headers).json()
    assert whole == cli.json() and whole["count"] == 2 and whole["next_cursor"] is None
    seen, cursor = [], None
    while True:
        page = client.get("/api/v1/runs", params={"limit": 1, **({"cursor": cursor} if cursor else {})}, headers=headers).json()
        seen += page["runs"]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == whole["runs"] and [r["run_id"] for r in seen] == sorted((r["run_id"] for r in seen), reverse=True)
    department = whole["runs"][0]["department"]
    assert client.get("/api/v1/runs", params={"department": department}, headers=headers).json()["count"] == 2
    assert client.get("/api/v1/runs", params={"department": "none-such"}, headers=headers).json()["count"] == 0
    assert client.get("/api/v1/runs", params={"status": "failed"}, headers=headers).json()["count"] == 0
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    assert client.get("/api/v1/runs", params={"since": later}, headers=headers).json()["count"] == 0
    assert client.get("/api/v1/runs", params={"until": later}, headers=headers).json()["count"] == 2
    assert client.get("/api/v1/runs", params={"since": "2026-01-01T00:00:00"}, headers=headers).status_code == 422  # no offset

    first = whole["runs"][-1]["run_id"]
    shown = client.get(f"/api/v1/runs/{first}", headers=headers).json()
    assert shown == jnx("runs", "show", str(first), "--json").json()
    assert shown["pages"] and sum(p["pulled"] for p in shown["pages"]) == shown["pulled"] == 3
    assert shown["error_groups"] and shown["error_groups"][0]["records"] == 1
    assert client.get("/api/v1/runs/999999", headers=headers).status_code == 404


def test_a_department_officer_sees_its_runs_only(token: Callable[..., str], client: TestClient, settings: Settings,
                                                 migrated_engine: Engine, data: Any) -> None:
    with Session(migrated_engine) as session, session.begin():
        Accounts(session, settings.accounts, note=lambda *a: None).add(
            "cli:test", "stranger", roles=["department-officer"], password="Str0ng-pass-word", department="11370800MB0000000B")
    headers = _auth(token("stranger-token", user="stranger"))
    assert client.get("/api/v1/runs", headers=headers).json() == {"runs": [], "count": 0, "next_cursor": None}
    run_id = client.get("/api/v1/runs", headers=_auth(token())).json()["runs"][0]["run_id"]
    assert client.get(f"/api/v1/runs/{run_id}", headers=headers).status_code == 404
    assert client.post(f"/api/v1/systems/{SYSTEM}/runs", headers=headers).status_code == 404  # not its system


def test_a_run_started_over_http_is_a_job_to_poll_and_to_follow(
        token: Callable[..., str], client: TestClient, migrated_engine: Engine, data: Any, cases: list[dict[str, Any]],
        jnx: Jnx, monkeypatch: pytest.MonkeyPatch) -> None:
    original = Exchange.runs

    def fed(self: Exchange) -> Any:
        service = original(self)
        service.adapters_factory = lambda config, secrets: Adapters(pullers={"penalty": FakePuller(_feed_of(cases))})
        return service

    monkeypatch.setattr(Exchange, "runs", fed)
    headers = _auth(token("scheduler"))
    answer = client.post(f"/api/v1/systems/{SYSTEM}/runs", json={"full": True}, headers=headers)
    assert answer.status_code == 202, answer.text
    job = answer.json()
    assert answer.headers["Location"] == f"/api/v1/jobs/{job['id']}" == job["links"]["self"]
    assert job["kind"] == "runs.start" and job["status"] in ("queued", "running", "succeeded")

    with client.stream("GET", job["links"]["events"], headers=headers) as events:
        assert events.status_code == 200 and events.headers["content-type"].startswith("text/event-stream")
        text = "".join(events.iter_text())
    blocks = [b for b in text.split("\n\n") if b.strip() and not b.startswith(":")]
    names = [line.split(": ", 1)[1] for b in blocks for line in b.splitlines() if line.startswith("event: ")]
    assert names[-1] == "end" and set(names) <= {"progress", "end"}
    last = json.loads(next(line for line in blocks[-1].splitlines() if line.startswith("data: "))[6:])
    assert last["status"] == "succeeded" and last["result"]["status"] == "succeeded" and last["percent"] == 100

    done = wait_for(client, job["links"]["self"], headers)
    assert done == last
    run_id = done["result"]["run_id"]
    assert client.get(f"/api/v1/runs/{run_id}", headers=headers).json()["trigger"] == "manual"
    assert jnx("jobs", "show", job["id"], "--json").json() == done  # the CLI reads the same row
    listed = client.get("/api/v1/jobs", headers=headers).json()
    assert [j["id"] for j in listed["jobs"]] == [job["id"]] and listed["next_cursor"] is None
    assert jnx("jobs", "list", "--json").json()["jobs"][0]["id"] == job["id"]

    actors = {e.action: e.actor for e in SqlAuditStore(migrated_engine).entries()}
    assert actors["jobs.started"].endswith("/token:scheduler") and actors["run.started"].endswith("/token:scheduler")

    other = _auth(token("another"))  # another token of the same owner: its user's jobs
    assert client.get(job["links"]["self"], headers=other).status_code == 200


def test_a_job_of_another_user_is_not_found(token: Callable[..., str], client: TestClient, settings: Settings,
                                            migrated_engine: Engine) -> None:
    with Session(migrated_engine) as session, session.begin():
        Accounts(session, settings.accounts, note=lambda *a: None).add(
            "cli:test", "watcher", roles=["operator"], password="Str0ng-pass-word")
        row = JobRunner(migrated_engine).create(session, kind="runs.start", title="Run", subject="system:x", owner="api:someone-else")
        job_id = row.id
    headers = _auth(token("watcher-token", user="watcher"))
    assert client.get(f"/api/v1/jobs/{job_id}", headers=headers).status_code == 404
    assert client.get(f"/api/v1/jobs/{job_id}/events", headers=headers).status_code == 404
    assert client.get("/api/v1/jobs/not-a-job", headers=headers).status_code == 422
    assert client.get("/api/v1/jobs", headers=headers).json()["jobs"] == []


def test_a_job_whose_process_died_is_failed_once_its_lease_is_over(token: Callable[..., str], client: TestClient,
                                                                    migrated_engine: Engine, jnx: Jnx) -> None:
    with Session(migrated_engine) as session, session.begin():
        row = JobRunner(migrated_engine).create(session, kind="errors.replay", title="Replay", subject="all", owner="cli:test")
        row.status = JobStatus.RUNNING
        row.lease_expires_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        job_id = row.id
    shown = jnx("jobs", "show", job_id, "--json")
    assert shown.code == 0, shown.err
    assert shown.json()["status"] == "failed" and "lease expired" in shown.json()["error"]
    with Session(migrated_engine) as session:
        assert session.scalars(select(Job.status)).one() is JobStatus.FAILED
        assert session.scalars(select(Run)).first() is None
