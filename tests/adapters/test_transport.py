"""Retries, Retry-After, failover between lines and health recovery, against loopback servers."""

from __future__ import annotations

import random

import pytest
import requests

from jnx.adapters.config import HealthConfig, RetryConfig, Timeouts
from jnx.adapters.errors import (
    AllLinesDownError,
    AuthenticationError,
    LineTimeoutError,
    RequestRejectedError,
    ServerBusyError,
)
from jnx.adapters.lines import LineSet, LineState
from jnx.adapters.transport import HttpClient, Transport, parse_retry_after
from jnx.adapters.urls import redact_url
from tests.adapters.conftest import Answer

FAST = RetryConfig(attempts=5, initial=0.01, maximum=0.05, max_retry_after=10)


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def client(
    *urls: str,
    retry: RetryConfig = FAST,
    health: HealthConfig | None = None,
    timeouts: Timeouts | None = None,
    clock: Clock | None = None,
    sleeps: list[float] | None = None,
) -> HttpClient:
    clock = clock or Clock()
    lines = LineSet([(u, None) for u in urls], health or HealthConfig(), clock=clock)

    def sleep(seconds: float) -> None:  # time passes for the line health as it would for real
        clock.now += seconds
        if sleeps is not None:
            sleeps.append(seconds)

    transport = Transport(lines, retry, sleep=sleep)
    return HttpClient(requests.Session(), transport, timeouts or Timeouts(connect=1, read=2))


def test_a_5xx_is_retried_until_the_platform_answers(http_server) -> None:
    server = http_server()
    server.script = [Answer(503), Answer(502)]
    server.default = Answer(200, {"ok": True})
    response, _ = client(server.url).request("GET", "/x", what="query")
    assert response.json() == {"ok": True}
    assert server.hits == 3


def test_retry_after_is_honoured_and_capped(http_server) -> None:
    server = http_server()
    server.script = [Answer(503, headers={"Retry-After": "3"}), Answer(429, headers={"Retry-After": "999"})]
    sleeps: list[float] = []
    client(server.url, sleeps=sleeps).request("GET", "/x", what="query")
    assert sleeps[0] >= 3.0
    assert sleeps[1] == FAST.max_retry_after


def test_a_pull_completes_when_30_percent_of_answers_are_5xx(http_server) -> None:
    rng = random.Random(7)
    server = http_server(lambda seen: Answer(503) if rng.random() < 0.3 else Answer(200, {"path": seen.path}))
    http = client(server.url, retry=RetryConfig(attempts=8, initial=0.001, maximum=0.01, max_retry_after=60))
    for page in range(60):
        response, _ = http.request("GET", f"/page/{page}", what="page")
        assert response.json() == {"path": f"/page/{page}"}
    assert server.hits > 60


def test_retries_stop_after_the_configured_attempts(http_server) -> None:
    server = http_server()
    server.default = Answer(500)
    with pytest.raises(ServerBusyError) as info:
        client(server.url, retry=RetryConfig(attempts=3, initial=0, maximum=0)).request("GET", "/x", what="query")
    assert server.hits == 3
    assert "HTTP 500" in str(info.value) and server.url in str(info.value)


def test_a_down_primary_line_fails_over_to_the_backup_without_waiting(http_server, dead_url) -> None:
    backup = http_server()
    backup.default = Answer(200, {"line": "backup"})
    sleeps: list[float] = []
    http = client(dead_url, backup.url, sleeps=sleeps)
    response, line = http.request("GET", "/x", what="query")
    assert response.json() == {"line": "backup"}
    assert line.name == "backup"
    assert sleeps == []
    assert [r.state for r in http.transport.lines.report()] == [LineState.DOWN, LineState.UP]
    http.request("GET", "/y", what="query")  # the down primary is skipped, not tried again
    assert sleeps == []


