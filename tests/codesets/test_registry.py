"""Versioned code sets: the version in force on a record's date judges it; bad data files are named."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from jnx.codesets.errors import UnknownCodeError
from jnx.codesets.registry import CodeSetRegistry, default_registry, parse_codeset
from jnx.errors import CodeSetError

D = dt.date


def penalty_type():  # type: ignore[no-untyped-def]
    return default_registry().get("penalty_type")


def test_public_criticism_is_a_penalty_only_from_the_2021_law_on() -> None:
    before = penalty_type().check("通报批评", D(2020, 5, 1))
    assert (before.ok, before.rule) == (False, "codeset.penalty_type.not_in_version")
    assert "version 2021" in (before.reason or "")
    assert penalty_type().check("通报批评", D(2022, 5, 1)).ok


def test_the_2021_law_takes_effect_on_15_july_2021() -> None:
    assert not penalty_type().check("通报批评", D(2021, 7, 14)).ok
    assert penalty_type().check("通报批评", D(2021, 7, 15)).ok
    assert penalty_type().version_on(D(2021, 7, 14)).version == "2017"


def test_old_permit_penalties_belong_to_the_2017_version() -> None:
    assert penalty_type().check("暂扣或者吊销许可证", D(2019, 1, 1)).ok
    assert penalty_type().check("暂扣或者吊销许可证", D(2022, 1, 1)).rule == "codeset.penalty_type.not_in_version"


def test_without_a_date_the_latest_version_judges() -> None:
    assert penalty_type().check("通报批评").ok
    assert penalty_type().latest.version == "2021"


def test_an_unknown_code_is_reported_with_the_codes_of_the_version() -> None:
    verdict = penalty_type().check("记过", D(2022, 1, 1))
    assert verdict.rule == "codeset.penalty_type.unknown"
    assert "通报批评" in (verdict.reason or "") and "行政拘留" in (verdict.reason or "")


def test_a_date_before_every_version_is_an_error_listing_the_versions() -> None:
    with pytest.raises(CodeSetError, match=r"no version .* 1990-01-01; versions: 2017 \(1996-10-01"):
        penalty_type().check("警告", D(1990, 1, 1))


def test_registry_errors_list_every_known_name() -> None:
    with pytest.raises(CodeSetError) as caught:
        default_registry().get("penalty_kind")
    for name in default_registry().names():
        assert name in str(caught.value)


@pytest.mark.parametrize("value", ["其他-军官证", "其他-士兵证"])
def test_other_id_types_are_free_text_after_the_prefix(value: str) -> None:
    assert default_registry().check("id_type", value).ok


@pytest.mark.parametrize(("value", "rule"), [("其他-", "free_text_missing"), ("其他-  ", "free_text_missing"), ("其他", "unknown"), ("军官证", "unknown")])
def test_other_id_type_needs_its_description(value: str, rule: str) -> None:
    assert default_registry().check("id_type", value).rule == f"codeset.id_type.{rule}"


def test_resolve_returns_the_entry_or_raises_with_rule_and_hint() -> None:
    assert default_registry().get("license_status").resolve("1").label == "有效"
    with pytest.raises(UnknownCodeError) as caught:
        default_registry().get("license_status").resolve("3")
    assert caught.value.rule == "codeset.license_status.unknown"
    assert caught.value.hint and "jnx codesets show license_status" in caught.value.hint
    assert caught.value.exit_code == 1


# ---------------------------------------------------------------- loading data files


def _doc(**changes: object) -> dict[str, object]:
    doc: dict[str, object] = {
        "format": 1,
        "name": "sample",
        "title": "样例",
        "versions": [
            {"version": "1", "valid_from": "2000-01-01", "valid_to": "2009-12-31", "entries": [{"code": "a", "label": "A"}]},
            {"version": "2", "valid_from": "2010-01-01", "entries": [{"code": "a", "label": "A"}, {"code": "b", "label": "B"}]},
        ],
    }
    doc.update(changes)
    return doc


def test_a_well_formed_document_parses() -> None:
    codeset = parse_codeset(_doc(), "sample.yaml")
    assert [v.version for v in codeset.versions] == ["1", "2"]
    assert codeset.check("b", D(2005, 1, 1)).rule == "codeset.sample.not_in_version"


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"format": 2}, "format must be 1"),
        ({"versions": []}, "at least one version"),
        ({"versions": [{"version": "1", "valid_from": "2000-01-01", "entries": [{"code": "a", "label": "A"}]}, {"version": "2", "valid_from": "2010-01-01", "entries": [{"code": "a", "label": "A"}]}]}, "overlap"),
        ({"versions": [{"version": "1", "valid_from": "2000-01-01", "valid_to": "2008-12-31", "entries": [{"code": "a", "label": "A"}]}, {"version": "2", "valid_from": "2010-01-01", "entries": [{"code": "a", "label": "A"}]}]}, "a gap between version 1"),
        ({"versions": [{"version": "1", "valid_from": "2000-01-01", "entries": [{"code": "a", "label": "A"}, {"code": "a", "label": "B"}]}]}, "appears twice"),
        ({"versions": [{"version": "1", "valid_from": "2000-01-01", "entries": [{"code": "a"}]}]}, "needs code and label"),
        ({"versions": [{"version": "1", "valid_from": "2000-01-01", "entries": [{"code": "a", "label": "A", "colour": "red"}]}]}, "needs code and label"),
        ({"versions": [{"version": "1", "valid_from": "2000-01-01", "entries": [{"code": "a", "label": "A", "match": "regex"}]}]}, "match must be one of"),
        ({"versions": [{"version": "1", "valid_from": "2000-01-01", "entries": [{"code": "a", "label": "A", "aliases": ["x"]}, {"code": "b", "label": "B", "aliases": ["x"]}]}]}, "alias 'x' names two entries"),
        ({"versions": [{"version": "1", "valid_from": "2000-01-01", "entries": []}]}, "at least one entry"),
        ({"versions": [{"version": "1", "entries": [{"code": "a", "label": "A"}]}]}, "valid_from is required"),
        ({"versions": [{"version": "1", "valid_from": "2000-13-01", "entries": [{"code": "a", "label": "A"}]}]}, "is not a date"),
    ],
)
def test_a_broken_document_is_rejected_with_where_and_why(changes: dict[str, object], message: str) -> None:
    with pytest.raises(CodeSetError, match=message) as caught:
        parse_codeset(_doc(**changes), "sample.yaml")
    assert str(caught.value).startswith("sample.yaml")


def test_a_file_whose_name_differs_from_its_code_set_is_rejected(tmp_path: Path) -> None:
    (tmp_path / "other.yaml").write_text(
        "format: 1\nname: sample\nversions:\n  - {version: '1', valid_from: 2000-01-01, entries: [{code: a, label: A}]}\n",
        encoding="utf-8",
    )
    with pytest.raises(CodeSetError, match="must match the file name 'other'"):
        CodeSetRegistry.from_directory(tmp_path)


@pytest.mark.parametrize(
    "content",
    [b"format: 1\nname: [unclosed\n", "format: 1\nname: 样例\n".encode("gb18030"), b"- just\n- a list\n"],
    ids=["broken-yaml", "gb18030", "not-a-mapping"],
)
def test_an_unreadable_file_is_named_not_a_traceback(tmp_path: Path, content: bytes) -> None:
    (tmp_path / "sample.yaml").write_bytes(content)
    with pytest.raises(CodeSetError, match=r"^sample\.yaml: "):
        CodeSetRegistry.from_directory(tmp_path)


def test_the_same_code_set_twice_is_rejected() -> None:
    codeset = parse_codeset(_doc(), "sample.yaml")
    with pytest.raises(CodeSetError, match="defined twice"):
        CodeSetRegistry([codeset, codeset])
