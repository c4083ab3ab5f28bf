"""Property-based fuzzing of every puller (issue 12): whatever bytes, structures or paging answers a
source sends, no exception but a jnx error escapes, and every record the source sent is a record or a
defect (queued as an error) — none vanishes. Bounded (a few dozen examples each) to stay quick in CI."""

from __future__ import annotations

import datetime as dt
import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

import pytest
import sqlalchemy as sa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from jnx.adapters.base import PayloadEncoding, Watermark
from jnx.adapters.config import DbFrontConfig, FilePullSpec, MappingSecrets, RecordSpec, SoapConfig
from jnx.adapters.factory import build_adapters
from jnx.adapters.files import FileDropPuller
from jnx.adapters.paging import PageAnswer, PageRequest, paginate
from jnx.adapters.xmlsafe import parse_xml_text, screen
from jnx.errors import JnxError
from tests.adapters.conftest import Answer, ScriptedServer, Seen
from tests.adapters.soapserver import ENV, NS, WSDL
from tests.adapters.test_dirty_sources import flat, pull

FUZZ = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HEADER = "编号,名称,金额,更新时间\r\n"
SPEC = FilePullSpec(record_type="penalty", encoding="gb18030", key_field="编号", updated_field="更新时间")

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=6), children, max_size=4),
    max_leaves=20,
)


def _drop(content: bytes) -> tuple[Path, FileDropPuller]:
    folder = Path(tempfile.mkdtemp(prefix="jnx-fuzz-"))
    (folder / "f.csv").write_bytes(content)
    return folder, FileDropPuller(folder, folder / "done", SPEC, page_size=3)


@FUZZ
@given(st.binary(max_size=600))
def test_any_bytes_in_a_dropped_file_never_raise_and_never_stay_to_block_the_folder(content: bytes) -> None:
    folder, puller = _drop(content)
    try:
        pages = list(puller.pull(None))
        for page in pages:
            puller.acknowledge(page)
        assert not (folder / "f.csv").exists()  # read (done/) or rejected/ with its reason
        assert list(puller.pull(pages[-1].watermark if pages else None)) == []
    finally:
        shutil.rmtree(folder)


good_rows = st.tuples(st.text(st.characters(codec="gb18030", exclude_categories=("Cs", "Co", "Cc")), max_size=12),
                      st.decimals(places=2, allow_nan=False, allow_infinity=False))
junk = st.binary(min_size=1, max_size=40).filter(lambda b: b'"' not in b and b"\n" not in b and b"\r" not in b and b.strip() != b"")


@FUZZ
@given(st.lists(st.one_of(good_rows.map(lambda r: ("good", r)), junk.map(lambda b: ("junk", b))), max_size=25))
def test_every_line_of_a_dropped_file_is_a_record_or_an_error_and_good_rows_survive_bad_ones(rows: list[tuple[str, Any]]) -> None:
    body = HEADER.encode("gb18030")
    expected = {}
    for index, (kind, value) in enumerate(rows):
        if kind == "good":
            name, amount = value
            quoted = '"' + name.replace('"', '""') + '"'
            body += f"K{index},{quoted},{amount},2024-01-01 00:00:00\r\n".encode("gb18030")
            expected[f"K{index}"] = name
        else:
            body += value + b"\r\n"
    folder, puller = _drop(body)
    try:
        records = flat(list(puller.pull(None)))
        assert len(records) == len(rows)  # none vanishes, none doubled
        good = {r.source_key: r.payload["名称"] for r in records if r.defect is None and r.source_key in expected}
        assert good == expected
    finally:
        shutil.rmtree(folder)


