"""Lists: the URL carries page, order and filters; CSV and XLSX exports hold the same rows."""

from __future__ import annotations

import datetime as dt
import io
from decimal import Decimal

import openpyxl
from starlette.datastructures import QueryParams

from jnx.web.console.i18n import Translator
from jnx.web.console.listing import Column, Filter, ListQuery, export, in_memory

COLUMNS = (Column("id", "System"), Column("records", "Records", numeric=True), Column("amount", "Amount"),
           Column("seen", "Last seen"), Column("note", "Message", sortable=False))
FILTERS = (Filter("kind", "Kind", (("a", "a"), ("b", "b"))),)
ROWS = [
    {"id": "s1", "kind": "a", "records": 5, "amount": Decimal("1.000001"), "seen": dt.datetime(2026, 12, 7, 1, 0, tzinfo=dt.UTC),
     "note": "=HYPERLINK(\"http://x\")"},
    {"id": "s2", "kind": "b", "records": 9, "amount": Decimal("2.5"), "seen": None, "note": "罚款"},
    {"id": "s3", "kind": "a", "records": 1, "amount": None, "seen": None, "note": "-3"},
]


def test_the_query_reads_and_writes_its_url() -> None:
    query = ListQuery.parse("/x", QueryParams("sort=records&order=desc&kind=a&page=2&size=20&bogus=1"), COLUMNS, FILTERS)
    assert (query.sort, query.descending, query.page, query.size, dict(query.filters)) == ("records", True, 2, 20, {"kind": "a"})
    assert query.url(page=3) == "/x?kind=a&sort=records&order=desc&size=20&page=3"
    assert query.sort_url("records") == "/x?kind=a&sort=records&order=asc&size=20"
    assert query.url(fmt="csv") == "/x?kind=a&sort=records&order=desc&size=20&format=csv"
    # unknown sort keys, unsortable columns and filter values outside the choices are dropped, not trusted
    odd = ListQuery.parse("/x", QueryParams("sort=note&kind=zzz&page=-4&size=100000"), COLUMNS, FILTERS)
    assert (odd.sort, dict(odd.filters), odd.page, odd.size) == (None, {}, 1, 200)


def test_rows_in_memory_are_filtered_sorted_and_cut_into_pages() -> None:
    query = ListQuery.parse("/x", QueryParams("kind=a&sort=records&order=desc&size=1"), COLUMNS, FILTERS)
    listing = in_memory(COLUMNS, ROWS, query, FILTERS)
    assert (listing.total, listing.pages, [r["id"] for r in listing.rows]) == (2, 2, ["s1"])
    second = in_memory(COLUMNS, ROWS, ListQuery.parse("/x", QueryParams("kind=a&sort=records&order=desc&size=1&page=2"),
                                                      COLUMNS, FILTERS), FILTERS)
    assert [r["id"] for r in second.rows] == ["s3"]


def test_csv_export_is_excel_readable_utf8_and_defuses_formulas() -> None:
    query = ListQuery.parse("/x", QueryParams("format=csv&sort=id"), COLUMNS, FILTERS)
    response = export(in_memory(COLUMNS, ROWS, query, FILTERS, name="systems"), Translator("zh_CN"))
    body = bytes(response.body).decode("utf-8")
    assert body.startswith("\ufeff系统,记录,")
    assert "'=HYPERLINK" in body  # a formula is written as text
    assert ",-3\r\n" in body  # a number stays a number
    assert "2026-12-07 09:00:00" in body  # China time
    assert 'filename="systems-' in response.headers["content-disposition"]


def test_xlsx_export_holds_the_same_rows_with_exact_amounts() -> None:
    query = ListQuery.parse("/x", QueryParams("format=xlsx&sort=id"), COLUMNS, FILTERS)
    response = export(in_memory(COLUMNS, ROWS, query, FILTERS), Translator("en"))
    sheet = openpyxl.load_workbook(io.BytesIO(bytes(response.body))).active
    assert sheet is not None
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[0] == ["System", "Records", "Amount", "Last seen", "Message"]
    assert rows[1][:4] == ["s1", 5, "1.000001", dt.datetime(2026, 12, 7, 9, 0)]
    assert rows[1][4] == '=HYPERLINK("http://x")'  # kept as a string, not a formula
    assert len(rows) == 4
