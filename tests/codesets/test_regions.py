"""Jining's regions: abolished codes judged by the record's date, functional zones in every numbering."""

from __future__ import annotations

import datetime as dt

import pytest

from jnx.codesets.errors import UnknownCodeError
from jnx.codesets.regions import RegionKind, region_kind, resolve_region
from jnx.codesets.registry import default_registry

D = dt.date


def region():  # type: ignore[no-untyped-def]
    return default_registry().get("region")


@pytest.mark.parametrize(("old", "new"), [("370802", "370811"), ("370882", "370812")])
def test_codes_abolished_in_2013_are_valid_for_old_records_and_point_to_their_successor(old: str, new: str) -> None:
    assert region().check(old, D(2010, 6, 1)).ok
    verdict = region().check(old, D(2020, 6, 1))
    assert verdict.rule == "codeset.region.not_in_force"
    assert f"use '{new}'" in (verdict.reason or "")
    assert region().check(new, D(2020, 6, 1)).ok


def test_yanzhou_district_did_not_exist_before_2013() -> None:
    assert region().check("370812", D(2010, 6, 1)).rule == "codeset.region.not_in_force"


@pytest.mark.parametrize("code", ["370800", "370811", "370812", "370826", "370827", "370828", "370829", "370830", "370831", "370832", "370881", "370883", "370890", "370891", "370892"])
def test_every_current_jining_region_is_valid_today(code: str) -> None:
    assert region().check(code, D(2024, 1, 1)).ok


def test_high_tech_zone_statistics_code_resolves_to_the_zone_with_a_warning() -> None:
    entry = resolve_region("370871")
    assert (entry.code, entry.label) == ("370890", "济宁高新技术产业开发区")
    verdict = region().check("370871")
    assert verdict.ok
    assert [w.rule for w in verdict.warnings] == ["codeset.region.alias"]


@pytest.mark.parametrize(("code", "nbs"), [("370890", "370871"), ("370891", None), ("370892", None)])
def test_functional_zones_have_no_gbt2260_code_but_a_local_one(code: str, nbs: str | None) -> None:
    entry = resolve_region(code)
    assert region_kind(entry) is RegionKind.FUNCTIONAL_ZONE
    assert entry.attrs["gbt2260"] is None
    assert entry.attrs["nbs"] == nbs
    assert entry.attrs["zwfw"] == code


def test_counties_carry_their_own_code_in_every_numbering() -> None:
    entry = resolve_region("370883")
    assert entry.attrs["gbt2260"] == entry.attrs["nbs"] == entry.attrs["zwfw"] == "370883"
    assert region_kind(entry) is RegionKind.CITY


def test_taibaihu_sits_statistically_in_rencheng() -> None:
    assert resolve_region("370891").attrs["within_gbt2260"] == "370811"


def test_a_code_outside_jining_is_not_a_region() -> None:
    with pytest.raises(UnknownCodeError) as caught:
        resolve_region("370102")
    assert caught.value.rule == "codeset.region.unknown"


def test_resolving_an_abolished_code_for_a_recent_date_names_the_successor() -> None:
    with pytest.raises(UnknownCodeError, match="use '370811'"):
        resolve_region("370802", D(2020, 1, 1))
    assert resolve_region("370802", D(2010, 1, 1)).replaced_by == "370811"


def test_without_a_date_an_abolished_code_passes_with_a_warning_to_give_the_date() -> None:
    verdict = region().check("370802")
    assert verdict.ok
    assert [w.rule for w in verdict.warnings] == ["codeset.region.dated_entry"]
    assert "replaced by '370811'" in verdict.warnings[0].reason
    assert region().check("370811").warnings == ()
