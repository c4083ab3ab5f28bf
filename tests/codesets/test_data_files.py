"""The shipped code set files: all load, carry the names others code against, and never change once published."""

from __future__ import annotations

import pytest

from jnx.codesets.registry import DATA_DIR, CodeSetRegistry, default_registry

EXPECTED_NAMES = {
    "party_type",
    "id_type",
    "license_type",
    "license_status",
    "penalty_type",
    "coercive_measure_type",
    "coercive_enforcement_type",
    "enforcement_act_type",
    "case_source",
    "inspection_method",
    "inspection_result",
    "inspection_type",
    "region",
    "agency_nature",
    "enforcement_field",
    "officer_type",
}

PUBLISHED = {
    ("agency_nature", "1"): "76ecaab809be8d5a",
    ("case_source", "1"): "f365196b3b81ce43",
    ("coercive_enforcement_type", "2012"): "32152cd91d3c02df",
    ("coercive_measure_type", "2012"): "44ab105acae587ec",
    ("enforcement_act_type", "jnx-1"): "bad250040b5ea151",
    ("enforcement_field", "1"): "9f2ed2b93c10f5a4",
    ("id_type", "2019"): "1dfd9ed6f7fb1b6c",
    ("inspection_method", "2015"): "5c6d5c87e8d414a4",
    ("inspection_result", "zj-new"): "1f4eb40c3f5061ca",
    ("inspection_type", "1"): "6a90e137f444ad93",
    ("license_status", "2019"): "89b590966a9d96bf",
    ("license_type", "2004"): "449e2a7f788e44f6",
    ("officer_type", "1"): "ad600efcf81c3790",
    ("party_type", "2019"): "46ca5aebed977821",
    ("penalty_type", "2017"): "d9372792244ff875",
    ("penalty_type", "2021"): "b12c6b075052862e",
    ("region", "gbt2260-jining"): "7935b13bb8a84d02",
}
"""First 16 hex digits of each published version's fingerprint. A new version adds a line here;
an existing line never changes (docs/codesets.md, "Adding a version")."""


def test_every_data_file_loads_into_the_registry() -> None:
    registry = CodeSetRegistry.from_directory(DATA_DIR)
    assert set(registry.names()) == EXPECTED_NAMES
    assert len(list(DATA_DIR.glob("*.yaml"))) == len(EXPECTED_NAMES)


@pytest.mark.parametrize("name", sorted(EXPECTED_NAMES))
def test_every_code_set_says_where_it_comes_from(name: str) -> None:
    codeset = default_registry().get(name)
    assert "REFERENCE.md" in codeset.description or "《" in codeset.description
    assert codeset.title and codeset.title_en
    for version in codeset.versions:
        assert version.source, f"{name} {version.version} has no source"
        assert all(entry.label_en for entry in version.entries.values()), f"{name} {version.version}: an entry lacks label_en"


@pytest.mark.parametrize(("name", "version"), sorted(PUBLISHED))
def test_published_versions_never_change(name: str, version: str) -> None:
    fingerprint = default_registry().get(name).version(version).fingerprint()
    assert fingerprint.startswith(PUBLISHED[(name, version)]), (
        f"{name} version {version} changed; published versions are immutable: add a new version instead"
    )


def test_every_shipped_version_is_pinned() -> None:
    shipped = {(cs.name, v.version) for cs in map(default_registry().get, default_registry().names()) for v in cs.versions}
    assert shipped == set(PUBLISHED), "pin the fingerprint of a new version in PUBLISHED"
