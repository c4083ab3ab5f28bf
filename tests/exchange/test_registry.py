"""Registration files: checked offline, stored, listed, enabled and disabled."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy.engine import Engine
from sqlalchemy.orm import Session

from jnx.errors import ConfigError, NotFoundError
from jnx.exchange.registry import (
    RegisterAction,
    SystemRegistry,
    load_registration,
    parse_registration,
)

CASE_HANDLING: dict[str, Any] = {
    "format": 1,
    "id": "jn-case-handling",
    "name": "济宁市行政执法网上办案系统",
    "department": "济宁市司法局",
    "department_credit_code": "11370800004180002M",
    "region": "370800",
    "kind": "case_handling",
    "adapter": {
        "protocol": "rest",
        "lines": [{"url": "http://127.0.0.1:18082", "name": "primary"}, {"url": "http://127.0.0.1:18083", "name": "backup"}],
        "auth": {"kind": "hmac", "app_key": "jnx-demo", "secret": {"env": "JNX_CASE_SECRET"}},
        "pull": [
            {
                "record_type": "penalty",
                "path": "/api/v1/penalties",
                "records_path": "data.records",
                "key_field": "ajbh",
                "updated_field": "updated_at",
                "next_cursor_path": "data.next_cursor",
            }
        ],
    },
    "mappings": {"penalty": "case-handling-penalty@1"},
    "schedule": "*/15 * * * *",
}


def _doc(**changes: Any) -> dict[str, Any]:
    doc = copy.deepcopy(CASE_HANDLING)
    doc.update(changes)
    return doc


class _Catalog:
    def __init__(self, *refs: str) -> None:
        self._refs = set(refs)

    def has(self, name: str, version: str) -> bool:
        return f"{name}@{version}" in self._refs


def test_a_complete_registration_is_accepted() -> None:
    registration = parse_registration(_doc(), "case.yaml", _Catalog("case-handling-penalty@1"))
    assert registration.table_for("penalty") == ("case-handling-penalty", "1")
    assert registration.adapter.protocol == "rest"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"department_credit_code": "11370800004180002N"}, "department_credit_code"),
        ({"region": "110101"}, "region"),
        ({"schedule": "every quarter hour"}, "schedule"),
        ({"id": "Bad Id!"}, "id"),
        ({"mappings": {}}, "no mapping table"),
        ({"mappings": {"penalty": "case-handling-penalty"}}, "NAME@VERSION"),
    ],
)
def test_offline_checks_name_the_field(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse_registration(_doc(**changes), "case.yaml")
    assert expected in str(caught.value)
    assert "case.yaml" in str(caught.value)


def test_plaintext_secret_is_refused_with_how_to_reference_it() -> None:
    doc = _doc()
    doc["adapter"]["auth"]["secret"] = "s3cr3t-value"
    with pytest.raises(ConfigError) as caught:
        parse_registration(doc, "case.yaml")
    assert "adapter.auth.secret" in str(caught.value)
    assert "s3cr3t-value" not in str(caught.value)
    assert "{env:" in (caught.value.hint or "")


def test_a_missing_mapping_table_is_reported() -> None:
    with pytest.raises(ConfigError, match="case-handling-penalty@1"):
        parse_registration(_doc(), "case.yaml", _Catalog("case-handling-penalty@2"))


def test_unreadable_yaml_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text("id: [unclosed\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_registration(path)
    path.write_bytes("id: 济宁".encode("gb18030"))
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_registration(path)


@pytest.mark.parametrize(("text", "says", "line"), [
    ("id: x\n  name: [\n", "2:7: not valid YAML: mapping values are not allowed here", 2),
    ("id: x\nname: [a, b\nregion: '1'\n",
     "3:7: not valid YAML: expected ',' or ']', but got ':' (while parsing a flow sequence that starts at line 2, column 7)", 3),
    ('id: x\nname: "unclosed\n',
     "3:1: not valid YAML: found unexpected end of stream (while scanning a quoted scalar that starts at line 2, column 7)", 3),
    ("id: x\n\tname: a\n", "2:1: not valid YAML: a tab character; YAML is indented with spaces, never tabs", 2),
], ids=["mapping value", "unclosed list", "unclosed quote", "tab"])
def test_broken_yaml_is_one_line_with_file_line_column_and_a_hint(tmp_path: Path, text: str, says: str, line: int) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_registration(path)
    assert str(caught.value) == f"{path}:{says}"
    assert caught.value.hint == f"fix the YAML at {path}:{line}; see docs/registration.md"


def test_yaml_nested_beyond_reason_is_refused_not_a_recursion_error(tmp_path: Path) -> None:
    path = tmp_path / "deep.yaml"
    path.write_text("id: " + "[" * 5000 + "]" * 5000, encoding="utf-8")
    with pytest.raises(ConfigError, match="nested too deeply"):
        load_registration(path)


def test_broken_toml_names_its_line_in_the_hint(tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('id = "x"\nname\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid TOML") as caught:
        load_registration(path)
    assert caught.value.hint == f"fix the TOML at {path}:2; see docs/registration.md"


def test_a_missing_file_says_so_and_where_the_examples_are(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_registration(tmp_path / "nowhere.yaml")
    assert str(caught.value) == f"no such file: {tmp_path / 'nowhere.yaml'}"
    assert caught.value.hint == "give the path of a registration file, see examples/systems/"


def test_field_problems_name_their_line_and_the_file_keys_without_pydantic_words(tmp_path: Path) -> None:
    doc = _doc(department_credit_code="11370800004180002N", mappings={"penalty": "case-handling-penalty"})
    doc["adapter"]["page_size"] = "lots"
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(doc, allow_unicode=True, sort_keys=False), encoding="utf-8")
    lines = path.read_text(encoding="utf-8").splitlines()

    def line_of(start: str) -> int:
        return next(n for n, text in enumerate(lines, start=1) if text.startswith(start))

    with pytest.raises(ConfigError) as caught:
        load_registration(path)
    problems = str(caught.value).splitlines()
    assert problems[0].startswith(f"{path}:{line_of('department_credit_code:')}: department_credit_code: wrong check character")
    assert f"{path}:{line_of('  page_size:')}: adapter.page_size: Input should be a valid integer" in problems[1]
    assert problems[2] == f"{path}:{line_of('mappings:')}: mappings: penalty: 'case-handling-penalty' is not NAME@VERSION"
    assert "Value error" not in str(caught.value) and "adapter.rest" not in str(caught.value)


def test_register_is_idempotent_and_updates(migrated_engine: Engine, tmp_path: Path) -> None:
    path = tmp_path / "case.yaml"
    path.write_text(yaml.safe_dump(_doc(), allow_unicode=True), encoding="utf-8")
    registry = SystemRegistry()
    with Session(migrated_engine) as session, session.begin():
        system, action = registry.register(session, load_registration(path))
        assert action is RegisterAction.CREATED
        assert system.summary()["lines"] == ["http://127.0.0.1:18082", "http://127.0.0.1:18083"]
    with Session(migrated_engine) as session, session.begin():
        _, action = registry.register(session, load_registration(path))
        assert action is RegisterAction.UNCHANGED
    path.write_text(yaml.safe_dump(_doc(schedule="0 * * * *"), allow_unicode=True), encoding="utf-8")
    with Session(migrated_engine) as session, session.begin():
        system, action = registry.register(session, load_registration(path))
        assert action is RegisterAction.UPDATED
        assert system.schedule == "0 * * * *"
        assert [s.id for s in registry.list(session)] == ["jn-case-handling"]


def test_disable_and_enable(migrated_engine: Engine) -> None:
    registry = SystemRegistry()
    with Session(migrated_engine) as session, session.begin():
        registry.register(session, parse_registration(_doc(), "case.yaml"))
        assert registry.set_enabled(session, "jn-case-handling", False).enabled is False
        assert registry.list(session, enabled_only=True) == []
        assert registry.set_enabled(session, "jn-case-handling", True).enabled is True


def test_unknown_system_lists_the_known_ones(migrated_engine: Engine) -> None:
    registry = SystemRegistry()
    with Session(migrated_engine) as session, session.begin():
        registry.register(session, parse_registration(_doc(), "case.yaml"))
        with pytest.raises(NotFoundError, match="jn-case-handling"):
            registry.get(session, "nope")


def test_hostile_and_odd_files_are_clear_errors(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.yaml"
    bomb.write_text('a: &a ["x","x","x","x","x","x","x","x","x"]\nb: &b [*a,*a,*a,*a,*a,*a,*a,*a,*a]\n'
                    'c: &c [*b,*b,*b,*b,*b,*b,*b,*b,*b]\nd: [*c,*c,*c,*c,*c,*c,*c,*c,*c]\n', encoding="utf-8")
    with pytest.raises(ConfigError, match="aliases"):
        load_registration(bomb)
    with pytest.raises(ConfigError, match="folder"):
        load_registration(tmp_path)
    with pytest.raises(ConfigError, match="larger than"):
        load_registration(Path("/dev/zero"))


def test_a_toml_registration_is_read_like_yaml(tmp_path: Path) -> None:
    path = tmp_path / "case.toml"
    adapter = CASE_HANDLING["adapter"]
    pull = adapter["pull"][0]
    path.write_text(
        f"""format = 1
