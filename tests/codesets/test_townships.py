"""乡镇(街道) codes loaded by a deployment into the region code set, and the agency's level."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
import yaml

from jnx.codesets import (
    AgencyLevel,
    RegionKind,
    agency_level,
    default_registry,
    region_kind,
    region_level,
    resolve_region,
)
from jnx.codesets.registry import CodeSetRegistry
from jnx.codesets.townships import extend, township_kind
from jnx.errors import CodeSetError

# Codes of the test lists are made up for the test's sake (9 digits under real county codes); they
# are no list of Jining's 乡镇 — the shipped code set holds none (docs/codesets.md).
LIST = {
    "format": 1, "extends": "region", "version": "gbt2260-jining", "list": "test-list",
    "source": "a test list (not real codes)",
    "entries": [
        {"code": "370811001", "label": "测试一街道"},
        {"code": "370883100000", "label": "测试镇"},
        {"code": "370871002", "label": "测试高新区街道"},
        {"code": "370826201", "label": "测试乡", "valid_from": "2015-01-01"},
    ],
}


def _write(folder: Path, doc: object, name: str = "region.towns.yaml") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(yaml.safe_dump(doc, allow_unicode=True), encoding="utf-8")
    return path


def _extended(folder: Path) -> CodeSetRegistry:
    shipped = CodeSetRegistry.from_directory(Path(__file__).parents[2] / "jnx" / "codesets" / "data")
    return CodeSetRegistry(extend(shipped.get(n), folder) for n in shipped.names())


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("JNX_HOME", str(tmp_path))
    default_registry.cache_clear()
    yield tmp_path
    monkeypatch.delenv("JNX_HOME")
    default_registry.cache_clear()


def test_a_loaded_list_makes_townships_codes_of_the_region_set(home: Path) -> None:
    _write(home / "codesets", LIST)
    region = default_registry().get("region")
    assert region.check("370811001", dt.date(2024, 3, 1)).ok
    entry = resolve_region("370811001")
    assert (entry.label, entry.attrs["parent"], entry.attrs["nbs"], entry.attrs["list"]) == ("测试一街道", "370811", "370811001000", "test-list")
    assert region_kind(entry) is RegionKind.STREET and region_level(entry) is AgencyLevel.TOWNSHIP
    # the 12-digit 统计用区划代码 resolves to the 9-digit entry, with the alias warning
    verdict = region.check("370883100000")
    assert verdict.ok and [w.rule for w in verdict.warnings] == ["codeset.region.alias"]
    assert resolve_region("370883100000").code == "370883100"
    assert region_kind(resolve_region("370883100")) is RegionKind.TOWN
    # a zone's 统计 code counts for its parent
    assert resolve_region("370871002").attrs["parent"] == "370890"
    # an entry's own validity is judged by the record's date
    assert region.check("370826201", dt.date(2010, 1, 1)).rule == "codeset.region.not_in_force"


def test_without_a_list_a_township_code_is_unknown(home: Path) -> None:
    verdict = default_registry().get("region").check("370811001", dt.date(2024, 3, 1))
    assert not verdict.ok and verdict.rule == "codeset.region.unknown"


@pytest.mark.parametrize(("region", "credit", "level"), [
    ("370800", None, AgencyLevel.CITY),
    ("370811", None, AgencyLevel.COUNTY),
    ("370890", None, AgencyLevel.COUNTY),  # a functional zone counts as county-level
    ("370871", None, AgencyLevel.COUNTY),
    (None, "11370800004180002M", AgencyLevel.CITY),  # no region: the credit code's region digits
    (None, "11370811MB2850017P", AgencyLevel.COUNTY),
    ("370102", "11370811MB2850017P", AgencyLevel.COUNTY),  # not a Jining region: the credit code decides
    ("370102", None, None),
    (None, None, None),
])
def test_agency_level_from_its_region(region: str | None, credit: str | None, level: AgencyLevel | None) -> None:
    assert agency_level(region, credit, dt.date(2024, 1, 1)) is level


def test_an_agency_of_a_loaded_township_is_township_level(home: Path) -> None:
    _write(home / "codesets", LIST)
    assert agency_level("370811001", "11370811MB2850017P", dt.date(2024, 1, 1)) is AgencyLevel.TOWNSHIP


@pytest.mark.parametrize(("change", "message"), [
    ({"extends": "penalty_type"}, "extends must be 'region'"),
    ({"version": "1999"}, "has no version '1999'"),
    ({"source": ""}, "source is required"),
    ({"list": None}, "list is required"),
    ({"colour": "red"}, "unknown key(s) colour"),
    ({"entries": []}, "entries must be a non-empty list"),
    ({"entries": [{"code": "37081100", "label": "短"}]}, "is not a 乡级 code"),
    ({"entries": [{"code": "370811001001", "label": "村级"}]}, "is not a 乡级 code"),
    ({"entries": [{"code": "370102001", "label": "外市"}]}, "does not begin with the code of a county-level region"),
    ({"entries": [{"code": "370800001", "label": "市本级"}]}, "level prefecture"),
    ({"entries": [{"code": "370811001", "label": "甲"}, {"code": "370811001000", "label": "乙"}]}, "appears twice"),
    ({"entries": [{"code": "370811001", "label": " "}]}, "label"),
    ({"entries": [{"code": "370811001", "label": "甲", "valid_from": "2020-01-01", "valid_to": "2019-01-01"}]}, "before valid_from"),
    ({"entries": [{"code": "370811001", "label": "甲", "replaced_by": "370811999"}]}, "no code of the set"),
])
def test_a_bad_list_is_refused_whole_with_the_reason(tmp_path: Path, change: dict[str, object], message: str) -> None:
    path = _write(tmp_path, {**LIST, **change})
    with pytest.raises(CodeSetError, match="region.towns.yaml") as caught:
        _extended(tmp_path)
    assert message in str(caught.value), str(caught.value)
    assert str(path) in str(caught.value)


def test_two_files_may_not_list_the_same_code(tmp_path: Path) -> None:
    _write(tmp_path, LIST)
    _write(tmp_path, {**LIST, "entries": [{"code": "370811001", "label": "又一"}]}, "region.more.yaml")
    with pytest.raises(CodeSetError, match="also in another extension file"):
        _extended(tmp_path)


def test_only_the_region_set_takes_extensions(tmp_path: Path) -> None:
    _write(tmp_path, LIST, "penalty_type.x.yaml")
    with pytest.raises(CodeSetError, match="takes no extension files"):
        _extended(tmp_path)


@pytest.mark.parametrize(("code", "kind"), [("370811001", "street"), ("370811099", "street"), ("370811100", "town"),
                                            ("370811200", "township"), ("370811399", "township"), ("370811400", "other")])
def test_township_kind_by_its_three_digits(code: str, kind: str) -> None:
    assert township_kind(code) == kind


def test_the_shipped_versions_are_unchanged_by_an_extension(tmp_path: Path) -> None:
    _write(tmp_path, LIST)
    shipped = CodeSetRegistry.from_directory(Path(__file__).parents[2] / "jnx" / "codesets" / "data")
    before = shipped.get("region").version("gbt2260-jining")
    after = _extended(tmp_path).get("region").version("gbt2260-jining")
    assert set(after.entries) - set(before.entries) == {"370811001", "370883100", "370871002", "370826201"}
    assert all(after.entries[c] == e for c, e in before.entries.items())