def test_a_recovered_primary_is_probed_after_the_cool_down_and_used_again(http_server) -> None:
    primary, backup = http_server(), http_server()
    primary.default = Answer(503)
    backup.default = Answer(200, {"line": "backup"})
    clock = Clock()
    http = client(primary.url, backup.url, clock=clock, health=HealthConfig(failures_before_down=2, cooldown=30))
    assert http.request("GET", "/x", what="q")[0].json() == {"line": "backup"}
    assert http.request("GET", "/x", what="q")[0].json() == {"line": "backup"}
    assert primary.hits == 2  # one try per call until its second failure took it down
    assert http.request("GET", "/x", what="q")[0].json() == {"line": "backup"}
    assert primary.hits == 2
    primary.default = Answer(200, {"line": "primary"})
    clock.now += 10
    assert http.request("GET", "/x", what="q")[0].json() == {"line": "backup"}  # still cooling down
    clock.now += 25
    assert http.request("GET", "/x", what="q")[0].json() == {"line": "primary"}
    assert http.transport.lines.report()[0].state is LineState.UP


def test_a_failed_probe_doubles_the_cool_down(http_server) -> None:
    primary, backup = http_server(), http_server()
    primary.default = Answer(503)
    clock = Clock()
    http = client(primary.url, backup.url, clock=clock, health=HealthConfig(failures_before_down=1, cooldown=10))
    http.request("GET", "/x", what="q")
    clock.now += 11
    http.request("GET", "/x", what="q")  # probe fails, backup answers
    assert http.transport.lines.report()[0].retry_in == pytest.approx(20)


def test_all_lines_down_is_a_transient_error_that_names_every_line(dead_url) -> None:
    sleeps: list[float] = []
    retry = RetryConfig(attempts=3, initial=0, maximum=0, max_retry_after=10)
    http = client(dead_url, dead_url + "/b", retry=retry, sleeps=sleeps)
    with pytest.raises(AllLinesDownError) as info:
        http.request("GET", "/x", what="query")
    assert "primary" in str(info.value) and "backup" in str(info.value)
    assert sleeps == [10.0]  # switch at once, then wait for the next probe (capped)


def test_a_slow_answer_is_a_read_timeout(http_server) -> None:
    server = http_server()
    server.default = Answer(200, delay=1.0)
    http = client(server.url, retry=RetryConfig(attempts=2, initial=0, maximum=0), timeouts=Timeouts(connect=1, read=0.2))
    with pytest.raises(LineTimeoutError, match="read timeout"):
        http.request("GET", "/x", what="query")
    assert server.hits == 2


@pytest.mark.parametrize("status", [401, 403])
def test_a_wrong_password_is_an_authentication_error_without_retries(http_server, status: int) -> None:
    server = http_server()
    server.default = Answer(status, {"error": "invalid signature"})
    sleeps: list[float] = []
    with pytest.raises(AuthenticationError, match="credentials refused") as info:
        client(server.url, sleeps=sleeps).request("GET", "/x", what="query")
    assert server.hits == 1 and sleeps == []
    assert info.value.hint and "did not retry" in info.value.hint


def test_a_404_is_a_permanent_rejection(http_server) -> None:
    server = http_server()
    server.default = Answer(404, b"no such path")
    with pytest.raises(RequestRejectedError, match="HTTP 404"):
        client(server.url).request("GET", "/x", what="query")
    assert server.hits == 1


def test_messages_never_carry_credentials_from_the_url() -> None:
    assert redact_url("http://user:s3cret@127.0.0.1:8080/ws?token=abc") == "http://127.0.0.1:8080/ws"


def test_retry_after_as_an_http_date() -> None:
    from datetime import UTC, datetime

    now = datetime(2024, 5, 1, 12, 0, 0, tzinfo=UTC)
    assert parse_retry_after("Wed, 01 May 2024 12:00:07 GMT", now=now) == 7.0
    assert parse_retry_after("soon") is None


def pull(http: HttpClient, pages: int) -> list[str]:
    """Page after page as a pull makes them; the line each page came from."""
    return [http.request("GET", f"/page/{n}", what=f"page {n}")[1].name for n in range(pages)]


def test_a_primary_answering_503_fails_over_to_the_backup_with_the_default_settings(http_server) -> None:
    primary, backup = http_server(), http_server()
    primary.default = Answer(503)
    backup.default = Answer(200, {"line": "backup"})
    sleeps: list[float] = []
    http = client(primary.url, backup.url, retry=RetryConfig(), health=HealthConfig(), sleeps=sleeps)
    assert pull(http, 20) == ["backup"] * 20
    assert primary.hits == HealthConfig().failures_before_down  # each failure counted, then skipped
    assert http.transport.lines.report()[0].state is LineState.DOWN
    assert sleeps == []  # a switch to an untried line does not wait


