"""Every list of the console: pages, sort order, filters and the CSV/XLSX export of the same rows.

A page names its :class:`Column`\\ s and filters; :class:`ListQuery` reads ``page``, ``size``,
``sort``, ``order`` and the filters from the URL and writes them back into links, so a sorted,
filtered page is a URL a user can bookmark or send. ``format=csv`` / ``format=xlsx`` on the same
URL gives every matching row (up to :data:`EXPORT_LIMIT`) as a file, with the same columns and
the header in the page's language.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from enum import Enum
from typing import Any
from urllib.parse import urlencode

import xlsxwriter
from starlette.datastructures import QueryParams
from starlette.responses import Response

from jnx.web.console.i18n import Translator

PAGE_SIZES = (20, 50, 100, 200)
DEFAULT_SIZE = 50
EXPORT_LIMIT = 100_000
_CHINA = dt.timezone(dt.timedelta(hours=8))


@dataclass(frozen=True)
class Column:
    key: str
    label: str  # an English msgid, translated on the page and in the export header
    sortable: bool = True
    link: Callable[[Mapping[str, Any]], str | None] | None = None  # the cell links there
    numeric: bool = False
    translate: bool = False  # the values are words of the console's vocabulary (statuses), shown translated


@dataclass(frozen=True)
class Filter:
    name: str
    label: str
    choices: Sequence[tuple[str, str]] = ()  # (value, English label); empty: a text box


@dataclass(frozen=True)
class ListQuery:
    path: str
    page: int = 1
    size: int = DEFAULT_SIZE
    sort: str | None = None
    descending: bool = False
    filters: Mapping[str, str] = field(default_factory=dict)
    fmt: str | None = None  # csv or xlsx: an export

    @classmethod
    def parse(cls, path: str, params: QueryParams, columns: Sequence[Column], filters: Sequence[Filter] = (),
              default_sort: str | None = None, default_descending: bool = False) -> ListQuery:
        def number(name: str, default: int, low: int, high: int) -> int:
            try:
                return max(low, min(high, int(params.get(name, default))))
            except ValueError:
                return default

        sortable = {c.key for c in columns if c.sortable}
        sort = params.get("sort")
        descending = params.get("order", "desc" if default_descending else "asc") == "desc"
        if sort not in sortable:
            sort, descending = default_sort, default_descending if params.get("order") is None else descending
        size = number("size", DEFAULT_SIZE, 1, max(PAGE_SIZES))
        chosen: dict[str, str] = {}
        for f in filters:
            value = params.get(f.name, "").strip()
            if value and (not f.choices or value in {v for v, _ in f.choices}):
                chosen[f.name] = value
        fmt = params.get("format")
        return cls(path=path, page=number("page", 1, 1, 10**9), size=size, sort=sort, descending=descending,
                   filters=chosen, fmt=fmt if fmt in {"csv", "xlsx"} else None)

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    def url(self, **changes: Any) -> str:
        """This list's URL with some parameters changed (``page=3``, ``sort="records"``, ``format="csv"``)."""
        q = replace(self, **{k: v for k, v in changes.items() if k in {"page", "size", "sort", "descending", "fmt"}})
        filters = dict(self.filters)
        filters.update({k: v for k, v in changes.items() if k not in {"page", "size", "sort", "descending", "fmt"}})
        params: dict[str, Any] = {k: v for k, v in filters.items() if v}
        if q.sort:
            params["sort"] = q.sort
            params["order"] = "desc" if q.descending else "asc"
        if q.size != DEFAULT_SIZE:
            params["size"] = q.size
        if q.page != 1 and not q.fmt:
            params["page"] = q.page
        if q.fmt:
            params["format"] = q.fmt
        return self.path + ("?" + urlencode(params) if params else "")

    def sort_url(self, key: str) -> str:
        descending = not self.descending if self.sort == key else False
        return self.url(sort=key, descending=descending, page=1)


@dataclass(frozen=True)
class Listing:
    """One page of rows and what the template needs to draw the table around it."""

    columns: Sequence[Column]
    rows: Sequence[Mapping[str, Any]]
    total: int
    query: ListQuery
    filters: Sequence[Filter] = ()
    name: str = "list"  # the export's file name

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.query.size))

    @property
    def first(self) -> int:
        return 0 if self.total == 0 else self.query.offset + 1

    @property
    def last(self) -> int:
        return min(self.total, self.query.offset + len(self.rows))


def sort_rows(rows: Sequence[Mapping[str, Any]], query: ListQuery) -> list[Mapping[str, Any]]:
    """Rows held in memory, in the query's order (None last either way)."""
    if not query.sort:
        return list(rows)
    key = query.sort
    present = [r for r in rows if r.get(key) is not None]
    missing = [r for r in rows if r.get(key) is None]
    present.sort(key=lambda r: _sort_key(r[key]), reverse=query.descending)
    return present + missing


