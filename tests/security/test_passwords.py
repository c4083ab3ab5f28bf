"""Password rules and the Argon2id hasher (pure)."""

from __future__ import annotations

import datetime as dt

from jnx.security.passwords import Hasher, PasswordPolicy, character_classes, is_expired, rule_problems

POLICY = PasswordPolicy()


def test_a_password_of_eight_characters_from_three_classes_is_accepted() -> None:
    assert rule_problems("Abcdefg1", username="zhang.san", policy=POLICY) == []


def test_too_short_and_too_few_classes_are_each_named() -> None:
    problems = rule_problems("abc1", username="zhang.san", policy=POLICY)
    assert any("at least 8 characters" in p for p in problems)
    assert any("at least 3 of" in p for p in problems)


def test_two_classes_are_not_enough_by_default_but_are_when_the_setting_says_two() -> None:
    assert rule_problems("abcdefgh12", username="u1", policy=POLICY)
    assert rule_problems("abcdefgh12", username="u1", policy=PasswordPolicy(min_classes=2)) == []


def test_the_username_is_refused_in_any_case_or_reversed_or_inside() -> None:
    for password in ("Zhang.San1", "1naS.gnahZ", "Xzhang.san#9"):
        assert any("username" in p for p in rule_problems(password, username="zhang.san", policy=POLICY)), password


def test_chinese_and_symbols_count_as_the_other_class() -> None:
    assert character_classes("济宁Ab1") == {"other", "upper", "lower", "digit"}


def test_a_password_expires_after_ninety_days_and_never_set_counts_as_expired() -> None:
    set_at = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    assert not is_expired(set_at, set_at + dt.timedelta(days=89), POLICY)
    assert is_expired(set_at, set_at + dt.timedelta(days=90), POLICY)
    assert is_expired(None, set_at, POLICY)
    assert not is_expired(set_at, set_at + dt.timedelta(days=900), PasswordPolicy(max_age_days=0))


def test_hashes_are_argon2id_salted_and_verify_only_the_right_password() -> None:
    hasher = Hasher(time_cost=1, memory_kib=8)
    first, second = hasher.hash("Jining#2026a"), hasher.hash("Jining#2026a")
    assert first.startswith("$argon2id$") and first != second
    assert hasher.verify(first, "Jining#2026a")
    assert not hasher.verify(first, "Jining#2026b")
    assert not hasher.verify("not a hash", "Jining#2026a")
    assert not hasher.verify(None, "Jining#2026a")


def test_a_hash_of_a_lower_cost_is_marked_for_rehash() -> None:
    cheap = Hasher(time_cost=1, memory_kib=8).hash("Jining#2026a")
    assert Hasher(time_cost=2, memory_kib=8).needs_rehash(cheap)
    assert not Hasher(time_cost=1, memory_kib=8).needs_rehash(cheap)
