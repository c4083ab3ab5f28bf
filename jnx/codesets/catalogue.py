"""What the command line (and later the web console) shows of the code sets: plain, JSON-ready dicts.

``catalogue()`` lists every code set with its versions and every validator; ``describe(name, on)``
gives one code set's version in force and its entries (or a validator's rules); ``judge(name,
value, on)`` runs a named check and reports the verdict. Values are never echoed here: the caller
decides what of the value it may show (an ID number is personal data).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from jnx.codesets.checks import VALIDATORS, Validator, check, named_check
from jnx.codesets.registry import (
    CodeEntry,
    CodeSet,
    CodeSetRegistry,
    CodeSetVersion,
    default_registry,
)


def _version(version: CodeSetVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "valid_from": version.valid_from,
        "valid_to": version.valid_to,
        "source": version.source,
        "entries": len(version.entries),
    }


def _entry(entry: CodeEntry, on: dt.date | None) -> dict[str, Any]:
    return {
        "code": entry.code,
        "label": entry.label,
        "label_en": entry.label_en,
        "match": entry.match,
        "valid_from": entry.valid_from,
        "valid_to": entry.valid_to,
        "in_force": None if on is None else entry.in_force(on),
        "replaced_by": entry.replaced_by,
        "aliases": list(entry.aliases),
        "attrs": dict(entry.attrs),
    }


def _validator(validator: Validator) -> dict[str, Any]:
    return {
        "kind": "validator",
        "name": validator.name,
        "title": validator.title,
        "title_en": validator.title_en,
        "description": validator.description,
        "rules": list(validator.rules),
    }


def _codeset(codeset: CodeSet) -> dict[str, Any]:
    return {
        "kind": "codeset",
        "name": codeset.name,
        "title": codeset.title,
        "title_en": codeset.title_en,
        "description": codeset.description,
    }


def catalogue(registry: CodeSetRegistry | None = None) -> dict[str, Any]:
    """Every code set (name, titles, versions with dates) and every validator."""
    registry = registry or default_registry()
    return {
        "codesets": [
            {**_codeset(cs), "versions": [_version(v) for v in cs.versions]}
            for cs in (registry.get(name) for name in registry.names())
        ],
        "validators": [_validator(v) for v in VALIDATORS.values()],
    }


def describe(name: str, on: dt.date | None = None, registry: CodeSetRegistry | None = None) -> dict[str, Any]:
    """A code set's version in force on ``on`` (default: the latest) with its entries, or a validator.

    An unknown name raises CodeSetError listing the known names; a date no version covers raises
    CodeSetError listing the versions.
    """
    registry = registry or default_registry()
    named_check(name, registry)  # the one place that rejects an unknown name
    if name in VALIDATORS:
        return _validator(VALIDATORS[name])
    codeset = registry.get(name)
    version = codeset.version_on(on) if on is not None else codeset.latest
    return {
        **_codeset(codeset),
        "on": on,
        "version": _version(version),
        "entries": [_entry(e, on) for e in version.entries.values()],
    }


def judge(
    name: str, value: str, on: dt.date | None = None, registry: CodeSetRegistry | None = None, *, today: dt.date | None = None
) -> dict[str, Any]:
    """Run the named check and report ``ok``, the ``rule`` broken, the ``reason`` and any warnings.

    Without ``on`` a code set judges by its latest version, while a validator judges as of ``today``
    (the caller's clock: an ID number's birth date may not be after it), as the models do.
    """
    if on is None and name in VALIDATORS:
        on = today
    verdict = check(name, value, on, registry=registry)
    return {
        "name": name,
        "on": on,
        "ok": verdict.ok,
        "rule": verdict.rule,
        "reason": verdict.reason,
        "warnings": [{"rule": w.rule, "reason": w.reason} for w in verdict.warnings],
    }
