"""The dictionary is checked whole on load; exports are loadable and docs/standard.md is current."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import xmlschema
import yaml
from lxml import etree
from typer.testing import CliRunner

from jnx.cli import app
from jnx.codesets import default_registry
from jnx.standard import DictionaryError, Use
from jnx.standard.dictionary import DATA_FILE, parse_dictionary
from jnx.standard.export import ExportFormat, export

DOC: dict[str, Any] = yaml.safe_load(DATA_FILE.read_text(encoding="utf-8"))
ROOT = Path(__file__).parents[2]


def broken(change: Any) -> str:
    doc = copy.deepcopy(DOC)
    change(doc)
    with pytest.raises(DictionaryError) as info:
        parse_dictionary(doc, default_registry())
    return str(info.value)


def test_the_shipped_dictionary_loads() -> None:
    dictionary = parse_dictionary(DOC, default_registry())
    assert set(dictionary.record_types) == {"agency", "officer", "license", "penalty", "coercive_measure", "coercive_enforcement", "inspection", "credit_license", "credit_penalty"}
    assert dictionary.element("CF_XDR_MC").derives_from == "party_name"


def test_an_unknown_code_set_is_refused() -> None:
    assert "unknown code set 'no_such_set'" in broken(lambda d: d["elements"][1].update(codeset="no_such_set"))


def test_a_duplicate_id_is_refused() -> None:
    assert "duplicate id JN-DE-0001" in broken(lambda d: d["elements"][1].update(id="JN-DE-0001"))


def test_an_element_used_but_not_defined_is_refused() -> None:
    message = broken(lambda d: d["record_types"][0]["elements"].append({"element": "ghost", "use": "optional"}))
    assert "element 'ghost' is used but not defined" in message


def test_a_condition_on_a_code_the_code_set_lacks_is_refused() -> None:
    message = broken(lambda d: d["groups"]["party"][2]["when"].update({"in": ["外星人"]}))
    assert "not codes of 'party_type'" in message


@pytest.mark.parametrize("fmt", ["xsd", "jsonschema", "markdown"])
def test_export_writes_to_stdout_or_a_file(fmt: str, tmp_path: Path) -> None:
    runner = CliRunner()
    result = runner.invoke(app, ["standard", "export", "--format", fmt])
    assert result.exit_code == 0 and result.stdout == export(ExportFormat(fmt))
    target = tmp_path / "out"
    assert runner.invoke(app, ["standard", "export", "-f", fmt, "-o", str(target)]).exit_code == 0
    assert target.read_text(encoding="utf-8") == result.stdout


def test_the_exported_xsd_loads_in_lxml_and_xmlschema(tmp_path: Path) -> None:
    path = tmp_path / "s.xsd"
    path.write_text(CliRunner().invoke(app, ["standard", "export", "--format", "xsd"]).stdout, encoding="utf-8")
    etree.XMLSchema(etree.parse(str(path)))
    xmlschema.XMLSchema10(str(path))


def test_elements_lists_the_dictionary_and_a_record_type() -> None:
    runner = CliRunner()
    everything = json.loads(runner.invoke(app, ["standard", "elements", "--json"]).stdout)
    assert len(everything["elements"]) == len(DOC["elements"])
    penalty = json.loads(runner.invoke(app, ["standard", "elements", "-t", "penalty", "--json"]).stdout)
    fine = next(row for row in penalty["elements"] if row["field"] == "fine_amount")
    assert fine["use"] == "conditional" and "罚款" in fine["rule"]
    assert "CF_XDR_MC" in runner.invoke(app, ["standard", "elements", "-t", "credit_penalty"]).stdout


def test_docs_standard_md_is_the_current_export() -> None:
    assert (ROOT / "docs" / "standard.md").read_text(encoding="utf-8") == export(ExportFormat.MARKDOWN)


def _credit_penalty_use(doc: dict[str, Any], field: str) -> dict[str, Any]:
    record_type = next(rt for rt in doc["record_types"] if rt["name"] == "credit_penalty")
    return next(use for use in record_type["elements"] if use.get("element") == field)


def test_the_disclosure_formats_mask_the_partys_id_number_and_forbid_the_representatives() -> None:
    dictionary = parse_dictionary(DOC, default_registry())
    for name, prefix in (("credit_license", "XK"), ("credit_penalty", "CF")):
        record_type = dictionary.record_type(name)
        party = record_type.use(f"{prefix}_XDR_ZJHM")
        assert party.id_number_when is None and party.masked_id_number_when is not None
        assert party.masked_id_number_when.field == f"{prefix}_XDR_ZJLX" and party.masked_id_number_when.values == ("身份证",)
        assert record_type.use(f"{prefix}_FR_ZJHM").use is Use.FORBIDDEN


ID_CARD = {"field": "CF_XDR_ZJLX", "in": ["身份证"]}


@pytest.mark.parametrize(
    "field, change, expected",
    [
        ("CF_XDR_LB", {"masked_id_number_when": ID_CARD}, "masked_id_number_when applies to string elements only"),
        ("CF_XDR_ZJHM", {"id_number_when": ID_CARD}, "either in clear (id_number_when) or masked (masked_id_number_when)"),
        ("CF_FR_ZJHM", {"forbidden_when": {"field": "CF_XDR_LB", "in": ["自然人"]}}, "a forbidden element is always absent; it takes no forbidden_when"),
        ("CF_XDR_ZJHM", {"masked_id_number_when": {"field": "XK_XDR_ZJLX", "in": ["身份证"]}}, "condition names 'XK_XDR_ZJLX', which this record type does not have"),
    ],
    ids=["masked_on_a_code", "clear_and_masked", "forbidden_with_a_condition", "masked_on_a_foreign_field"],
)
def test_a_broken_id_number_rule_is_refused(field: str, change: dict[str, Any], expected: str) -> None:
    assert expected in broken(lambda d: _credit_penalty_use(d, field).update(change))
