"""The publication policy as data: the documented default, validated whole, versions audited once and immutable."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine

from jnx.errors import ConfigError
from jnx.exchange.wiring import Exchange
from jnx.publicity.policy import DEFAULT_POLICY, install_default, load_policy, parse_policy
from jnx.publicity.rules import DEFAULT_PUBLICATION, ORDER_58, SimpleProcedurePublication, SubjectCategory
from jnx.security.audit_sql import SqlAuditStore
from jnx.settings import Settings
from jnx.store.db import upgrade


def test_the_default_file_is_the_documented_default() -> None:
    document = parse_policy(DEFAULT_POLICY, "default")
    assert document.display == ORDER_58 and document.publication == DEFAULT_PUBLICATION
    assert "58号" in DEFAULT_POLICY and "第五十一条" in DEFAULT_POLICY and "424号" in DEFAULT_POLICY


@pytest.mark.parametrize(("change", "says"), [
    ("excluded_penalty_categories: []", "unknown 处罚类别"),
    ("low_fine_thresholds_wan: {}", "6 places"),
    ("simple_procedure: published", "simple_procedure"),
])
def test_a_wrong_setting_is_refused_with_the_file_and_the_field(tmp_path: Path, change: str, says: str) -> None:
    wrong = {"excluded_penalty_categories: []": "excluded_penalty_categories: [训诫]",
             "low_fine_thresholds_wan: {}": "low_fine_thresholds_wan: {自然人: \"0.0000001\"}",
             "simple_procedure: published": "simple_procedure: sometimes"}[change]
    path = tmp_path / "policy" / "publicity.yaml"
    path.parent.mkdir()
    path.write_text(DEFAULT_POLICY.replace(change, wrong), encoding="utf-8")
    with pytest.raises(ConfigError, match=says) as refused:
        load_policy(tmp_path)
    assert str(path) in str(refused.value)


def exchange(home: Path) -> Exchange:
    url = f"sqlite:///{home / 'jnx.db'}"
    upgrade(url)
    return Exchange(settings=Settings(home=home), engine=create_engine(url), environment={})


def audited(ex: Exchange) -> list[Any]:
    return [e for e in SqlAuditStore(ex.engine).entries() if e.action == "publicity.policy"]


def test_the_installed_policy_drives_derivation_and_each_version_is_audited_once(tmp_path: Path) -> None:
    path, written = install_default(tmp_path)
    assert written and install_default(tmp_path) == (path, False)
    path.write_text(DEFAULT_POLICY.replace("simple_procedure: published", "simple_procedure: withheld")
                    .replace("low_fine_thresholds_wan: {}", 'low_fine_thresholds_wan: {自然人: "0.02"}'), encoding="utf-8")
    first = exchange(tmp_path)
    rules = first.deriver.rules
    assert rules.publication.simple_procedure is SimpleProcedurePublication.WITHHELD
    assert rules.publication.fine_threshold(SubjectCategory.NATURAL_PERSON) == parse_policy(path.read_text(), "x") \
        .publication.low_fine_thresholds_wan[SubjectCategory.NATURAL_PERSON]
    assert [e.details["version"] for e in audited(first)] == [1]
    exchange(tmp_path).deriver  # noqa: B018 — the same version again: not audited twice
    assert len(audited(first)) == 1


def test_a_used_version_changed_in_place_is_refused_until_its_version_is_raised(tmp_path: Path) -> None:
    path, _ = install_default(tmp_path)
    exchange(tmp_path).deriver  # noqa: B018
    path.write_text(DEFAULT_POLICY.replace("natural_persons: masked", "natural_persons: withheld"), encoding="utf-8")
    with pytest.raises(ConfigError, match="version 1 was changed after it was used") as refused:
        exchange(tmp_path).deriver  # noqa: B018
    assert refused.value.hint == "set version: 2 in the file: a policy version never changes"
    path.write_text(DEFAULT_POLICY.replace("natural_persons: masked", "natural_persons: withheld")
                    .replace("version: 1", "version: 2"), encoding="utf-8")
    again = exchange(tmp_path)
    assert again.deriver.rules.publication.natural_persons.value == "withheld"
    assert [e.details["version"] for e in audited(again)] == [1, 2]
