"""Mapping tables as users see them: the published tables, one version, what changed between two,
a trial mapping of sample records, and publishing a new version (audited). The CLI's
``jnx mappings list|show|diff|test|publish --json`` print the same documents."""

from __future__ import annotations

import dataclasses
import datetime as dt
import functools
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from jnx.mappings.diff import diff_tables
from jnx.mappings.registry import TableRegistry, parse_ref
from jnx.mappings.service import open_registry
from jnx.services.context import ServiceContext


def registry_of(ctx: ServiceContext) -> TableRegistry:
    return open_registry(ctx.settings.home / "mappings")


def list_tables(ctx: ServiceContext, registry: TableRegistry | None = None) -> dict[str, list[dict[str, Any]]]:
    """Published tables and versions with their content hashes: ``{"tables": [...]}``."""
    ctx.authorize("mappings.list")
    return {"tables": [{"table": e.ref, "name": e.name, "version": e.version, "hash": e.recorded_hash, "path": str(e.path)}
                       for e in (registry or registry_of(ctx)).entries()]}


def show_table(ctx: ServiceContext, ref: str, registry: TableRegistry | None = None) -> dict[str, Any]:
    """One table version (``NAME`` alone: its latest): its hash and whole document."""
    ctx.authorize("mappings.show")
    loaded = (registry or registry_of(ctx)).load(*parse_ref(ref))
    return {"table": str(loaded.ref), "hash": loaded.content_hash, "document": loaded.document}


def diff(ctx: ServiceContext, old: str, new: str, registry: TableRegistry | None = None) -> dict[str, Any]:
    """What changed between two versions: header, fields added, removed, changed, codes re-translated."""
    ctx.authorize("mappings.show")
    found = registry or registry_of(ctx)
    changes = diff_tables(found.load(*parse_ref(old)), found.load(*parse_ref(new)))
    return {**dataclasses.asdict(changes), "empty": changes.empty}


def test_records(ctx: ServiceContext, ref: str, records: Sequence[dict[str, Any]], *, department_name: str | None = None,
                 department_credit_code: str | None = None, region_code: str | None = None,
                 registry: TableRegistry | None = None) -> dict[str, Any]:
    """Map sample source records with a table (nothing stored): each standard record (ID numbers
    masked) and every error — what `jnx mappings test TABLE FILE --json` prints for a file."""
    import json

    from jnx.mappings.model import MappingContext
    from jnx.mappings.service import map_samples

    ctx.authorize("mappings.show")
    compiled = (registry or registry_of(ctx)).compiled(*parse_ref(ref))
    context = MappingContext(department_name=department_name, department_credit_code=department_credit_code,
                             region_code=region_code)
    with tempfile.TemporaryDirectory(prefix="jnx-sample-") as folder:
        sample = Path(folder) / "sample.json"
        sample.write_text(json.dumps(list(records), ensure_ascii=False), encoding="utf-8")
        run = map_samples(compiled, sample, context, dt.date.today())
    return shown_samples(run)


def shown_samples(run: Any) -> dict[str, Any]:
    from jnx.security.masking import mask_id_numbers_in

    codes = _code_fields()

    def masked(value: Any, field: str | None = None) -> Any:
        if isinstance(value, dict):
            return {k: masked(v, k) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [masked(v, field) for v in value]
        if isinstance(value, str) and field not in codes:
            return mask_id_numbers_in(value)
        return value

    data = dataclasses.asdict(run)
    for outcome in data["outcomes"]:
        outcome["record"] = masked(outcome["record"])
    return data


@functools.cache
def _code_fields() -> frozenset[str]:
    """Fields whose values are organisations' codes (USCC, org code): public, never ID numbers."""
    from jnx.standard import default_dictionary

    return frozenset(e.field for e in default_dictionary().elements.values() if e.type.value in {"uscc", "org_code"})


def publish(ctx: ServiceContext, text: str, registry: TableRegistry | None = None) -> dict[str, Any]:
    """Publish a table (its YAML) as a new version; other content under a published NAME@VERSION is
    refused, the same content again is ``unchanged``. Audited (``mapping.published``)."""
    ctx.authorize("mappings.publish")
    with tempfile.TemporaryDirectory(prefix="jnx-table-") as folder:
        source = Path(folder) / "table.yaml"
        source.write_text(text, encoding="utf-8")
        outcome = (registry or registry_of(ctx)).publish(source)
    if outcome.status == "published":
        ctx.audit("mapping.published", str(outcome.table.ref), {"hash": outcome.table.content_hash})
    return {"table": str(outcome.table.ref), "hash": outcome.table.content_hash, "status": outcome.status,
            "path": str(outcome.path)}
