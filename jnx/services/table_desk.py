"""映射表 for the console: the published mapping tables and their versions, one version's fields,
and what changed between two versions (read only; publishing stays `jnx mappings publish`)."""

from __future__ import annotations

from typing import Any

from jnx.errors import NotFoundError
from jnx.exchange.wiring import TableCatalog
from jnx.mappings.diff import diff_tables
from jnx.mappings.errors import UnknownTableError
from jnx.services.console_scope import Viewer


def tables(catalog: TableCatalog, viewer: Viewer) -> list[dict[str, Any]]:
    viewer.scope("mappings.list")
    by_name: dict[str, list[int]] = {}
    for entry in catalog.registry.entries():
        by_name.setdefault(entry.name, []).append(entry.version)
    return [{"name": name, "versions": ", ".join(str(v) for v in sorted(versions)), "latest": max(versions),
             "count": len(versions)} for name, versions in sorted(by_name.items())]


def table(catalog: TableCatalog, viewer: Viewer, name: str, version: int) -> dict[str, Any]:
    viewer.scope("mappings.show")
    try:
        loaded = catalog.registry.load(name, version)
    except UnknownTableError as exc:
        raise NotFoundError(str(exc), hint="the 映射表 page lists the published tables") from None
    versions = sorted(e.version for e in catalog.registry.entries() if e.name == name)
    return {"ref": str(loaded.ref), "name": name, "version": version, "versions": versions, "hash": loaded.content_hash,
            "direction": loaded.direction.value, "source": f"{loaded.source_kind} {loaded.source_record}", "target": loaded.target,
            "effective_from": loaded.effective_from, "description": loaded.description.strip(),
            "codesets": {k: "/".join(v) for k, v in loaded.codesets.items()},
            "fields": [{"target": r.target, "source": r.source, "steps": " → ".join(s.name for s in r.steps) or "—"}
                       for r in loaded.fields]}


def diff(catalog: TableCatalog, viewer: Viewer, name: str, old: int, new: int) -> dict[str, Any]:
    viewer.scope("mappings.show")
    try:
        found = diff_tables(catalog.registry.load(name, old), catalog.registry.load(name, new))
    except UnknownTableError as exc:
        raise NotFoundError(str(exc), hint="the 映射表 page lists the published tables") from None
    return {"old": str(found.old), "new": str(found.new), "empty": found.empty,
            "header": [(c.aspect, str(c.before), str(c.after)) for c in found.header],
            "added": list(found.added), "removed": list(found.removed),
            "changed": [(c.field, c.aspect, str(c.before), str(c.after)) for c in found.changed],
            "codes": [(c.field, c.source_value, c.before or "—", c.after or "—", c.kind) for c in found.codes]}
