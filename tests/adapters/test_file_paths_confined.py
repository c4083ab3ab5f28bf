"""A files registration's ``pattern`` and ``done_folder`` stay inside its folder."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from jnx.adapters.config import FileDropConfig, FilePullSpec


@pytest.mark.parametrize("done", ["../outside", "/etc", "a/../../b", "~/x", "C:\\\\x", "."])
def test_a_done_folder_outside_the_folder_is_refused(done: str) -> None:
    with pytest.raises(ValidationError, match="done_folder"):
        FileDropConfig(folder="/srv/drop", done_folder=done)


@pytest.mark.parametrize("pattern", ["../*.csv", "/etc/*", "sub/../../*.csv", "**/*.csv"])
def test_a_pattern_reaching_outside_the_folder_is_refused(pattern: str) -> None:
    with pytest.raises(ValidationError, match="pattern"):
        FilePullSpec(record_type="penalty", key_field="id", pattern=pattern)


def test_paths_inside_the_folder_are_fine() -> None:
    assert FileDropConfig(folder="/srv/drop", done_folder="done/2026").done_folder == "done/2026"
    assert FilePullSpec(record_type="penalty", key_field="id", pattern="in/*.csv").pattern == "in/*.csv"