def _sort_key(value: Any) -> Any:
    if isinstance(value, Enum):
        return str(value.value)
    if isinstance(value, bool | int | float | Decimal | dt.datetime | dt.date):
        return value
    return str(value)


def in_memory(columns: Sequence[Column], rows: Sequence[Mapping[str, Any]], query: ListQuery,
              filters: Sequence[Filter] = (), name: str = "list",
              match: Callable[[Mapping[str, Any], str, str], bool] | None = None) -> Listing:
    """A listing of rows already in memory: filtered (equal values, or ``match``), sorted, one page cut."""
    def keep(row: Mapping[str, Any]) -> bool:
        for key, wanted in query.filters.items():
            if match is not None:
                if not match(row, key, wanted):
                    return False
            elif str(_plain(row.get(key))) != wanted:
                return False
        return True

    chosen = sort_rows([r for r in rows if keep(r)], query)
    page = chosen if query.fmt else chosen[query.offset:query.offset + query.size]
    return Listing(columns=columns, rows=page, total=len(chosen), query=query, filters=filters, name=name)


def _plain(value: Any) -> Any:
    if isinstance(value, Enum):
        return value.value
    return value


def cell_text(value: Any, t: Translator) -> str:
    """A cell as text: instants in China time, numbers as they are, enums by their value."""
    value = _plain(value)
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        return t.instant(value)
    if isinstance(value, bool):
        return t.gettext("yes") if value else t.gettext("no")
    return str(value)


def export(listing: Listing, t: Translator, rows: Iterable[Mapping[str, Any]] | None = None) -> Response:
    """The listing's rows (``rows`` if given: every matching row) as a CSV or XLSX download."""
    fmt = listing.query.fmt or "csv"
    header = [t.gettext(c.label) for c in listing.columns]
    data = [[t.gettext(str(_plain(row.get(c.key)))) if c.translate and row.get(c.key) is not None else _export_value(row.get(c.key), t)
             for c in listing.columns] for row in (rows if rows is not None else listing.rows)]
    stamp = dt.datetime.now(_CHINA).strftime("%Y%m%d-%H%M%S")
    filename = f"{listing.name}-{stamp}.{fmt}"
    if fmt == "xlsx":
        body = _xlsx(header, data)
        media = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    else:
        buffer = io.StringIO()
        writer = csv.writer(buffer)
        writer.writerow(header)
        writer.writerows([["" if v is None else _csv_text(v) for v in row] for row in data])
        body = ("\ufeff" + buffer.getvalue()).encode("utf-8")  # the BOM lets Excel read the Chinese as UTF-8
        media = "text/csv; charset=utf-8"
    return Response(body, media_type=media, headers={"Content-Disposition": f'attachment; filename="{filename}"'})


def _export_value(value: Any, t: Translator) -> Any:
    value = _plain(value)
    if isinstance(value, bool):
        return t.gettext("yes") if value else t.gettext("no")
    if isinstance(value, dt.datetime):
        return value.astimezone(_CHINA).replace(tzinfo=None)
    if isinstance(value, int | float | Decimal | dt.date) or value is None:
        return value
    return str(value)


def _csv_text(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S")
    text = str(value)
    # a cell a spreadsheet would run as a formula is written as text (CSV injection)
    return "'" + text if text[:1] in {"=", "+", "-", "@", "\t", "\r"} and not _is_number(text) else text


def _is_number(text: str) -> bool:
    try:
        Decimal(text)
    except ArithmeticError:
        return False
    return True


def _xlsx(header: list[str], data: list[list[Any]]) -> bytes:
    buffer = io.BytesIO()
    book = xlsxwriter.Workbook(buffer, {"in_memory": True, "strings_to_formulas": False, "strings_to_urls": False})
    sheet = book.add_worksheet()
    bold = book.add_format({"bold": True})
    when = book.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    day = book.add_format({"num_format": "yyyy-mm-dd"})
    sheet.write_row(0, 0, header, bold)
    for r, row in enumerate(data, start=1):
        for c, value in enumerate(row):
            if value is None:
                continue
            if isinstance(value, dt.datetime):
                sheet.write_datetime(r, c, value, when)
            elif isinstance(value, dt.date):
                sheet.write_datetime(r, c, dt.datetime.combine(value, dt.time()), day)
            elif isinstance(value, Decimal):
                sheet.write_string(r, c, str(value))  # exact: 万元 to 6 places is text, not a float
            elif isinstance(value, int | float):
                sheet.write_number(r, c, value)
            else:
                sheet.write_string(r, c, value)
    sheet.freeze_panes(1, 0)
    book.close()
    return buffer.getvalue()
