"""Dirty answers of REST platforms and 前置库 tables (issue 12): each bad record is an error of its
own, kept raw; an answer that breaks the paging contract fails the run before the watermark moves;
text is never silently corrupted; an update time far in the future never moves the watermark."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import sqlalchemy as sa

from jnx.adapters.base import Page, RawRecord, Watermark
from jnx.adapters.config import DbFrontConfig, MappingSecrets, RestPullSpec
from jnx.adapters.errors import PayloadError, RequestRejectedError
from jnx.adapters.factory import build_adapters
from jnx.adapters.instants import later, parse_instant, went_backwards
from jnx.adapters.lines import Line
from jnx.adapters.rest import RestPuller

SPEC = RestPullSpec(
    record_type="penalty", path="/p", params={"since": "{since}", "cursor": "{cursor}"}, records_path="data.items",
    key_field="id", updated_field="updated", next_cursor_path="data.next", has_more_path="data.has_more", ok_path="code",
    initial_since="2000-01-01 00:00:00",
)


class FakeHttp:
    """The HttpClient seam: each request takes the next scripted (body, content type)."""

    def __init__(self, answers: list[tuple[bytes, str]]) -> None:
        self.answers = answers
        self.line = Line(url="http://127.0.0.1:9/", name="primary")

    def request(self, method: str, path: str, **kwargs: Any) -> tuple[requests.Response, Line]:
        body, content_type = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        response = requests.Response()
        response.status_code = 200
        response._content = body
        response.headers["Content-Type"] = content_type
        return response, self.line


def page(items: Any, *, more: bool = False, next_cursor: str | None = None, code: int = 0) -> bytes:
    return json.dumps({"code": code, "data": {"items": items, "has_more": more, "next": next_cursor}}, ensure_ascii=False).encode()


def pull(answers: list[tuple[bytes, str]], watermark: Watermark | None = None) -> list[Page]:
    return list(RestPuller(FakeHttp(answers), SPEC, page_size=10).pull(watermark))  # type: ignore[arg-type]


def flat(pages: list[Page]) -> list[RawRecord]:
    return [r for p in pages for r in p.records]


JSON = "application/json"


def test_a_lone_surrogate_is_an_error_of_its_record_and_the_rest_of_the_page_is_stored() -> None:
    body = b'{"code":0,"data":{"items":[{"id":"A1","name":"\\ud800","updated":"2024-01-01 00:00:00"},' \
           b'{"id":"A2","name":"ok","updated":"2024-01-02 00:00:00"}],"has_more":false}}'
    records = flat(pull([(body, JSON)]))
    assert [(r.source_key, r.defect is None) for r in records] == [("A1", False), ("A2", True)]
    assert records[0].defect and "lone surrogate U+D800" in records[0].defect.message
    assert isinstance(records[0].payload, bytes) and b"\\ud800" in records[0].payload  # kept, escaped


def test_gbk_bytes_served_as_utf8_are_an_error_naming_the_byte_not_mojibake() -> None:
    body = b'{"code":0,"data":{"items":[{"id":"G1","name":"' + "济宁".encode("gbk") + b'"},{"id":"G2","name":"ok"}]}}'
    pages = pull([(body, "application/json; charset=utf-8")])
    records = flat(pages)
    assert records[0].defect and "byte 0xBC, which is not valid UTF-8" in records[0].defect.message
    assert records[1].defect is None
    offset = body.index("济宁".encode("gbk"))
    assert pages[0].notices == (f"GET /p on line primary (http://127.0.0.1:9/): the answer is not valid UTF-8 at byte offset {offset} "
                                "(byte 0xBC) and declares no other charset; the records holding such bytes are errors "
                                "(source.text), their bytes kept — ask the platform to send UTF-8 or to declare its charset",)
    assert pull([(page([{"id": "U1"}]), JSON)])[0].notices == ()


def test_a_declared_charset_is_used_and_a_page_without_one_is_utf8_not_a_guess() -> None:
    body = json.dumps({"code": 0, "data": {"items": [{"id": "C1", "name": "济宁"}]}}, ensure_ascii=False).encode("gbk")
    [record] = flat(pull([(body, "application/json; charset=GBK")]))
    assert record.payload["name"] == "济宁"
    [bad] = flat(pull([(body, JSON)]))
    assert bad.defect is not None and bad.defect.rule == "source.text"[7:]


def test_a_record_nested_deeper_than_python_reads_is_an_error_of_its_own_and_the_page_goes_on() -> None:
    nested = b"[" * 5000 + b'"a]\\\"["' + b"]" * 5000  # brackets inside a string are no nesting
    deep = b'{"code":0,"data":{"items":[{"id":"D1","x":' + nested + b'},{"id":"D2","x":1}]}}'
    records = flat(pull([(deep, JSON)]))
    assert [(r.source_key, r.defect is None) for r in records] == [("D1", False), ("D2", True)]
    assert records[0].defect and records[0].defect.message.endswith("record 0: `x` is nested deeper than 64 levels")
    assert isinstance(records[0].payload, bytes) and records[0].payload.count(b"[") == 5001  # kept whole, as text


def test_nesting_that_cannot_be_cut_into_records_is_a_clear_page_error() -> None:
    with pytest.raises(PayloadError, match="nests objects or lists deeper"):
        pull([(b'{"code":0,"data":{"items":[' + b"[" * 5000 + b"}}", JSON)])


def test_duplicate_member_names_are_refused_not_read_last_wins() -> None:
    body = b'{"code":0,"data":{"items":[{"id":"F1","fine":100,"fine":1000000},{"id":"F2","fine":5000.50}]}}'
    records = flat(pull([(body, JSON)]))
    assert records[0].defect and records[0].defect.rule == "json.duplicate_key" and "'fine'" in records[0].defect.message
    assert records[1].defect is None and records[1].payload["fine"] == 5000.5


def test_an_amount_with_a_fraction_is_read_exactly_and_one_a_float_cannot_hold_is_an_error() -> None:
    from decimal import Decimal

    from jnx.mappings.values import amount_parser, halfwidth, trim

    body = (b'{"code":0,"data":{"items":[{"id":"N1","fine":5000.50},{"id":"N2","fine":12345678901234.567},'
            b'{"id":"N3","fine":1e400},{"id":"N4","fine":0.1}]}}')
    records = flat(pull([(body, JSON)]))
    assert [r.defect is None for r in records] == [True, False, False, True]
    yuan = amount_parser("元")
    assert yuan(trim(halfwidth(records[0].payload["fine"]))) == Decimal("0.500050")  # the shipped tables' steps
    assert yuan(trim(halfwidth(records[3].payload["fine"]))) == Decimal("0.000010")
    assert records[1].defect and "holds the number 12345678901234.567, which cannot be read exactly" in records[1].defect.message
    assert records[2].defect and "1e400" in records[2].defect.message


def test_a_record_without_its_key_or_not_an_object_is_an_error_and_the_page_goes_on() -> None:
    records = flat(pull([(page([{"id": None}, 7, {"id": "K3"}]), JSON)]))
    assert [r.defect.rule if r.defect else r.source_key for r in records] == ["key.missing", "record.not_object", "K3"]


def test_an_answer_without_its_data_fails_before_the_watermark_moves() -> None:
    with pytest.raises(PayloadError, match="has no `data.items`"):
        pull([(b'{"code":0}', JSON)])


def test_has_more_without_a_next_cursor_fails_the_pass_instead_of_ending_it() -> None:
    with pytest.raises(PayloadError, match="says there are more pages"):
        pull([(page([{"id": "M1"}], more=True, next_cursor=""), JSON)])


def test_a_refusing_answer_shows_the_platforms_message() -> None:
    with pytest.raises(RequestRejectedError, match="code=50001: 系统繁忙"):
        pull([(json.dumps({"code": 50001, "msg": "系统繁忙"}, ensure_ascii=False).encode(), JSON)])


def test_a_record_dated_2099_is_an_error_and_does_not_move_the_watermark() -> None:
    items = [{"id": "T1", "updated": "2024-05-01 10:00:00"}, {"id": "T2", "updated": "2099-12-31 23:59:59"}]
    pages = pull([(page(items), JSON)])
    assert pages[-1].watermark.since == "2024-05-01 10:00:00"
    [future] = [r for r in flat(pages) if r.defect]
    assert future.source_key == "T2" and future.defect and "2099-12-31" in future.defect.message


def test_watermarks_are_compared_as_instants_whatever_their_form() -> None:
    assert parse_instant("1728011079000") == dt.datetime(2024, 10, 4, 3, 4, 39, tzinfo=dt.UTC)
    assert parse_instant("2024-10-04T11:04:39+08:00") == parse_instant("2024-10-04 11:04:39") == parse_instant("20241004110439")
    assert not went_backwards("1728011079000", "2000-01-01 00:00:00")
    assert went_backwards("2001-01-01 00:00:00", "1728011079000")
    assert later("1728011079000", "2024-01-01 00:00:00") == "1728011079000"


# ---------------------------------------------------------------- 前置库

@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def front(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[sa.Engine]:
    url = f"sqlite:///{tmp_path / 'front.db'}" if request.param == "sqlite" else request.getfixturevalue("pg_url")
    engine = sa.create_engine(url)
    meta = sa.MetaData()
    table = sa.Table("src", meta, sa.Column("id", sa.String(40)), sa.Column("name", sa.String(100)),
                     sa.Column("blob", sa.LargeBinary), sa.Column("decided", sa.Date), sa.Column("updated_at", sa.DateTime))
    meta.create_all(engine)
    t = dt.datetime(2024, 3, 1, 9)
    with engine.begin() as conn:
        conn.execute(table.insert(), [
            {"id": "R1", "name": "济宁", "blob": "好".encode(), "decided": dt.date(2024, 1, 1), "updated_at": t},
            {"id": None, "name": "no key", "blob": None, "decided": None, "updated_at": t + dt.timedelta(minutes=1)},
            {"id": "R3", "name": "gbk", "blob": "济宁".encode("gbk"), "decided": None, "updated_at": t + dt.timedelta(minutes=2)},
            {"id": "R4", "name": "undated", "blob": None, "decided": None, "updated_at": None},
            {"id": "R5", "name": "future", "blob": None, "decided": None, "updated_at": dt.datetime(2099, 12, 31)},
        ])
        if engine.dialect.name == "sqlite":  # what a MySQL export or an Excel import leaves in a DATE column
            conn.execute(sa.text("INSERT INTO src (id, name, decided, updated_at) VALUES "
                                 "('R6', 'zero', '0000-00-00', '2024-03-01 09:03:00'), ('R7', 'serial', 44256, '2024-03-01 09:04:00')"))
    yield engine
    engine.dispose()


def test_bad_front_database_rows_are_errors_of_their_own_and_nothing_vanishes(front: sa.Engine) -> None:
    config = DbFrontConfig.model_validate({"url": {"env": "FRONT"}, "retry": {"attempts": 1, "initial": 0, "maximum": 0},
                                           "pull": [{"record_type": "penalty", "table": "src", "key_column": "id",
                                                     "updated_column": "updated_at", "initial_since": "2000-01-01T00:00:00"}]})
    built = build_adapters(config, MappingSecrets({"FRONT": front.url.render_as_string(hide_password=False)}))
    try:
        pages = list(built.pullers["penalty"].pull(None, page_size=2))
    finally:
        built.close()
    records = flat(pages)
    outcome = {r.source_key if not r.source_key.startswith("!") else "?": r.defect.rule if r.defect else "ok" for r in records}
    expected = {"R1": "ok", "?": "key.missing", "R3": "encoding", "R4": "ok", "R5": "updated.future"}
    if front.dialect.name == "sqlite":
        expected |= {"R6": "column.unreadable", "R7": "column.unreadable"}
    assert outcome == expected
    assert "None" not in {r.source_key for r in records}
    assert pages[-1].last and pages[-1].watermark.since < "2099"
    if front.dialect.name == "sqlite":
        [serial] = [r for r in records if r.source_key == "R7"]
        assert serial.defect and "Excel serial date? It would be 2021-03-01" in serial.defect.message


def test_rows_sharing_the_watermark_instant_written_without_a_fraction_all_come(tmp_path: Path) -> None:
    # SQLite compares times as text: '2000-01-01 00:00:00' (another writer) against SQLAlchemy's
    # '2000-01-01 00:00:00.000000' lost the rows after a page end at that instant (found by test_fuzz)
    url = f"sqlite:///{tmp_path / 'front.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE src (rid INTEGER PRIMARY KEY, updated_at DATETIME)"))
        conn.execute(sa.text("INSERT INTO src (updated_at) VALUES " + ", ".join(["('2000-01-01 00:00:00')"] * 5)
                             + ", ('2000-01-01T00:00:01'), ('not a time')"))
    engine.dispose()
    config = DbFrontConfig.model_validate({"url": {"env": "F"}, "retry": {"attempts": 1, "initial": 0, "maximum": 0},
                                           "pull": [{"record_type": "penalty", "table": "src", "key_column": "rid",
                                                     "updated_column": "updated_at", "initial_since": "1980-01-01 00:00:00"}]})
    built = build_adapters(config, MappingSecrets({"F": url}))
    try:
        pages = list(built.pullers["penalty"].pull(None, page_size=2))
        again = list(built.pullers["penalty"].pull(pages[-1].watermark, page_size=2))
    finally:
        built.close()
    assert sorted((r.source_key, r.defect.rule if r.defect else "ok") for r in flat(pages)) == [
        ("1", "ok"), ("2", "ok"), ("3", "ok"), ("4", "ok"), ("5", "ok"), ("6", "ok"), ("7", "column.unreadable")]
    assert [r.source_key for r in flat(again) if r.defect is None] == []  # nothing new after the watermark
