"""File drops: GB18030 CSV, encodings from the declaration, partial files, moving committed files."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from jnx.adapters.base import OutboundItem, ReceiptStatus
from jnx.adapters.config import FileDropConfig, FilePullSpec, FilePushSpec
from jnx.adapters.errors import FileEncodingError, PayloadError, UnsafeXmlError
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


def test_a_file_in_the_wrong_encoding_names_the_file_and_the_byte_offset(tmp_path: Path) -> None:
    path = drop(tmp_path, "r.csv", HEADER + "JG001,济宁,抽查,2024-01-01\r\n", encoding="gb18030")
    spec = CSV_SPEC.model_copy(update={"encoding": "utf-8"})
    with pytest.raises(FileEncodingError) as info:
        list(puller(tmp_path, spec).pull(None))
    assert info.value.offset == 0  # 结 in GB18030 is not UTF-8
    assert str(path) in str(info.value) and "byte offset 0" in str(info.value)


def test_the_offset_points_at_the_first_byte_that_does_not_decode(tmp_path: Path) -> None:
    good = "结果编号,名称\r\nJG002,".encode()
    (tmp_path / "mixed.csv").write_bytes(good + "济宁".encode("gb18030") + b"\r\n")
    spec = CSV_SPEC.model_copy(update={"encoding": None})
    with pytest.raises(FileEncodingError, match=f"mixed.csv: not valid utf-8-sig at byte offset {len(good)}"):
        list(puller(tmp_path, spec).pull(None))


def test_the_encoding_comes_from_the_xml_declaration(tmp_path: Path) -> None:
    xml = '<?xml version="1.0" encoding="GB18030"?>\n<rows><row><id>X1</id><name>鱼台县𠮷</name></row></rows>'
    drop(tmp_path, "a.xml", xml)
    spec = FilePullSpec(record_type="license", pattern="*.xml", format="xml", record_element="row", key_field="id")
    [page] = list(puller(tmp_path, spec).pull(None))
    assert page.records[0].payload == {"id": "X1", "name": "鱼台县𠮷"}


def test_an_xml_drop_with_a_dtd_is_refused(tmp_path: Path) -> None:
    drop(tmp_path, "a.xml", '<?xml version="1.0"?><!DOCTYPE r [<!ENTITY x "y">]><rows/>', encoding="utf-8")
    spec = FilePullSpec(record_type="license", pattern="*.xml", format="xml", record_element="row", key_field="id")
    with pytest.raises(UnsafeXmlError):
        list(puller(tmp_path, spec).pull(None))


def test_partial_and_unmarked_files_are_ignored(tmp_path: Path) -> None:
    drop(tmp_path, "a.csv.part", HEADER)
    drop(tmp_path, "b.csv", HEADER + "JG2,x,y,z\r\n")
    drop(tmp_path, "c.csv", HEADER + "JG3,x,y,z\r\n")
    (tmp_path / "c.csv.ok").write_text("")
    spec = CSV_SPEC.model_copy(update={"ready_suffix": ".ok"})
    keys = [r.source_key for p in puller(tmp_path, spec).pull(None) for r in p.records]
    assert keys == ["JG3"]


def test_a_row_with_a_missing_field_is_an_error_naming_its_line(tmp_path: Path) -> None:
    drop(tmp_path, "r.csv", HEADER + "JG1,x,y,z\r\nJG2,x\r\n")
    with pytest.raises(PayloadError, match=r"r.csv: line 3 has 2 fields where the header has 4"):
        list(puller(tmp_path).pull(None))


def test_files_are_read_oldest_first_in_pages_and_moved_when_acknowledged(tmp_path: Path) -> None:
    drop(tmp_path, "new.csv", HEADER + "N1,x,y,z\r\n", mtime=1_700_000_000)
    drop(tmp_path, "old.csv", HEADER + "".join(f"O{i},x,y,z\r\n" for i in range(5)), mtime=1_600_000_000)
    source = puller(tmp_path, page_size=2)
    pages = list(source.pull(None))
    assert [[r.source_key for r in p.records] for p in pages] == [["O0", "O1"], ["O2", "O3"], ["O4"], ["N1"]]
    assert pages[0].watermark.cursor == "2" and pages[2].watermark.cursor is None
    for page in pages[:3]:
        source.acknowledge(page)
    assert (tmp_path / "done" / "old.csv").exists() and not (tmp_path / "old.csv").exists()
    assert (tmp_path / "new.csv").exists()


def test_a_pull_resumes_mid_file_and_moves_files_already_committed(tmp_path: Path) -> None:
    drop(tmp_path, "old.csv", HEADER + "".join(f"O{i},x,y,z\r\n" for i in range(5)), mtime=1_600_000_000)
    source = puller(tmp_path, page_size=2)
    first = next(iter(source.pull(None)))
    resumed = list(source.pull(first.watermark))  # crash after committing page 1: resume at row 2
    assert [r.source_key for p in resumed for r in p.records] == ["O2", "O3", "O4"]
    list(source.pull(resumed[-1].watermark))  # committed but never acknowledged: moved now
    assert (tmp_path / "done" / "old.csv").exists()


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
