"""File drops: GB18030 CSV, encodings, partial files, moving committed files; bad rows and files kept and
reported, never a stop (issue 12)."""

from __future__ import annotations

import os
import time
import tracemalloc
from pathlib import Path

import pytest

from jnx.adapters.base import OutboundItem, Page, RawRecord, ReceiptStatus
from jnx.adapters.config import FileDropConfig, FilePullSpec, FilePushSpec
from jnx.adapters.files import FileDropPuller, FileDropPusher

HEADER = "结果编号,被检查对象名称,检查方式,更新时间\r\n"
CSV_SPEC = FilePullSpec(record_type="inspection_result", encoding="gb18030", key_field="结果编号", updated_field="更新时间")


def drop(folder: Path, name: str, text: str, encoding: str = "gb18030", mtime: int | None = None) -> Path:
    path = folder / name
    path.write_bytes(text.encode(encoding))
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def puller(folder: Path, spec: FilePullSpec = CSV_SPEC, page_size: int = 100) -> FileDropPuller:
    return FileDropPuller(folder, folder / "done", spec, page_size=page_size)


def test_a_gb18030_csv_with_characters_outside_gbk_is_read(tmp_path: Path) -> None:
    drop(tmp_path, "results_20240101.csv", HEADER + 'JG001,"济宁䶮𠮷商贸, 有限公司",实地检查、检验检测,2024-01-01 08:00:00\r\n')
    [page] = list(puller(tmp_path).pull(None))
    record = page.records[0]
    assert record.payload["被检查对象名称"] == "济宁䶮𠮷商贸, 有限公司"
    assert record.source_key == "JG001" and record.source_updated == "2024-01-01 08:00:00"
    assert page.last and page.watermark.key == "results_20240101.csv" and page.watermark.cursor is None


def records(pages: list[Page]) -> list[RawRecord]:
    return [r for p in pages for r in p.records]


def good_keys(pages: list[Page]) -> list[str]:
    return [r.source_key for r in records(pages) if r.defect is None]


def defects(pages: list[Page]) -> list[str]:
    return [f"{r.defect.rule}: {r.defect.message}" for r in records(pages) if r.defect is not None]


def pull_all(source: FileDropPuller) -> list[Page]:
    pages = list(source.pull(None))
    for page in pages:
        source.acknowledge(page)
    return pages


def test_a_file_in_the_wrong_encoding_is_rejected_with_a_reason_naming_the_byte_offset(tmp_path: Path) -> None:
    drop(tmp_path, "r.csv", HEADER + "JG001,济宁,抽查,2024-01-01\r\n", encoding="gb18030")
    spec = CSV_SPEC.model_copy(update={"encoding": "utf-8"})
    pages = pull_all(puller(tmp_path, spec))
    assert [r.defect.rule for r in records(pages) if r.defect] == ["file.rejected"]
    assert any("not valid utf-8 at byte offset 0" in n for p in pages for n in p.notices)
    reason = (tmp_path / "rejected" / "r.csv.reason.txt").read_text(encoding="utf-8")
    assert "byte offset 0" in reason and (tmp_path / "rejected" / "r.csv").exists() and not (tmp_path / "r.csv").exists()


def test_a_row_that_does_not_decode_is_an_error_at_its_byte_offset_and_the_rows_after_it_are_read(tmp_path: Path) -> None:
    good = "结果编号,名称\r\nJG001,济宁\r\n".encode()
    (tmp_path / "mixed.csv").write_bytes(good + b"JG002," + "济宁".encode("gb18030") + b"\r\nJG003,ok\r\n")
    spec = CSV_SPEC.model_copy(update={"encoding": None, "updated_field": None})
    pages = list(puller(tmp_path, spec).pull(None))
    assert good_keys(pages) == ["JG001", "JG003"]
    [bad] = [r for r in records(pages) if r.defect]
    assert bad.payload == b"JG002," + "济宁".encode("gb18030") + b"\r\n"  # the raw bytes are kept
    assert f"mixed.csv: line 3 (byte offset {len(good)}): not valid utf-8 at byte offset {len(good) + 6}" in bad.defect.message  # type: ignore[union-attr]


def test_the_encoding_comes_from_the_xml_declaration(tmp_path: Path) -> None:
    xml = '<?xml version="1.0" encoding="GB18030"?>\n<rows><row><id>X1</id><name>鱼台县𠮷</name></row></rows>'
    drop(tmp_path, "a.xml", xml)
    spec = FilePullSpec(record_type="license", pattern="*.xml", format="xml", record_element="row", key_field="id")
    [page] = list(puller(tmp_path, spec).pull(None))
    assert page.records[0].payload == {"id": "X1", "name": "鱼台县𠮷"}


