"""Published versions are immutable: edited in place is refused, a new version is published beside
the old one, and the same content again is a no-op."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from jnx.mappings.errors import (
    MappingTableError,
    PublishedVersionError,
    UnknownTableError,
)
from jnx.mappings.registry import SHIPPED_DIR, TableRegistry, parse_ref

PENALTY_V1 = SHIPPED_DIR / "case_handling.penalty" / "1.yaml"


@pytest.fixture
def registry(tmp_path: Path, dictionary, codesets) -> TableRegistry:  # type: ignore[no-untyped-def]
    return TableRegistry([SHIPPED_DIR, tmp_path / "mappings"], dictionary, codesets, publish_to=tmp_path / "mappings")


def test_every_shipped_table_loads_and_matches_its_published_hash(registry: TableRegistry) -> None:
    entries = registry.entries()
    assert {e.ref for e in entries} >= {"case_handling.penalty@1", "case_handling.penalty@2", "credit.penalty@1",
                                        "credit.license@1", "licensing.license@1", "double_random.inspection@1",
                                        "case_handling.coercive_measure@1", "case_handling.coercive_enforcement@1"}
    for entry in entries:
        assert registry.load_entry(entry).content_hash == entry.recorded_hash


def test_the_latest_version_is_the_default_and_versions_coexist(registry: TableRegistry) -> None:
    assert registry.load("case_handling.penalty").version == 4
    assert registry.compiled("case_handling.penalty", 1).ref.version == 1
    assert registry.compiled("case_handling.penalty", 1) is registry.compiled("case_handling.penalty", 1)


def test_unknown_tables_and_versions_list_what_exists(registry: TableRegistry) -> None:
    with pytest.raises(UnknownTableError, match="known: .*case_handling.penalty"):
        registry.load("case_handling.penalties")
    with pytest.raises(UnknownTableError, match="versions: 1, 2") as missing:
        registry.load("case_handling.penalty", 7)
    assert missing.value.hint == ("use case_handling.penalty@1, case_handling.penalty@2, case_handling.penalty@3 or case_handling.penalty@4; "
                                  "`jnx mappings list` shows every table and its versions")
    with pytest.raises(UnknownTableError, match="versions: 1$") as missing:
        registry.load("licensing.license", 2)
    assert missing.value.hint is not None and missing.value.hint.startswith("use licensing.license@1; ")
    with pytest.raises(UnknownTableError) as malformed:
        parse_ref("case_handling.penalty@one")
    assert "jnx mappings list" in (malformed.value.hint or "")


def test_publishing_changed_content_under_a_published_version_is_refused(registry: TableRegistry, tmp_path: Path) -> None:
    edited = tmp_path / "edited.yaml"
    edited.write_text(PENALTY_V1.read_text(encoding="utf-8").replace("do: [trim]}", "do: [clean]}", 1), encoding="utf-8")
    with pytest.raises(PublishedVersionError) as error:
        registry.publish(edited)
    assert "case_handling.penalty@1 is already published with other content" in str(error.value)
    assert error.value.hint == "set version: 5 in the file and publish it as a new version"


def test_publishing_it_as_a_new_version_works_and_the_old_one_stays(registry: TableRegistry, tmp_path: Path) -> None:
    new = tmp_path / "v5.yaml"
    new.write_text(PENALTY_V1.read_text(encoding="utf-8").replace("version: 1", "version: 5"), encoding="utf-8")
    outcome = registry.publish(new)
    assert outcome.status == "published"
    assert outcome.path == tmp_path / "mappings" / "case_handling.penalty" / "5.yaml"
    assert registry.load("case_handling.penalty").version == 5
    assert registry.load("case_handling.penalty", 1).version == 1
    assert registry.publish(new).status == "unchanged"
    assert registry.publish(PENALTY_V1).status == "unchanged"


def test_a_published_file_edited_in_place_is_refused_on_load(registry: TableRegistry, tmp_path: Path) -> None:
    new = tmp_path / "v5.yaml"
    new.write_text(PENALTY_V1.read_text(encoding="utf-8").replace("version: 1", "version: 5"), encoding="utf-8")
    published = registry.publish(new).path
    published.write_text(published.read_text(encoding="utf-8").replace("do: [trim]}", "do: [clean]}", 1), encoding="utf-8")
    with pytest.raises(MappingTableError, match="was changed after it was published"):
        registry.load("case_handling.penalty", 5)


def test_a_comment_or_layout_change_is_not_a_content_change(registry: TableRegistry, tmp_path: Path) -> None:
    copy = tmp_path / "copy.yaml"
    copy.write_text("# reformatted\n" + PENALTY_V1.read_text(encoding="utf-8"), encoding="utf-8")
    assert registry.publish(copy).status == "unchanged"


def test_a_table_file_that_is_not_utf8_is_refused(registry: TableRegistry, tmp_path: Path) -> None:
    bad = tmp_path / "gbk.yaml"
    bad.write_bytes("name: 处罚\n".encode("gb18030"))
    with pytest.raises(MappingTableError, match="not UTF-8"):
        registry.publish(bad)


def test_an_unpublished_file_in_a_table_folder_is_reported(registry: TableRegistry, tmp_path: Path) -> None:
    folder = tmp_path / "mappings" / "case_handling.penalty"
    folder.mkdir(parents=True)
    shutil.copy(PENALTY_V1, folder / "1.yaml")  # shadowed by the shipped one: shipped folder comes first
    stray = tmp_path / "mappings" / "licensing.license"
    stray.mkdir()
    (stray / "9.yaml").write_text((SHIPPED_DIR / "licensing.license" / "1.yaml").read_text(encoding="utf-8"), encoding="utf-8")
    with pytest.raises(MappingTableError) as error:
        registry.load("licensing.license", 9)
    reasons = " ".join(str(p) for p in error.value.problems)
    assert "the file says licensing.license@1" in reasons and "not in published.lock" in reasons
