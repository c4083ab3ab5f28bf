"""/healthz and /readyz on `jnx web` and on the listener of `jnx serve --metrics-port`: no login; /readyz
503 while the database is unreachable (SQLite file gone, PostgreSQL behind a stopped relay), the
schema is old or the key store does not open — and 200 again once the cause is gone."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import make_url

from jnx.ops.health import KeyStoreCheck, readiness_probe
from jnx.ops.listener import ops_app, serve_in_thread, stop_server
from jnx.security.keys import KeyUse, Suite
from jnx.security.keystore import FileKeyStore
from jnx.settings import Settings
from jnx.store.db import create_engine_for
from jnx.web.app import create_app
from tests.ops.conftest import free_port


@pytest.fixture
def served() -> Iterator[Any]:
    servers: list[Any] = []

    def serve(app: Any) -> str:
        port = free_port()
        servers.append(serve_in_thread(app, "127.0.0.1", port, name="test-ops"))
        base = f"http://127.0.0.1:{port}"
        for _ in range(100):
            try:
                requests.get(base + "/healthz", timeout=2)
                return base
            except requests.ConnectionError:
                time.sleep(0.05)
        raise AssertionError("the server did not start")

    yield serve
    for server in servers:
        stop_server(server)


def _ready(base: str) -> tuple[int, dict[str, Any]]:
    answer = requests.get(base + "/readyz", timeout=10)
    return answer.status_code, {c["name"]: c for c in answer.json()["checks"]}


def _unreachable(database_url: str, relay_to_postgres: Any) -> tuple[str, Any, Any]:
    """A URL to the test's database, a way to make it unreachable and one to bring it back."""
    parsed = make_url(database_url)
    if parsed.get_backend_name() == "sqlite":
        path = Path(parsed.database or "")
        aside = path.with_name(path.name + ".aside")
        return database_url, lambda: path.rename(aside), lambda: aside.rename(path)
    relay, url = relay_to_postgres(database_url)
    return url, relay.stop, relay.start


def test_web_answers_health_without_login_and_readyz_follows_the_database(
    database_url: str, tmp_path: Path, served: Any, relay_to_postgres: Any,
) -> None:
    url, cut, mend = _unreachable(database_url, relay_to_postgres)
    settings = Settings(home=tmp_path / "home", database_url=url)
    engine = create_engine_for(url)
    try:
        base = served(create_app(settings, engine=engine, environment={}))
        alive = requests.get(base + "/healthz", timeout=5)
        assert alive.status_code == 200 and alive.json()["status"] == "alive"
        assert requests.get(base + "/api/v1/health", timeout=5).json() == {"status": "ok"}  # kept
        assert requests.get(base + "/api/v1/systems", timeout=5).status_code == 401  # the rest still needs a login
        status, checks = _ready(base)
        assert status == 200 and all(c["ok"] for c in checks.values()), checks

        cut()
        status, checks = _ready(base)
        assert status == 503 and not checks["database"]["ok"] and not checks["schema"]["ok"], checks
        assert "does not answer" in checks["database"]["detail"]
        assert requests.get(base + "/healthz", timeout=5).status_code == 200  # alive all the same

        mend()
        status, checks = _ready(base)
        assert status == 200, checks
    finally:
        engine.dispose()


def test_listener_readyz_says_when_the_schema_is_old(empty_database_url: str, served: Any, tmp_path: Path) -> None:
    create_engine_for(empty_database_url).dispose()  # SQLite: the file exists, without tables
    base = served(ops_app(readiness_probe(empty_database_url, tmp_path, None)))
    status, checks = _ready(base)
    assert status == 503 and checks["database"]["ok"] and not checks["schema"]["ok"]
    assert "revision none" in checks["schema"]["detail"] and "jnx init" in checks["schema"]["detail"]
    assert requests.get(base + "/healthz", timeout=5).status_code == 200
    assert requests.get(base + "/metrics", timeout=5).status_code == 404  # none given to this listener


def test_readyz_needs_the_key_store_to_open(database_url: str, served: Any, tmp_path: Path) -> None:
    keys = tmp_path / "keys"
    FileKeyStore(keys, "the right passphrase", scrypt_n=2**10).generate(Suite.JOSE, KeyUse.SIG, now=dt.datetime.now(dt.UTC))
    for passphrase, ok, says in ((None, False, "no passphrase"), ("a wrong one", False, "does not open"),
                                 ("the right passphrase", True, "open with the passphrase")):
        check = KeyStoreCheck(keys, passphrase)()
        assert check.ok is ok and says in check.detail, check
    base = served(ops_app(readiness_probe(database_url, tmp_path, "a wrong one")))
    status, checks = _ready(base)
    assert status == 503 and checks["database"]["ok"] and checks["schema"]["ok"] and not checks["keys"]["ok"]
    assert "a wrong one" not in str(checks)
    (keys / "index.json").write_text("{not json", encoding="utf-8")
    assert not KeyStoreCheck(keys, "the right passphrase")().ok
