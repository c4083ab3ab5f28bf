"""Loading is checking: every problem of a table comes back with file, line and reason."""

from __future__ import annotations

import pytest

from jnx.mappings.errors import MappingTableError
from tests.mappings.conftest import HEADER


def problems(load, fields: str, header: str = HEADER) -> list[str]:  # type: ignore[no-untyped-def]
    with pytest.raises(MappingTableError) as error:
        load(fields, header)
    return [str(p) for p in error.value.problems]


def test_a_typo_in_a_transform_name_names_the_line_and_the_known_transforms(load) -> None:  # type: ignore[no-untyped-def]
    found = problems(load, """\
        party_name: {from: dsrmc, do: [clean]}
        case_number:
          from: ajbh
          do: [trimm]
        """)
    assert len(found) == 1
    assert found[0].startswith("t.yaml:14: unknown transform 'trimm'; known: ")
    assert "trim" in found[0] and "code" in found[0]


def test_an_unknown_code_set_in_the_header_fails_with_its_line(load) -> None:  # type: ignore[no-untyped-def]
    header = HEADER.replace("region: gbt2260-jining", "regions: x")
    found = problems(load, "party_name: {from: dsrmc}\n", header)
    assert found[0].startswith("t.yaml:8: unknown code set 'regions'; known: ")


def test_a_code_set_used_but_not_pinned_is_refused(load) -> None:  # type: ignore[no-untyped-def]
    found = problems(load, "party_id_type: {from: x, do: [{code: {set: id_type}}]}\n")
    assert found == ["t.yaml:11: code: code set 'id_type' is used but not pinned: add it under codesets: in the header"]


def test_a_translated_to_code_outside_the_code_set_names_the_line_of_that_code(load) -> None:  # type: ignore[no-untyped-def]
    found = problems(load, """\
        party_type:
          from: dsrlx
          do:
            - code:
                set: party_type
                map:
                  "1": 自然人
                  "2": 法人
        """)
    assert found == ["t.yaml:18: code: '法人' is not a code of party_type version 2019"]


def test_unknown_target_fields_and_field_keys_are_listed_together(load) -> None:  # type: ignore[no-untyped-def]
    found = problems(load, """\
        party_nme: {from: dsrmc}
        case_number: {from: ajbh, dox: [trim]}
        """)
    assert found[0].startswith("t.yaml:11: unknown field 'party_nme' of record type penalty")
    assert found[1].startswith("t.yaml:12: unknown case_number field key 'dox'")


def test_parameters_are_checked(load) -> None:  # type: ignore[no-untyped-def]
    found = problems(load, """\
        decision_date: {from: jdrq, do: [{date: {formats: [DD.MM.YYYY]}}]}
        fine_amount: {from: fkje, do: [{amount: {unit: 元, scale: 2}}]}
        """)
    assert "t.yaml:11: date: formats unknown 'DD.MM.YYYY'" in found[0]
    assert found[1].startswith("t.yaml:12: amount: unknown parameter 'scale'")


def test_shapes_are_checked(load) -> None:  # type: ignore[no-untyped-def]
    found = problems(load, """\
        case_number: {from: [a, b], do: [trim]}
        party_name: {from: a, do: [split]}
        penalty_types: {from: a, do: [{join: ";"}]}
        """)
    assert "combine them first (concat or coalesce)" in found[0]
    assert "party_name: holds one value; join the split values" in found[1]
    assert "join needs several values" in found[2]


def test_conditions_refer_to_fields_above(load) -> None:  # type: ignore[no-untyped-def]
    found = problems(load, """\
        fine_amount: {from: fkje, when: {field: penalty_types, contains: 罚款}}
        penalty_types: {from: cflb, do: [split]}
        """)
    assert "must be a field defined above this one" in found[0]


def test_unknown_settings_and_bad_header_values(load) -> None:  # type: ignore[no-untyped-def]
    header = HEADER.replace("version: 1", "version: v1").replace("direction: inbound", "direction: sideways")
    found = problems(load, "data_source_unit: {setting: department}\n", header)
    assert any("version: must be a whole number" in p for p in found)
    assert any("direction: 'sideways' is not one of inbound, outbound" in p for p in found)
    assert any("unknown setting 'department'" in p for p in found)


@pytest.mark.parametrize(
    ("text", "reason"),
    [("format: 1\na: &x 1\nb: *x\n", "t.yaml:3: anchors and aliases"),
     ("format: 1\na: !!python/object:os.system 1\n", "t.yaml:2: YAML tags"),
     ("format: 1\nname: a\nname: b\n", "t.yaml:3: key 'name' appears twice"),
     ("format: 1\nfields: [\n", "t.yaml:3: not valid YAML"),
     ("format: 2\n", "t.yaml:1: format: must be 1")],
)
def test_unsafe_or_broken_yaml_is_refused_with_its_line(dictionary, codesets, text: str, reason: str) -> None:  # type: ignore[no-untyped-def]
    from jnx.mappings.table import parse_table

    with pytest.raises(MappingTableError) as error:
        parse_table(text, "t.yaml", dictionary, codesets)
    assert str(error.value.problems[0]).startswith(reason)


def test_codes_keep_leading_zeros_and_no_becomes_no_boolean(load) -> None:  # type: ignore[no-untyped-def]
    table = load("""\
        party_type: {from: dsrlx, do: [{code: {set: party_type, map: {01: 自然人, NO: 法人及非法人组织}}}]}
        """)
    assert dict(table.fields[0].steps[0].params["map"]) == {"01": "自然人", "NO": "法人及非法人组织"}
