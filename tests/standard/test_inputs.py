"""Bad input through ``jnx standard validate``: a clear message and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from jnx.cli import main
from tests.standard.samples.build import BASES

SAMPLES = Path(__file__).parent / "samples"


def run(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    with pytest.raises(SystemExit) as exit_info:
        main(["standard", "validate", *args])
    out, err = capsys.readouterr()
    assert "Traceback" not in out + err
    return int(exit_info.value.code or 0), out, err


def write(tmp_path: Path, name: str, data: bytes) -> str:
    path = tmp_path / name
    path.write_bytes(data)
    return str(path)


def test_a_valid_file_exits_0(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _ = run(capsys, str(SAMPLES / "penalty.valid.xml"), "--on", "2025-06-30")
    assert code == 0 and "valid" in out


def test_an_invalid_file_exits_1_listing_every_field(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    records = [{**BASES["penalty"], "fine_amount": "x"}, {k: v for k, v in BASES["license"].items() if k != "license_type"}]
    path = write(tmp_path, "two.json", json.dumps(records, ensure_ascii=False).encode())
    code, out, _ = run(capsys, path, "--json", "--on", "2025-06-30")
    report = json.loads(out)
    assert code == 1
    assert report["records"] == 2
    # without record_type in the records, every record says so; with --record-type only the real faults remain
    assert {i["rule"] for i in report["issues"]} == {"record_type.missing"}
    code, out, _ = run(capsys, write(tmp_path, "one.json", json.dumps([records[0]], ensure_ascii=False).encode()), "-t", "penalty", "--json", "--on", "2025-06-30")
    issue = json.loads(out)["issues"][0]
    assert (issue["element_id"], issue["name_zh"], issue["field"], issue["rule"]) == ("JN-DE-0058", "罚款金额（万元）", "fine_amount", "amount.format")


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("bad.json", b'{"record_type": "penalty",\n "party_name": }', "malformed JSON at line 2, column 16"),
        ("bad.xml", b'<?xml version="1.0"?>\n<records xmlns="urn:jining:jnx:standard:1"><penalty></records>', "malformed XML at line 2"),
        ("dtd.xml", b'<?xml version="1.0"?>\n<!DOCTYPE records SYSTEM "http://example.invalid/x.dtd">\n<records/>', "line 2: XML with a DTD"),
        (
            "bomb.xml",
            b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;">]>\n<records>&lol2;</records>',
            "DTD or entity declaration",
        ),
        ("latin.json", '{"party_name": "济宁"}'.encode("gb18030"), "cannot be decoded as utf-8"),
        ("gbk.xml", '<?xml version="1.0" encoding="UTF-8"?><records>济宁</records>'.encode("gb18030"), "offset 47"),
        ("dup.json", b'{"record_type": "agency", "region": "370800", "region": "370811"}', "duplicate key 'region'"),
        ("nan.json", b'{"record_type": "penalty", "fine_amount": NaN}', "NaN is not a number"),
        ("what.txt", b"hello", "cannot tell whether this is JSON or XML"),
        ("root.xml", b"<other/>", "the root element"),
    ],
)
def test_unusable_input_exits_2_with_a_clear_message(capsys: pytest.CaptureFixture[str], tmp_path: Path, name: str, data: bytes, message: str) -> None:
    code, _, err = run(capsys, write(tmp_path, name, data))
    assert code == 2
    assert err.startswith("error: ") and message in err
    assert "hint: " in err


def test_gb18030_declared_xml_is_read_in_its_encoding(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    text = (SAMPLES / "agency.valid.xml").read_text(encoding="utf-8").replace("encoding='UTF-8'", "encoding='GB18030'")
    assert "GB18030" in text
    code, out, _ = run(capsys, write(tmp_path, "gb.xml", text.encode("gb18030")), "--on", "2025-06-30")
    assert code == 0, out


def test_an_oversized_file_is_refused_before_it_is_read(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = tmp_path / "big.json"
    with path.open("wb") as handle:
        handle.truncate(50 * 1024 * 1024)  # a sparse 50 MB file
    code, _, err = run(capsys, str(path))
    assert code == 2 and "over the limit of 16,777,216 bytes" in err and "--max-bytes" in err
    code, _, err = run(capsys, str(SAMPLES / "agency.valid.json"), "--max-bytes", "100")
    assert code == 2 and "over the limit of 100 bytes" in err


def test_a_missing_file_and_a_bad_date_are_input_errors(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, str(tmp_path / "nope.json"))
    assert code == 2 and "cannot read" in err
    code, _, err = run(capsys, str(SAMPLES / "agency.valid.json"), "--on", "yesterday")
    assert code == 2 and "YYYY-MM-DD" in err
    code, _, err = run(capsys, str(SAMPLES / "agency.valid.json"), "-t", "nonsense")
    assert code == 3 and "known: agency" in err


def test_a_number_of_thousands_of_digits_is_unusable_input(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = b'{"record_type": "penalty", "fine_amount": ' + b"9" * 5000 + b"}"
    code, _, err = run(capsys, write(tmp_path, "long.json", data))
    assert code == 2 and "a JSON number of 5,000 digits" in err and "hint: " in err


@pytest.mark.parametrize("doc", [{"record_type": ["penalty"]}, {"record_type": {"a": 1}}, {"record_type": ["penalty"], "records": [{}]}])
def test_a_record_type_that_is_not_text_is_an_issue_of_the_record(capsys: pytest.CaptureFixture[str], tmp_path: Path, doc: dict[str, object]) -> None:
    code, out, _ = run(capsys, write(tmp_path, "type.json", json.dumps(doc).encode()), "--json")
    assert code == 1
    assert [i["rule"] for i in json.loads(out)["issues"]] == ["record_type.type"]


def test_a_record_without_a_type_is_shown_with_a_question_mark(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, out, _ = run(capsys, write(tmp_path, "untyped.json", b'{"region": "370800"}'))
    assert code == 1 and "record 0 (?): record_type:" in out and "None" not in out


def test_json_in_gb18030_is_told_to_be_utf8(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, write(tmp_path, "gb.json", '{"party_name": "济宁"}'.encode("gb18030")))
    hint = err.split("hint: ", 1)[1]
    assert code == 2 and "JSON must be UTF-8" in hint and "<?xml" not in hint


def test_a_directory_is_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    code, _, err = run(capsys, str(tmp_path))
    assert code == 2 and "is a directory, not a record file" in err


def jnx_validate(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """The real command in a child process: reading /dev/stdin needs a real standard input."""
    command = [sys.executable, "-c", "from jnx.cli import main; main()", "standard", "validate", *args]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=60, check=False)


def test_a_pipe_is_read_up_to_the_limit_and_refused_beyond_it() -> None:
    sample = (SAMPLES / "agency.valid.json").read_bytes()
    accepted = jnx_validate("/dev/stdin", "--on", "2025-06-30", stdin=sample)
    assert accepted.returncode == 0, accepted.stderr
    refused = jnx_validate("/dev/stdin", "--max-bytes", "100", stdin=sample)
    assert refused.returncode == 2
    assert b"holds more than 100 bytes, over the limit of 100 bytes" in refused.stderr and b"Traceback" not in refused.stderr


def test_an_endless_device_costs_at_most_the_limit() -> None:
    refused = jnx_validate("/dev/zero", "--max-bytes", "1000000")
    assert refused.returncode == 2 and b"over the limit of 1,000,000 bytes" in refused.stderr


def test_a_fifo_is_read_like_a_pipe(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    fifo = tmp_path / "records.json"
    os.mkfifo(fifo)
    sample = (SAMPLES / "agency.valid.json").read_bytes()
    writer = threading.Thread(target=fifo.write_bytes, args=(sample,))
    writer.start()
    code, out, _ = run(capsys, str(fifo), "--on", "2025-06-30")
    writer.join(10)
    assert code == 0, out


@pytest.mark.parametrize(
    "place",
    [
        "<illegal_facts><![CDATA[页面写有<!DOCTYPE html>。]]></illegal_facts>",
        "<illegal_facts>当事人销售商品未明码标价。</illegal_facts><!-- an old <!DOCTYPE records> was removed -->",
    ],
)
def test_doctype_letters_inside_content_are_not_a_dtd(capsys: pytest.CaptureFixture[str], tmp_path: Path, place: str) -> None:
    text = (SAMPLES / "penalty.valid.xml").read_text(encoding="utf-8")
    text = text.replace("<illegal_facts>当事人销售商品未明码标价。</illegal_facts>", place)
    code, out, _ = run(capsys, write(tmp_path, "cdata.xml", text.encode()), "--on", "2025-06-30")
    assert code == 0, out


def test_a_doctype_after_a_comment_in_the_prolog_is_still_refused(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = b'<?xml version="1.0"?>\n<!-- a note -->\n<?pi x?>\n<!doctype records [<!ENTITY a "b">]>\n<records/>'
    code, _, err = run(capsys, write(tmp_path, "late.xml", data))
    assert code == 2 and "line 4: XML with a DTD" in err