@FUZZ
@given(st.lists(json_values, max_size=6), st.booleans(), st.one_of(st.none(), st.text(max_size=4)), json_values)
def test_any_rest_page_is_records_errors_or_a_clean_failure(items: list[Any], more: bool, cursor: str | None, extra: Any) -> None:
    body = json.dumps({"code": 0, "data": {"items": items, "has_more": more, "next": cursor, "x": extra}}).encode()
    try:
        pages = pull([(body, "application/json")])
    except JnxError:
        return
    assert len(flat(pages)) >= len(items) or not items
    assert len(flat(pages[:1])) == len(items)


@FUZZ
@given(st.binary(max_size=300), st.sampled_from(["application/json", "application/json; charset=gbk", "text/plain; charset=x"]))
def test_any_rest_bytes_are_records_errors_or_a_clean_failure(body: bytes, content_type: str) -> None:
    try:
        pull([(body, content_type)])
    except JnxError:
        pass


@FUZZ
@given(st.lists(json_values, max_size=6), st.one_of(st.none(), st.integers(-3, 30), st.text(max_size=3)))
def test_any_soap_answer_structure_is_records_errors_or_a_clean_failure(items: list[Any], total: Any) -> None:
    spec = RecordSpec(record_type="license", records_path="body.records", key_field="id", updated_field="updated", total_path="body.total")

    def fetch(request: PageRequest) -> PageAnswer:
        if (request.page or 1) > 3:
            return PageAnswer({"body": {"records": [], "total": total}}, "line")
        return PageAnswer({"body": {"records": items, "total": total}}, "line")

    try:
        pages = list(paginate(fetch, spec, None, page_size=10, mode="page", encoding=PayloadEncoding.XML))
    except JnxError:
        return
    assert len(flat(pages[:1])) == len(items)


@FUZZ
@given(st.binary(max_size=400))
def test_any_xml_bytes_are_parsed_or_refused_cleanly(data: bytes) -> None:
    try:
        screen(data, source="fuzz")
        parse_xml_text(data.decode("utf-8", errors="replace"), source="fuzz")
    except JnxError:
        pass


column_values = st.one_of(st.none(), st.text(max_size=10), st.integers(-10**12, 10**12), st.floats(allow_nan=False, allow_infinity=False),
                          st.binary(max_size=10), st.sampled_from(["0000-00-00", "44256", "2024-13-45", "2099-12-31"]))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.one_of(st.none(), st.text(min_size=1, max_size=6)), column_values, column_values,
                          st.one_of(st.none(), st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2100, 1, 1)))), max_size=12))
def test_any_front_database_rows_are_records_or_errors_and_none_vanishes(rows: list[tuple[Any, ...]]) -> None:
    folder = Path(tempfile.mkdtemp(prefix="jnx-fuzz-"))
    url = f"sqlite:///{folder / 'front.db'}"
    engine = sa.create_engine(url)
    with engine.begin() as conn:
        conn.execute(sa.text("CREATE TABLE src (rid INTEGER PRIMARY KEY, id VARCHAR(40), decided DATE, amount NUMERIC, updated_at DATETIME)"))
        for key, decided, amount, updated in rows:
            conn.execute(sa.text("INSERT INTO src (id, decided, amount, updated_at) VALUES (:k, :d, :a, :u)"),
                         {"k": key, "d": decided, "a": amount, "u": updated.isoformat(sep=" ") if updated else None})
    engine.dispose()
    config = DbFrontConfig.model_validate({"url": {"env": "F"}, "retry": {"attempts": 1, "initial": 0, "maximum": 0},
                                           "pull": [{"record_type": "penalty", "table": "src", "key_column": "rid",
                                                     "updated_column": "updated_at", "initial_since": "1980-01-01 00:00:00"}]})
    built = build_adapters(config, MappingSecrets({"F": url}))
    try:
        pages = list(built.pullers["penalty"].pull(None, page_size=4))
        assert len(flat(pages)) == len(rows)
        mark = pages[-1].watermark
        assert isinstance(mark, Watermark) and not mark.since.startswith("2099")
    finally:
        built.close()
        shutil.rmtree(folder)


