"""Outcome and correlation id on audit details; the id on log records."""

from __future__ import annotations

import logging

from jnx.security.trace import CorrelationFilter, Outcome, correlation, current_correlation_id, traced


def test_details_get_the_outcome_of_their_action_and_the_correlation_id() -> None:
    with correlation("req-12345678") as value:
        assert value == "req-12345678"
        assert traced("login.failed", {"a": 1}) == {"a": 1, "outcome": "failed", "correlation_id": "req-12345678"}
        assert traced("login.refused", {})["outcome"] == "denied"
        assert traced("user.created", {})["outcome"] == "succeeded"
        assert traced("users.create", {}, Outcome.FAILED)["outcome"] == "failed"


def test_an_insane_request_id_is_replaced_by_a_new_one() -> None:
    for given in ("short", "x" * 65, "bad id\n", None):
        with correlation(given) as value:
            assert value != given and len(value) == 32 and current_correlation_id() == value


def test_log_records_carry_the_correlation_id() -> None:
    record = logging.LogRecord("jnx", logging.INFO, __file__, 1, "m", None, None)
    with correlation("cmd-abcdefgh"):
        CorrelationFilter().filter(record)
    assert record.correlation_id == "cmd-abcdefgh"  # type: ignore[attr-defined]
