"""``jnx codesets list|show|check``: text for people, --json for schedulers, exit 0 / 1 / 3."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from jnx.cli import app, main
from jnx.errors import CodeSetError

runner = CliRunner()


def run_main(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    """Run the console entry point as the shell would: exit code, stdout, stderr."""
    with pytest.raises(SystemExit) as exited:
        main(argv)
    out, err = capsys.readouterr()
    return int(exited.value.code or 0), out, err


# ---------------------------------------------------------------- list


def test_list_shows_code_sets_with_version_dates_and_validators() -> None:
    result = runner.invoke(app, ["codesets", "list"])
    assert result.exit_code == 0, result.output
    assert "penalty_type" in result.output and "处罚类别" in result.output
    assert "2021-07-15" in result.output and "2021-07-14" in result.output
    assert "uscc" in result.output.split("validators:")[1]


def test_list_json_is_one_object_with_every_code_set() -> None:
    result = runner.invoke(app, ["codesets", "list", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    penalty = next(cs for cs in data["codesets"] if cs["name"] == "penalty_type")
    assert [(v["version"], v["valid_from"], v["valid_to"]) for v in penalty["versions"]] == [
        ("2017", "1996-10-01", "2021-07-14"),
        ("2021", "2021-07-15", None),
    ]
    assert len(data["codesets"]) == 20
    assert {v["name"] for v in data["validators"]} == {"uscc", "id_number", "org_code", "amount_wan", "date"}


# ---------------------------------------------------------------- show


def test_show_gives_the_version_in_force_on_the_date() -> None:
    old = runner.invoke(app, ["codesets", "show", "penalty_type", "--on", "2020-05-01"])
    new = runner.invoke(app, ["codesets", "show", "penalty_type", "--on", "2022-05-01"])
    assert old.exit_code == new.exit_code == 0
    assert "version 2017" in old.output and "通报批评" not in old.output
    assert "version 2021" in new.output and "通报批评" in new.output


def test_show_json_marks_entries_not_in_force_on_the_date() -> None:
    result = runner.invoke(app, ["codesets", "show", "region", "--on", "2020-01-01", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["on"] == "2020-01-01" and data["version"]["version"] == "gbt2260-jining"
    entries = {e["code"]: e for e in data["entries"]}
    assert entries["370802"]["in_force"] is False and entries["370802"]["replaced_by"] == "370811"
    assert entries["370890"]["aliases"] == ["370871"] and entries["370890"]["attrs"]["kind"] == "functional_zone"


def test_show_of_a_validator_lists_its_rules() -> None:
    result = runner.invoke(app, ["codesets", "show", "uscc"])
    assert result.exit_code == 0
    assert "uscc.check_char" in result.output and "GB 32100" in result.output


def test_show_of_a_date_no_version_covers_exits_3_with_the_versions(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(["codesets", "show", "penalty_type", "--on", "1990-01-01"], capsys)
    assert code == 3
    assert "error: no version of code set 'penalty_type' is in force on 1990-01-01" in err
    assert "hint:" in err


def test_a_malformed_date_is_a_usage_error() -> None:
    result = runner.invoke(app, ["codesets", "show", "penalty_type", "--on", "2020/05/01"])
    assert result.exit_code == 2


# ---------------------------------------------------------------- check


@pytest.mark.parametrize(("on", "exit_code"), [("2020-05-01", 1), ("2022-05-01", 0)])
def test_public_criticism_fails_before_the_2021_law_and_passes_after(on: str, exit_code: int) -> None:
    result = runner.invoke(app, ["codesets", "check", "penalty_type", "通报批评", "--on", on])
    assert result.exit_code == exit_code, result.output
    if exit_code:
        assert result.output.startswith("invalid: ") and "[codeset.penalty_type.not_in_version]" in result.output


def test_a_valid_credit_code_passes() -> None:
    result = runner.invoke(app, ["codesets", "check", "uscc", "91370800MA3C00011N"])
    assert result.exit_code == 0
    assert result.output == "valid: 91370800MA3C00011N (uscc)\n"


@pytest.mark.parametrize(
    ("value", "line"),
    [
        ("91370800MA3C00011M", "invalid: wrong check character 'M' (expected 'N' for this code) [uscc.check_char]"),
        ("91370800MA3C0001N", "invalid: a credit code has 18 characters, this has 17 [uscc.length]"),
        ("91370800MA3C0O011N", "[uscc.charset]"),
    ],
    ids=["check-char", "length", "charset"],
)
def test_a_one_character_change_of_a_credit_code_fails_with_the_reason(value: str, line: str) -> None:
    result = runner.invoke(app, ["codesets", "check", "uscc", value])
    assert result.exit_code == 1
    assert line in result.output


def test_an_id_number_passes_and_is_shown_masked() -> None:
    result = runner.invoke(app, ["codesets", "check", "id_number", "370811199002150027"])
    assert result.exit_code == 0
    assert "370811199002150027" not in result.output
    assert "370811********0027" in result.output


@pytest.mark.parametrize(
    ("value", "rule"),
    [("370811199002150028", "id_number.check_digit"), ("37081119900215002", "id_number.length"), ("37081119900215002Y", "id_number.charset")],
)
def test_a_one_character_change_of_an_id_number_fails_with_the_reason(value: str, rule: str) -> None:
    result = runner.invoke(app, ["codesets", "check", "id_number", value, "--json"])
    assert result.exit_code == 1
    data = json.loads(result.output)
    assert (data["ok"], data["rule"]) == (False, rule)
    assert value not in result.output


@pytest.mark.parametrize("value", ["370811199002300027", "370811210002150021"])
def test_a_birth_date_never_appears_in_the_output(value: str) -> None:
    for extra in ([], ["--json"]):
        result = runner.invoke(app, ["codesets", "check", "id_number", value, *extra])
        assert result.exit_code == 1
        birth = value[6:14]
        assert birth not in result.output and f"{birth[:4]}-{birth[4:6]}-{birth[6:]}" not in result.output, result.output


def test_an_id_number_born_in_the_future_is_invalid_without_on() -> None:
    """Without --on the check day is today in Beijing, as the models judge it; with --on, that day."""
    result = runner.invoke(app, ["codesets", "check", "id_number", "370811210002150021", "--json"])
    assert result.exit_code == 1
    assert json.loads(result.output)["rule"] == "id_number.birth_date"
    assert runner.invoke(app, ["codesets", "check", "id_number", "370811210002150021", "--on", "2100-02-15"]).exit_code == 0


def test_a_code_set_without_on_is_still_judged_by_its_latest_version() -> None:
    data = json.loads(runner.invoke(app, ["codesets", "check", "penalty_type", "通报批评", "--json"]).output)
    assert data["on"] is None


def test_check_json_reports_warnings() -> None:
    result = runner.invoke(app, ["codesets", "check", "region", "370871", "--json"])
    assert result.exit_code == 0
    data = json.loads(result.output)
    assert data["ok"] is True and data["warnings"][0]["rule"] == "codeset.region.alias"


def test_an_unknown_name_raises_the_code_set_error() -> None:
    result = runner.invoke(app, ["codesets", "check", "credit_code", "x"])
    assert isinstance(result.exception, CodeSetError)


def test_an_unknown_name_exits_3_listing_the_known_names(capsys: pytest.CaptureFixture[str]) -> None:
    code, _out, err = run_main(["codesets", "check", "credit_code", "x"], capsys)
    assert code == 3
    assert err.startswith("error: unknown code set or validator 'credit_code'; known: ")
    assert "penalty_type" in err and "uscc" in err and "id_number" in err
    assert "Traceback" not in err


def test_an_unknown_name_with_json_prints_the_error_on_stdout(capsys: pytest.CaptureFixture[str]) -> None:
    code, out, _err = run_main(["codesets", "check", "credit_code", "x", "--json"], capsys)
    assert code == 3
    assert json.loads(out)["kind"] == "CodeSetError"
