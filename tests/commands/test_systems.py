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


def test_a_missing_registration_file_says_to_check_the_path(jnx: Jnx, db: str, tmp_path: Path) -> None:
    outcome = jnx("systems", "register", str(tmp_path / "nowhere.yaml"), "--json")
    assert_error(outcome, 3, says="No such file", hint="check the path")
    assert outcome.json()["hint"] == "check the path: there is no file there"


def test_a_plaintext_secret_is_refused_as_docs_registration_shows(jnx: Jnx, db: str, tmp_path: Path) -> None:
    path = _edited(tmp_path, "secret: {env: JNX_SANDBOX_CASE_SECRET}", "secret: sandbox-case-secret")
    outcome = jnx("systems", "register", str(path))
    assert outcome.err == (f"error: {path}: plaintext secret at adapter.auth.secret\n"
                           "hint: write secrets as references, e.g. `password: {env: JNX_SECRET_NAME}`, never as values\n")
    assert outcome.code == 3 and "sandbox-case-secret" not in outcome.err


def test_a_mapping_without_version_is_refused(jnx: Jnx, db: str, tmp_path: Path) -> None:
    path = _edited(tmp_path, "penalty: case_handling.penalty@1", "penalty: case_handling.penalty")
    outcome = jnx("systems", "register", str(path))
    assert outcome.code == 3 and "Traceback" not in outcome.err
    assert "'case_handling.penalty' is not NAME@VERSION" in outcome.err and "hint: " in outcome.err


def test_a_mapping_version_not_published_names_the_list_command(jnx: Jnx, db: str, tmp_path: Path) -> None:
    path = _edited(tmp_path, "penalty: case_handling.penalty@1", "penalty: case_handling.penalty@9")
    assert_error(jnx("systems", "register", str(path)), 3, says="not found: case_handling.penalty@9", hint="jnx mappings list")


def test_unknown_system_ids(jnx: Jnx, db: str) -> None:
    for command in (["show"], ["enable"], ["disable"], ["check"]):
        assert_error(jnx("systems", *command, "jn-typo"), 3, says="no system 'jn-typo'", hint="jnx systems register")
    assert_error(jnx("run", "jn-typo", "--json"), 3, says="no system 'jn-typo'")
