"""The generated data: deterministic, realistic, and messy in the ways docs/source-shapes.md lists."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from jnx.codesets.validators import USCC_PLACEHOLDER, check_id_number, check_uscc
from jnx.sandbox import case_data, inspection_data, licensing_data
from jnx.sandbox.data import PENALTY_LAW_2021, REGIONS, Generator, format_date

N = 2000


def test_same_seed_gives_the_same_records_and_another_seed_does_not() -> None:
    first, first_rev = case_data.penalties(11, 200)
    again, again_rev = case_data.penalties(11, 200)
    other, _ = case_data.penalties(12, 200)
    assert [r.fields for r in first] == [r.fields for r in again]
    assert [r.fields for r in first_rev] == [r.fields for r in again_rev]
    assert [r.fields for r in first] != [r.fields for r in other]
    assert licensing_data.licenses(11, 50)[0][7].fields == licensing_data.licenses(11, 50)[0][7].fields


def test_agencies_carry_valid_credit_codes_of_jining_regions() -> None:
    records, _ = case_data.penalties(1, N)
    codes = {r.fields["cfjgdm"] for r in records}
    assert all(check_uscc(c) for c in codes)
    assert {c[2:8] for c in codes} <= {region.code for region in REGIONS}
    assert {"370890", "370891", "370892"} & {c[2:8] for c in codes}


def test_party_identifiers_are_mostly_valid_with_a_small_spoiled_share() -> None:
    records, _ = case_data.penalties(1, N)
    codes = [str(r.fields["tyshxydm"]) for r in records if r.fields["tyshxydm"]]
    ids = [str(r.fields["zjhm"]) for r in records if r.fields["zjlx"] == "01"]
    bad_codes = [c for c in codes if c != USCC_PLACEHOLDER and not check_uscc(c)]
    bad_ids = [i for i in ids if not check_id_number(i.upper())]
    assert 0 < len(bad_codes) / len(codes) < 0.08
    assert len(bad_ids) / len(ids) < 0.04
    assert USCC_PLACEHOLDER in codes
    assert all(r.fields["gszch"] for r in records if r.fields["tyshxydm"] == USCC_PLACEHOLDER)


def test_dates_come_in_all_five_formats() -> None:
    records, _ = case_data.penalties(1, N)
    values = [r.fields["jdrq"] for r in records]
    patterns = {
        "iso": re.compile(r"^\d{4}-\d{2}-\d{2}$"), "slash": re.compile(r"^\d{4}/\d{1,2}/\d{1,2}$"),
        "compact": re.compile(r"^\d{8}$"), "chinese": re.compile(r"^\d{4}年\d{1,2}月\d{1,2}日$"),
    }
    found = {name for name, p in patterns.items() for v in values if isinstance(v, str) and p.match(v)}
    assert found == set(patterns)
    assert any(isinstance(v, int) for v in values)


def test_epoch_milliseconds_mean_midnight_in_beijing() -> None:
    assert format_date(dt.date(2021, 3, 5), 4) == 1614873600000


def test_amounts_use_separators_units_and_full_width_digits() -> None:
    records, _ = case_data.penalties(1, N)
    fines = [str(r.fields["fkje"]) for r in records if r.fields["fkje"]]
    assert any("," in f and f.endswith("元") for f in fines)
    assert any(f.endswith("万元") for f in fines)
    assert any(re.search("[０-９]", f) for f in fines)
    assert all(r.fields["fkje"] for r in records if "罚款" in str(r.fields["cflb"]) and "罚款" in re.split("[;；、,，]", str(r.fields["cflb"])))


def test_penalty_categories_follow_the_law_in_force_on_the_decision_date() -> None:
    records, _ = case_data.penalties(1, N)
    old_names = {"暂扣或者吊销许可证", "暂扣或者吊销执照"}
    new_names = {"通报批评", "降低资质等级", "吊销许可证件", "暂扣许可证件", "限制从业", "责令关闭", "限制开展生产经营活动"}
    for record in records:
        names = set(re.split("[;；、,，]", str(record.fields["cflb"])))
        day = dt.datetime.strptime(record.fields["created_at"][:10], "%Y-%m-%d").date()
        if day < PENALTY_LAW_2021:
            assert not names & new_names
        elif day > PENALTY_LAW_2021 + dt.timedelta(days=3):
            assert not names & old_names
    assert any(len(re.split("[;；、,，]", str(r.fields["cflb"]))) > 1 for r in records)


def test_unknown_codes_appear_but_rarely() -> None:
    records, _ = case_data.penalties(1, N)
    unknown = sum(1 for r in records if r.fields["dsrlx"] not in ("1", "2", "3", "9"))
    assert 0 < unknown < N * 0.03


def test_revisions_change_earlier_records_later() -> None:
    records, revisions = case_data.penalties(1, 400)
    by_key = {r.key: r for r in records}
    assert len(revisions) == 20
    for revision in revisions:
        original = by_key[revision.key]
        assert revision.updated > max(r.updated for r in records)
        assert revision.fields != original.fields


def test_some_names_need_gb18030_not_gbk() -> None:
    gen = Generator(5, "names")
    names = [gen.person_name() for _ in range(5000)]
    outside_gbk = [n for n in names if not _encodes(n, "gbk")]
    assert outside_gbk and all(_encodes(n, "gb18030") for n in names)


def test_inspection_results_belong_to_tasks_and_plans() -> None:
    feeds = inspection_data.inspections(1, 500)
    results, _ = feeds["results"]
    tasks = {t.key for t in feeds["tasks"][0]}
    assert len(results) == 500 and {r.fields["taskId"] for r in results} <= tasks


def _encodes(text: str, codec: str) -> bool:
    try:
        text.encode(codec)
    except UnicodeEncodeError:
        return False
    return True


def _day(value: object) -> dt.date:
    if isinstance(value, int):
        return dt.datetime.fromtimestamp(value / 1000, dt.timezone(dt.timedelta(hours=8))).date()
    text = str(value)
    for fmt in ("%Y-%m-%d", "%Y/%m/%d", "%Y%m%d", "%Y年%m月%d日"):
        try:
            return dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
    raise AssertionError(f"not a sandbox date: {value!r}")


def test_the_2026_release_reports_the_case_life_cycle_in_order() -> None:
    records, _ = case_data.penalties(seed=9, count=400)
    closed = reviewed = 0
    for r in records:
        f = r.fields
        decided, updated = _day(f["jdrq"]), dt.date.fromisoformat(str(f["updated_at"])[:10])
        assert type(f["lasj"]) is type(f["jdrq"])  # the record's date format
        assert _day(f["lasj"]) <= decided <= _day(f["sdrq"]) <= max(updated, decided)
        assert (f["jarq"] is not None) == (f["zxwbrq"] is not None) == (f["ajzt"] == "40")
        if f["jarq"] is not None:
            assert _day(f["sdrq"]) <= _day(f["zxwbrq"]) <= _day(f["jarq"]) <= max(updated, decided)
            closed += 1
        if f["cfjdsmc"] == "当场行政处罚决定书":
            assert _day(f["lasj"]) == decided == _day(f["sdrq"]) and f["sffzsh"] == "0"
        assert f["sffzsh"] in ("0", "1") and f["sfjttl"] in ("0", "1") and f["sftz"] in ("0", "1")
        if f["sffzsh"] == "0":
            assert f["sfjttl"] == f["sftz"] == "0"
        reviewed += f["sffzsh"] == "1"
        if any(c in case_data.GRAVE for c in str(f["cflb"]).replace("；", ";").replace("、", ";").replace("，", ";").replace(",", ";").split(";")):
            assert f["sffzsh"] == "1" or f["cfjdsmc"] == "当场行政处罚决定书"
    assert 0 < closed < len(records) and 0 < reviewed < len(records)


def test_the_2026_fields_leave_every_earlier_field_as_it_was(monkeypatch: pytest.MonkeyPatch) -> None:
    with_release, _ = case_data.penalties(seed=4, count=120)
    monkeypatch.setattr(case_data, "lifecycle_fields", lambda *args, **kwargs: {})
    without, _ = case_data.penalties(seed=4, count=120)
    new = {"lasj", "sdrq", "zxwbrq", "jarq", "sffzsh", "sfjttl", "sftz"}
    assert [{k: v for k, v in r.fields.items() if k not in new} for r in with_release] == [r.fields for r in without]


def test_the_2026_release_reports_when_a_coercive_act_was_made_public() -> None:
    records, _ = case_data.coercions(seed=9, count=300, penalty_keys=[])
    dated = [r for r in records if r.fields["gsrq"] is not None]
    assert 0.75 < len(dated) / len(records) < 0.95
    for r in dated:
        decided, updated = _day(r.fields["jdrq"]), dt.date.fromisoformat(str(r.fields["updated_at"])[:10])
        assert type(r.fields["gsrq"]) is type(r.fields["jdrq"]) and decided <= _day(r.fields["gsrq"]) <= max(decided, updated)