@FUZZ
@given(st.integers(1, 4000), st.integers(0, 3), st.sampled_from(["[", '{"k":']))
def test_a_record_nested_to_any_depth_is_a_record_or_an_error_and_the_others_are_stored(depth: int, position: int, opener: str) -> None:
    closer = "]" if opener == "[" else "}"
    nested = opener * depth + '"x"' + closer * depth
    items = [f'{{"id":"N{i}","v":1}}' for i in range(4)]
    items.insert(position, f'{{"id":"DEEP","v":{nested}}}')
    body = ('{"code":0,"data":{"items":[' + ",".join(items) + "]}}").encode()
    records = flat(pull([(body, "application/json")]))
    assert [r.source_key for r in records] == [f"N{i}" for i in range(4)][:position] + ["DEEP"] + [f"N{i}" for i in range(4)][position:]
    assert all(r.defect is None for r in records if r.source_key != "DEEP")
    [deep] = [r for r in records if r.source_key == "DEEP"]
    assert (deep.defect is None) == (depth < 64)


class _SoapAnswers:
    """The loopback SOAP service of the fuzz test below: the WSDL, then whatever answer is set."""

    def __init__(self) -> None:
        self.body = b""

    def __call__(self, seen: Seen) -> Answer:
        if seen.method == "GET":
            return Answer(200, WSDL.encode(), {"Content-Type": "text/xml"})
        return Answer(200, self.body, {"Content-Type": "text/xml; charset=utf-8"})


@pytest.fixture(scope="module")
def soap_service() -> Iterator[tuple[str, _SoapAnswers]]:
    answers = _SoapAnswers()
    server = ScriptedServer(answers)
    yield server.url + "/ws", answers
    server.close()


xml_text = st.text(st.characters(exclude_categories=("Cs", "Cc")), max_size=12)  # control characters: in the cuts


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(xml_text, xml_text, st.one_of(xml_text, st.just("2024-01-01T08:00:00+08:00"))), max_size=5),
       st.one_of(st.just(None), st.just(None), st.integers(0, 2000)), st.binary(max_size=6))
def test_any_soap_answer_through_zeep_is_records_errors_or_a_clean_failure(
        soap_service: tuple[str, _SoapAnswers], rows: list[tuple[str, str, str]], cut: int | None, junk: bytes) -> None:
    url, answers = soap_service
    items = "".join(f"<t:item><t:id>{escape(i)}</t:id><t:name>{escape(n)}</t:name><t:modified>{escape(m)}</t:modified></t:item>"
                    for i, n, m in rows)
    body = ENV.format(f'<t:QueryItemsResponse xmlns:t="{NS}"><t:total>{len(rows)}</t:total><t:items>{items}</t:items>'
                      "</t:QueryItemsResponse>").encode("utf-8", errors="surrogatepass")
    if cut is not None:  # a cut-off or corrupted answer
        body = body[:cut] + junk + body[cut:][len(junk):]
    answers.body = body
    config = SoapConfig.model_validate({
        "lines": [{"url": url}], "auth": {"kind": "password", "username": "jnx", "password": {"env": "PW"}},
        "retry": {"attempts": 1, "initial": 0, "maximum": 0},
        "pull": [{"record_type": "license", "operation": "QueryItems",
                  "arguments": {"since": "{since}", "pageNo": "{page}", "pageSize": "{page_size}"},
                  "records_path": "items.item", "total_path": "total", "key_field": "id", "updated_field": "modified",
                  "initial_since": "2000-01-01T00:00:00+08:00"}]})
    adapters = build_adapters(config, MappingSecrets({"PW": "pw"}), sleep=lambda s: None)
    try:
        pages = list(adapters.pullers["license"].pull(None, page_size=50))
    except JnxError:
        return
    finally:
        adapters.close()
    if cut is None:
        assert len(flat(pages[:1])) == len(rows)  # every item a record or an error: none vanishes