def test_an_xml_drop_with_a_dtd_is_rejected(tmp_path: Path) -> None:
    drop(tmp_path, "a.xml", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><rows/>', encoding="utf-8")
    spec = FilePullSpec(record_type="license", pattern="*.xml", format="xml", record_element="row", key_field="id")
    pages = pull_all(puller(tmp_path, spec))
    assert defects(pages) and "DTD" in (tmp_path / "rejected" / "a.xml.reason.txt").read_text(encoding="utf-8")


def test_partial_and_unmarked_files_are_ignored(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv.part", HEADER)
    drop(tmp_path, "b.csv", HEADER + "JG2,x,y,z\r\n")
    drop(tmp_path, "c.csv", HEADER + "JG3,x,y,z\r\n")
    (tmp_path / "c.csv.ok").write_text("")
    spec = CSV_SPEC.model_copy(update={"ready_suffix": ".ok"})
    keys = [r.source_key for p in puller(tmp_path, spec).pull(None) for r in p.records]
    assert keys == ["JG3"]


def test_a_ragged_row_is_an_error_naming_its_line_and_the_rows_after_it_are_read(tmp_path: Path) -> None:
    drop(tmp_path, "r.csv", HEADER + "JG1,x,y,z\r\nJG2,x\r\nJG3,x,y,z\r\n")
    pages = list(puller(tmp_path).pull(None))
    assert good_keys(pages) == ["JG1", "JG3"]
    offset = len((HEADER + "JG1,x,y,z\r\n").encode("gb18030"))
    assert defects(pages) == [f"csv.fields: {tmp_path / 'r.csv'}: line 3 (byte offset {offset}): "
                              "the row has 2 fields where the header has 4"]


def test_files_are_read_oldest_first_in_pages_and_moved_when_acknowledged(tmp_path: Path) -> None:
    drop(tmp_path, "new.csv", HEADER + "N1,x,y,z\r\n", mtime=1_700_000_000)
    drop(tmp_path, "old.csv", HEADER + "".join(f"O{i},x,y,z\r\n" for i in range(5)), mtime=1_600_000_000)
    source = puller(tmp_path, page_size=2)
    pages = list(source.pull(None))
    assert [[r.source_key for r in p.records] for p in pages] == [["O0", "O1"], ["O2", "O3"], ["O4"], ["N1"]]
    assert pages[0].watermark.cursor is not None and pages[2].watermark.cursor is None
    assert [p.last for p in pages] == [False, False, False, True]
    for page in pages[:3]:
        source.acknowledge(page)
    assert (tmp_path / "done" / "old.csv").exists() and not (tmp_path / "old.csv").exists()
    assert (tmp_path / "new.csv").exists()


def test_a_pull_resumes_mid_file_and_moves_files_already_committed(tmp_path: Path) -> None:
    drop(tmp_path, "old.csv", HEADER + "".join(f"O{i},x,y,z\r\n" for i in range(5)), mtime=1_600_000_000)
    source = puller(tmp_path, page_size=2)
    first = next(iter(source.pull(None)))
    resumed = list(source.pull(first.watermark))  # crash after committing page 1: resume after its rows
    assert [r.source_key for p in resumed for r in p.records] == ["O2", "O3", "O4"]
    assert list(source.pull(resumed[-1].watermark)) == []  # committed but never acknowledged: moved now
    assert (tmp_path / "done" / "old.csv").exists()


def test_a_changed_file_of_the_same_name_is_read_from_its_start(tmp_path: Path) -> None:
    drop(tmp_path, "f.csv", HEADER + "".join(f"O{i},x,y,z\r\n" for i in range(5)))
    first = next(iter(puller(tmp_path, page_size=2).pull(None)))
    drop(tmp_path, "f.csv", HEADER + "".join(f"P{i},x,y,z\r\n" for i in range(3)))
    assert good_keys(list(puller(tmp_path, page_size=2).pull(first.watermark))) == ["P0", "P1", "P2"]


def test_one_bad_file_goes_to_rejected_and_the_good_files_after_it_are_read(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", HEADER + "A1,x,y,z\r\n", mtime=1_600_000_000)
    (tmp_path / "b.csv").write_bytes(b"PK\x03\x04" + bytes(200))
    os.utime(tmp_path / "b.csv", (1_600_000_100, 1_600_000_100))
    drop(tmp_path, "c.csv", HEADER + "C1,x,y,z\r\n", mtime=1_600_000_200)
    pages = pull_all(puller(tmp_path))
    assert good_keys(pages) == ["A1", "C1"]
    assert "ZIP archive" in (tmp_path / "rejected" / "b.csv.reason.txt").read_text(encoding="utf-8")
    assert any("b.csv: rejected" in n and "ZIP" in n for p in pages for n in p.notices)
    assert sorted(p.name for p in (tmp_path / "done").iterdir()) == ["a.csv", "c.csv"]
    assert list(puller(tmp_path).pull(None)) == []  # the next pull does not meet it again


def test_a_crash_between_commit_and_move_of_a_rejected_file_still_moves_it_to_rejected(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", "")
    [page] = list(puller(tmp_path).pull(None))
    assert list(puller(tmp_path).pull(page.watermark)) == []
    assert "empty" in (tmp_path / "rejected" / "a.csv.reason.txt").read_text(encoding="utf-8")


def test_a_file_copied_in_with_an_old_mtime_is_read(tmp_path: Path) -> None:
    drop(tmp_path, "new.csv", HEADER + "N1,x,y,z\r\n", mtime=1_700_000_000)
    source = puller(tmp_path)
    pages = pull_all(source)
    drop(tmp_path, "old.csv", HEADER + "O1,x,y,z\r\n", mtime=1_500_000_000)  # cp -p of last year's export
    assert good_keys(list(source.pull(pages[-1].watermark))) == ["O1"]


def test_a_file_stamped_in_the_future_is_read_with_a_warning(tmp_path: Path) -> None:
    drop(tmp_path, "f.csv", HEADER + "F1,x,y,z\r\n", mtime=int(time.time()) + 86_400)
    spec = CSV_SPEC.model_copy(update={"min_age_seconds": 30})
    [page] = list(puller(tmp_path, spec).pull(None))
    assert good_keys([page]) == ["F1"] and "in the future" in page.notices[0]


def test_an_empty_file_is_rejected_and_a_file_of_only_a_header_is_reported(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv", "", mtime=1_600_000_000)
    drop(tmp_path, "b.csv", HEADER, mtime=1_600_000_100)
    pages = pull_all(puller(tmp_path))
    notices = [n for p in pages for n in p.notices]
    assert any("a.csv: rejected (the file is empty" in n for n in notices)
    assert any("b.csv: a header and no rows" in n for n in notices)


def test_a_symbolic_link_is_refused_not_followed(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    drop(outside, "secret.csv", HEADER + "S1,x,y,z\r\n")
    folder = tmp_path / "drop"
    folder.mkdir()
    (folder / "link.csv").symlink_to(outside / "secret.csv")
    pages = pull_all(puller(folder))
    assert good_keys(pages) == [] and "symbolic link" in defects(pages)[0]
    assert (folder / "rejected" / "link.csv").is_symlink() and (outside / "secret.csv").exists()


@pytest.mark.parametrize(("content", "reason"), [
    ("结果编号,名称,名称\r\nA,b,c\r\n".encode("gb18030"), "more than once"),
    ("名称,更新时间\r\nb,c\r\n".encode("gb18030"), "no key column"),
    (b"\xef\xbb\xbf" + HEADER.encode(), "UTF-8 byte-order mark but the registration declares gb18030"),
    (b"\xff\xfe" + HEADER.encode("utf-16-le"), "UTF-16"),
    (b"\x1f\x8b\x08\x00rest", "gzip"),
])
def test_a_file_that_cannot_be_read_is_rejected_with_its_reason(tmp_path: Path, content: bytes, reason: str) -> None:
    (tmp_path / "f.csv").write_bytes(content)
    pages = pull_all(puller(tmp_path))
    assert good_keys(pages) == []
    assert reason in (tmp_path / "rejected" / "f.csv.reason.txt").read_text(encoding="utf-8")


def test_a_gb18030_byte_order_mark_is_read_as_such(tmp_path: Path) -> None:
    (tmp_path / "f.csv").write_bytes("\ufeff".encode("gb18030") + (HEADER + "G1,济宁,y,z\r\n").encode("gb18030"))
    assert good_keys(list(puller(tmp_path).pull(None))) == ["G1"]


def test_a_utf8_row_in_a_gb18030_file_is_flagged_not_stored_as_mojibake(tmp_path: Path) -> None:
    body = HEADER.encode("gb18030") + "G1,济宁,y,z\r\n".encode("gb18030") + "G2,张三,y,z\r\n".encode()
    (tmp_path / "f.csv").write_bytes(body)
    pages = list(puller(tmp_path).pull(None))
    assert good_keys(pages) == ["G1"]
    assert [d.split(":")[0] for d in defects(pages)] == ["encoding.utf8_in_gb"]


def test_an_unterminated_quote_is_an_error_of_its_line_and_the_next_lines_are_read(tmp_path: Path) -> None:
    drop(tmp_path, "f.csv", HEADER + 'Q1,"never closed,y,z\r\nQ2,x,y,z\r\nQ3,"two\r\nlines",y,z\r\n')
    pages = list(puller(tmp_path).pull(None))
    assert good_keys(pages) == ["Q2", "Q3"]
    assert records(pages)[2].payload["被检查对象名称"] == "two\r\nlines"
    assert "line 2" in defects(pages)[0] and "not closed" in defects(pages)[0]


def test_an_over_long_field_and_a_row_without_its_key_are_errors_of_their_own(tmp_path: Path) -> None:
    drop(tmp_path, "f.csv", HEADER + f"L1,{'长' * 200_000},y,z\r\n,x,y,z\r\nL3,x,y,z\r\n")
    pages = list(puller(tmp_path).pull(None))
    assert good_keys(pages) == ["L3"]
    assert [d.split(":")[0] for d in defects(pages)] == ["csv", "key.missing"]


def test_private_use_code_points_and_nul_are_errors_of_the_row(tmp_path: Path) -> None:
    drop(tmp_path, "f.csv", HEADER + "P1,\ue5e5,y,z\r\nP2,a\x00b,y,z\r\nP3,x,y,z\r\n")
    pages = list(puller(tmp_path).pull(None))
    assert good_keys(pages) == ["P3"]
    assert "private-use code point U+E5E5" in defects(pages)[0] and "NUL" in defects(pages)[1]
    assert [r.source_key for r in records(pages)][:2] == ["P1", "P2"]  # errors kept under their key


def test_reading_memory_does_not_grow_with_the_file(tmp_path: Path) -> None:
    row = "JG{:07d},济宁市某某商贸有限公司,实地检查、检验检测,2024-01-01 08:00:00\r\n"

    def peak(rows: int) -> int:
        folder = tmp_path / str(rows)
        folder.mkdir()
        with (folder / "f.csv").open("wb") as handle:
            handle.write(HEADER.encode("gb18030"))
            for start in range(0, rows, 1000):
                handle.write("".join(row.format(i) for i in range(start, min(start + 1000, rows))).encode("gb18030"))
        tracemalloc.start()
        count = sum(len(p.records) for p in puller(folder, page_size=200).pull(None))
        top = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert count == rows
        return top

    small, large = peak(3_000), peak(12_000)
    assert large < 1.3 * small, (small, large)


def test_the_file_pusher_writes_each_batch_once_atomically(tmp_path: Path) -> None:
    pusher = FileDropPusher(FilePushSpec(folder=tmp_path / "out"))
    items = [OutboundItem("k1", "penalty", {"CF_WSH": "济任罚〔2024〕1号"})]
    first = pusher.push(items)
    second = pusher.push(items)
    assert first == second and first[0].status is ReceiptStatus.QUEUED
    assert [p.suffix for p in (tmp_path / "out").iterdir()] == [".json"]


def test_the_config_requires_a_record_element_for_xml() -> None:
    with pytest.raises(ValueError, match="record_element"):
        FileDropConfig.model_validate({"folder": "/x", "pull": [{"record_type": "a", "format": "xml", "key_field": "id"}]})


def test_a_12_mb_text_node_in_an_xml_drop_is_an_error_of_its_record(tmp_path: Path) -> None:
    xml = "<rows><row><id>X1</id><name>a</name></row><row><id>X2</id><name>" + "长" * 4_200_000 + "</name></row>" \
          "<row><id>X3</id><name>c</name></row></rows>"
    drop(tmp_path, "a.xml", xml, encoding="utf-8")
    spec = FilePullSpec(record_type="license", pattern="*.xml", format="xml", record_element="row", key_field="id")
    pages = pull_all(puller(tmp_path, spec))
    assert good_keys(pages) == ["X1", "X3"]
    [defect] = defects(pages)
    assert "`name` holds 4,200,000 characters" in defect and "XML_PARSE_HUGE" not in defect
    assert (tmp_path / "done" / "a.xml").exists()
