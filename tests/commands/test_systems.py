"""``jnx systems register`` on the files a department gets wrong: one error (or one line per
problem) with its place and what to do, exit 3, never a traceback."""

from __future__ import annotations

from pathlib import Path

from tests.commands.conftest import Jnx, assert_error

EXAMPLES = Path(__file__).parents[2] / "examples" / "systems"


def _edited(tmp_path: Path, old: str, new: str) -> Path:
    text = (EXAMPLES / "case-handling.yaml").read_text(encoding="utf-8")
    assert old in text
    path = tmp_path / "edited.yaml"
    path.write_text(text.replace(old, new), encoding="utf-8")
    return path


def test_a_missing_registration_file_says_where_the_examples_are(jnx: Jnx, db: str, tmp_path: Path) -> None:
    outcome = jnx("systems", "register", str(tmp_path / "nowhere.yaml"), "--json")
    assert_error(outcome, 3, says=f"no such file: {tmp_path / 'nowhere.yaml'}", hint="examples/systems/")
    assert outcome.json()["hint"] == "give the path of a registration file, see examples/systems/"


def test_broken_yaml_is_one_line_with_its_place_and_a_hint(jnx: Jnx, db: str, tmp_path: Path) -> None:
    path = _edited(tmp_path, "  page_size: 1000", "  page_size: [1000")
    line = path.read_text(encoding="utf-8").splitlines().index("  page_size: [1000") + 1
    outcome = jnx("systems", "register", str(path))
    assert outcome.code == 3
    assert outcome.err == (f"error: {path}:{line + 1}:7: not valid YAML: expected ',' or ']', but got ':' "
                           f"(while parsing a flow sequence that starts at line {line}, column 14)\n"
                           f"hint: fix the YAML at {path}:{line + 1}; see docs/registration.md\n")


def test_a_plaintext_secret_is_refused_as_docs_registration_shows(jnx: Jnx, db: str, tmp_path: Path) -> None:
    path = _edited(tmp_path, "secret: {env: JNX_SANDBOX_CASE_SECRET}", "secret: sandbox-case-secret")
    outcome = jnx("systems", "register", str(path))
    assert outcome.err == (f"error: {path}: plaintext secret at adapter.auth.secret\n"
                           "hint: write secrets as references, e.g. `password: {env: JNX_SECRET_NAME}`, never as values\n")
    assert outcome.code == 3 and "sandbox-case-secret" not in outcome.err


def test_a_mapping_without_version_is_refused_at_its_line_without_pydantic_words(jnx: Jnx, db: str, tmp_path: Path) -> None:
    path = _edited(tmp_path, "penalty: case_handling.penalty@4", "penalty: case_handling.penalty")
    line = path.read_text(encoding="utf-8").splitlines().index("mappings:") + 1
    outcome = jnx("systems", "register", str(path))
    assert outcome.code == 3
    assert outcome.err == (f"error: {path}:{line}: mappings: penalty: 'case_handling.penalty' is not NAME@VERSION\n"
                           "hint: fix the fields above; docs/registration.md has a full example per kind\n")


def test_a_mapping_version_not_published_names_the_list_command(jnx: Jnx, db: str, tmp_path: Path) -> None:
    path = _edited(tmp_path, "penalty: case_handling.penalty@4", "penalty: case_handling.penalty@9")
    assert_error(jnx("systems", "register", str(path)), 3, says="not found: case_handling.penalty@9", hint="jnx mappings list")


def test_unknown_system_ids(jnx: Jnx, db: str) -> None:
    for command in (["show"], ["enable"], ["disable"], ["check"]):
        assert_error(jnx("systems", *command, "jn-typo"), 3, says="no system 'jn-typo'", hint="jnx systems register")
    assert_error(jnx("run", "jn-typo", "--json"), 3, says="no system 'jn-typo'")