def test_a_primary_that_never_replies_fails_over_on_the_read_timeout(http_server, silent_server) -> None:
    primary, backup = silent_server(), http_server()
    backup.default = Answer(200, {"line": "backup"})
    http = client(primary.url, backup.url, retry=RetryConfig(), health=HealthConfig(), timeouts=Timeouts(connect=1, read=0.2))
    assert pull(http, 8) == ["backup"] * 8
    assert primary.accepted == HealthConfig().failures_before_down
    report = http.transport.lines.report()
    assert report[0].state is LineState.DOWN and report[0].failures == HealthConfig().failures_before_down
    assert "read timeout" in (http.transport.lines.lines[0].last_error or "")


def test_a_connection_reset_is_counted_against_the_line_and_the_retry_goes_to_the_backup(http_server, silent_server) -> None:
    primary, backup = silent_server(hang_up=True), http_server()
    backup.default = Answer(200, {"line": "backup"})
    http = client(primary.url, backup.url)
    assert pull(http, 1) == ["backup"]
    report = http.transport.lines.report()
    assert report[0].state is LineState.UP and report[0].failures == 1  # dropped, not refused: not down at once
    assert "dropped before the answer" in (http.transport.lines.lines[0].last_error or "")


def test_retries_go_round_the_lines_and_pause_only_between_rounds(http_server) -> None:
    primary, backup = http_server(), http_server()
    primary.default = Answer(503, headers={"Retry-After": "2"})
    backup.default = Answer(502)
    sleeps: list[float] = []
    retry = RetryConfig(attempts=5, initial=0, maximum=0, max_retry_after=10)
    http = client(primary.url, backup.url, retry=retry, health=HealthConfig(failures_before_down=10), sleeps=sleeps)
    with pytest.raises(ServerBusyError, match="HTTP 503"):
        http.request("GET", "/x", what="q")
    assert (primary.hits, backup.hits) == (3, 2)  # primary, backup, pause, primary, backup, pause, primary
    assert sleeps == [2.0, 2.0]  # the round's Retry-After


def test_a_healthy_primary_is_preferred_again_by_the_next_call(http_server) -> None:
    primary, backup = http_server(), http_server()
    primary.script = [Answer(503)]
    primary.default = Answer(200, {"line": "primary"})
    backup.default = Answer(200, {"line": "backup"})
    http = client(primary.url, backup.url)
    assert pull(http, 3) == ["backup", "primary", "primary"]


def test_a_refused_password_is_one_call_and_never_tried_on_the_backup(http_server) -> None:
    primary, backup = http_server(), http_server()
    primary.default = Answer(401, {"error": "bad token"})
    sleeps: list[float] = []
    with pytest.raises(AuthenticationError):
        client(primary.url, backup.url, sleeps=sleeps).request("GET", "/x", what="query")
    assert (primary.hits, backup.hits) == (1, 0) and sleeps == []


def test_redaction_never_fails_and_never_keeps_the_userinfo() -> None:
    assert redact_url("http://u:p@127.0.0.1:notaport/x?k=v") == "http://127.0.0.1:notaport/x"
    assert redact_url("http://user:pw@[::1/x") == "http://[::1/x"
    assert redact_url("http://user:pw@[::1]:8080/ws") == "http://[::1]:8080/ws"


def test_no_message_or_log_line_shows_a_password_held_in_a_line_url(dead_url, caplog) -> None:
    secret_url = dead_url.replace("http://", "http://jnx:s3cret@")
    http = client(secret_url, secret_url + "/b", retry=RetryConfig(attempts=3, initial=0, maximum=0, max_retry_after=0))
    with pytest.raises(AllLinesDownError) as info:
        http.request("GET", "/x", what="query")
    shown = [str(info.value), *(r.last_error or "" for r in http.transport.lines.lines), caplog.text]
    shown += [report.url for report in http.transport.lines.report()]
    assert all("s3cret" not in text and "jnx:" not in text for text in shown)
    assert dead_url in str(info.value)


def test_library_text_loses_the_userinfo_of_every_url_in_it() -> None:
    from jnx.adapters.lines import scrub_credentials

    text = "Failed to load http://u:p@h:1/a?wsdl and HTTPS://x@h2/b, kept: mailto:a@b"
    assert scrub_credentials(text) == "Failed to load http://h:1/a?wsdl and HTTPS://h2/b, kept: mailto:a@b"