id = "jn-case-handling"
name = "济宁市行政执法网上办案系统"
department = "济宁市司法局"
department_credit_code = "11370800004180002M"
region = "370800"
kind = "case_handling"
schedule = "*/15 * * * *"
[mappings]
penalty = "case-handling-penalty@1"
[adapter]
protocol = "rest"
lines = [{{url = "http://127.0.0.1:18082"}}]
[adapter.auth]
kind = "hmac"
app_key = "jnx-demo"
secret = {{env = "JNX_CASE_SECRET"}}
[[adapter.pull]]
record_type = "penalty"
path = "{pull['path']}"
records_path = "{pull['records_path']}"
key_field = "{pull['key_field']}"
next_cursor_path = "{pull['next_cursor_path']}"
""",
        encoding="utf-8",
    )
    assert load_registration(path).adapter.protocol == "rest"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"schedule": "* * * * * * *"}, "5 fields"),
        ({"region": "370802"}, "370811"),  # 市中区, abolished in 2013: not a region for a new system
    ],
)
def test_more_offline_checks(changes: dict[str, Any], expected: str) -> None:
    with pytest.raises(ConfigError, match=expected):
        parse_registration(_doc(**changes), "case.yaml")


def test_line_names_must_be_unique() -> None:
    doc = _doc()
    doc["adapter"]["lines"][1]["name"] = "primary"
    with pytest.raises(ConfigError, match="used twice"):
        parse_registration(doc, "case.yaml")
