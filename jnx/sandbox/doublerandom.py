"""The double-random system (双随机一公开监管系统): REST/JSON with page-number paging for plans, tasks
and results, and GB18030 CSV exports over HTTP and into a folder (docs/source-shapes.md §3)."""

from __future__ import annotations

import csv
import datetime as dt
import hmac
import io
from collections.abc import Mapping
from pathlib import Path

from jnx.sandbox.data import BEIJING, local_time, parse_since
from jnx.sandbox.faults import FaultDecision, FaultState
from jnx.sandbox.feed import Feed, SourceRecord
from jnx.sandbox.httpserver import Platform, Request, Response, json_response
from jnx.sandbox.inspection_data import CHECK_WAYS

MAX_PAGE_SIZE = 500
CSV_TYPE = "text/csv; charset=GB18030"

CSV_COLUMNS: dict[str, tuple[tuple[str, str], ...]] = {
    "results": (("结果编号", "resultId"), ("任务编号", "taskId"), ("计划编号", "planId"), ("任务名称", "taskName"),
                ("被检查对象名称", "objName"), ("统一社会信用代码/注册号", "objCode"), ("住所", "objAddress"),
                ("法定代表人", "legalPerson"), ("检查方式", "checkWays"), ("检查结果代码", "checkResult"),
                ("检查结果", "checkResultText"), ("后续处置措施", "disposal"), ("检查执行部门", "deptName"),
                ("执行部门代码", "deptCode"), ("检查人员", "inspectors"), ("检查日期", "checkDate"), ("区划代码", "areaCode"),
                ("更新时间", "updateTime")),
    "plans": (("计划编号", "planId"), ("计划名称", "planName"), ("年度", "planYear"), ("制定部门", "deptName"),
              ("部门代码", "deptCode"), ("区划代码", "areaCode"), ("开始日期", "startDate"), ("结束日期", "endDate"),
              ("抽查事项", "checkItems"), ("抽查比例", "sampleRatio"), ("计划状态", "planStatus"), ("更新时间", "updateTime")),
    "tasks": (("任务编号", "taskId"), ("计划编号", "planId"), ("任务名称", "taskName"), ("实施部门", "deptName"),
              ("部门代码", "deptCode"), ("检查对象数", "objectCount"), ("检查人员", "inspectors"), ("开始日期", "startDate"),
              ("结束日期", "endDate"), ("任务状态", "taskStatus"), ("更新时间", "updateTime")),
}


def _csv_value(key: str, record: SourceRecord) -> str:
    value = record.fields.get(key)
    if key == "updateTime":
        return local_time(record.updated)
    if key == "checkWays":
        return "、".join(CHECK_WAYS.get(code.strip(), code.strip()) for code in str(value).replace("，", ",").split(","))
    return "" if value is None else str(value)


def export_csv(kind: str, records: list[SourceRecord]) -> bytes:
    """One export file: GB18030, CRLF, RFC 4180 quoting, Chinese header row."""
    columns = CSV_COLUMNS[kind]
    out = io.StringIO(newline="")
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow([title for title, _ in columns])
    for record in records:
        writer.writerow([_csv_value(key, record) for _, key in columns])
    return out.getvalue().encode("gb18030")


class DoubleRandomPlatform(Platform):
    name = "double_random"

    def __init__(self, faults: FaultState, feeds: Mapping[str, Feed], token: str) -> None:
        super().__init__(faults)
        self.feeds = dict(feeds)
        self.token = token

    def error_response(self, status: int) -> Response:
        return json_response({"success": False, "errorCode": "SERVICE_UNAVAILABLE", "errorMsg": "系统繁忙 (sandbox fault)", "result": None}, status)

    def advance(self) -> int:
        return sum(feed.advance() for feed in self.feeds.values())

    def handle(self, request: Request, decision: FaultDecision) -> Response:
        if not hmac.compare_digest((request.headers.get("X-Api-Token") or "").encode(), self.token.encode()):
            return json_response({"success": False, "errorCode": "AUTH_FAILED", "errorMsg": "令牌无效 (invalid X-Api-Token)", "result": None}, 401)
        try:
            since = parse_since(request.arg("updateTimeFrom"))
        except ValueError as exc:
            return self._bad(f"updateTimeFrom: {exc}")
        if request.path.startswith("/export/") and request.path.endswith(".csv"):
            feed = self.feeds.get(request.path.removeprefix("/export/").removesuffix(".csv"))
            if feed is None:
                return self._not_found(request)
            _, records, _ = feed.snapshot()
            chosen = records[feed.index_since(since):]
            return Response(200, export_csv(request.path[8:-4], chosen), CSV_TYPE,
                            {"Content-Disposition": f'attachment; filename="{request.path[8:-4]}.csv"'}, page=True)
        feed = self.feeds.get(request.path.removeprefix("/api/v1/"))
        if feed is None or request.method != "GET":
            return self._not_found(request)
        try:
            page = int(request.arg("pageNum") or "1")
            size = int(request.arg("pageSize") or "50")
        except ValueError:
            return self._bad("pageNum and pageSize must be integers")
        if page < 1 or not 1 <= size <= MAX_PAGE_SIZE:
            return self._bad(f"pageNum ≥ 1 and 1 ≤ pageSize ≤ {MAX_PAGE_SIZE}")
        first = feed.index_since(since)
        _, _, blobs = feed.snapshot()
        start = first + (page - 1) * size
        if decision.duplicate and page > 1:
            start -= size // 2 or 1
        rows = b",".join(blobs[max(start, first): first + page * size])
        body = (b'{"success":true,"errorCode":null,"errorMsg":null,"result":{"total":' + str(len(blobs) - first).encode()
                + b',"pageNum":' + str(page).encode() + b',"pageSize":' + str(size).encode() + b',"rows":[' + rows + b"]}}")
        return Response(200, body, page=True)

    def write_exports(self, folder: Path, day: dt.date | None = None) -> list[Path]:
        folder.mkdir(parents=True, exist_ok=True)
        stamp = (day or dt.datetime.now(BEIJING).date()).strftime("%Y%m%d")
        written = []
        for kind, feed in self.feeds.items():
            path = folder / f"{kind}_{stamp}.csv"
            path.write_bytes(export_csv(kind, feed.all()))
            written.append(path)
        return written

    def _bad(self, message: str) -> Response:
        return json_response({"success": False, "errorCode": "INVALID_PARAM", "errorMsg": message, "result": None}, 400)

    def _not_found(self, request: Request) -> Response:
        return json_response({"success": False, "errorCode": "NOT_FOUND", "errorMsg": f"no such API: {request.method} {request.path}", "result": None}, 404)
