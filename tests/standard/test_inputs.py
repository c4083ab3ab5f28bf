"""Bad input through ``jnx standard validate``: a clear message and a non-zero exit, never a traceback."""

from __future__ import annotations

import json
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
