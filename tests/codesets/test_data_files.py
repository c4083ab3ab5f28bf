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
    "decision_change_type",
    "penalty_procedure",
    "penalty_sector",
    "case_status",
}

PUBLISHED = {
    ("agency_nature", "1"): "5aed43b5108d0c14",
    ("case_status", "jnx-1"): "0fb6c105778d30c4",
    ("case_source", "1"): "542ecc6d32565a4f",
    ("coercive_enforcement_type", "2012"): "7f312c0ed8f342fd",
    ("coercive_measure_type", "2012"): "3bd5a18b901cf838",
    ("enforcement_act_type", "jnx-1"): "ad290e37280d65c7",
    ("enforcement_field", "1"): "34971f688e663524",
    ("id_type", "2019"): "22cc097adce54e88",
    ("inspection_method", "2015"): "891de996adef5785",
    ("inspection_result", "zj-new"): "dd278a7c7ab0f713",
    ("inspection_type", "1"): "3660521ecfa27fa3",
    ("license_status", "2019"): "a93905e3bd3a7500",
    ("license_type", "2004"): "0829447cc2e5ddbc",
    ("officer_type", "1"): "9ef2c8fc0ec09b1a",
    ("party_type", "2019"): "7813788693c33198",
    ("penalty_type", "2017"): "bec7a6505ddb161f",
    ("penalty_type", "2021"): "88aaf52f69b7a710",
    ("region", "gbt2260-jining"): "cf0cf803bc8a42b4",
    ("decision_change_type", "2021"): "b89823be6116b77b",
    ("penalty_procedure", "2021"): "3fb577a889eedceb",
    ("penalty_sector", "1"): "28792fd42b5db54c",
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
