"""The composition root of the exchange: builds the services a command or a worker needs from
:class:`~jnx.settings.Settings`, in one place, so nothing deep inside creates its own clients."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import Engine

from jnx.adapters.config import MappingSecrets
from jnx.exchange.ingest import Mapper
from jnx.exchange.runs import RunService, StoredHook, WorkAhead, beijing_today
from jnx.mappings.errors import UnknownTableError
from jnx.mappings.registry import TableRegistry
from jnx.mappings.service import open_registry
from jnx.progress import WorkProgress
from jnx.publicity.ahead import work_ahead
from jnx.publicity.calendar import WorkdayCalendar
from jnx.publicity.derive import DisclosureDeriver, DisclosureRules
from jnx.publicity.holds import sync_holds
from jnx.publicity.policy import LoadedPolicy, check_version, load_policy, record_version
from jnx.security.audit_sql import SqlAuditStore
from jnx.settings import Settings
from jnx.standard.dictionary import default_dictionary
from jnx.store.models import utcnow


class TableCatalog:
    """The mapping tables as the exchange and registration see them: ``name`` and ``version`` text."""

    def __init__(self, registry: TableRegistry) -> None:
        self.registry = registry

    @property
    def folders(self) -> list[Path]:
        """Where the tables are read from: what a mapping helper process needs to compile the same ones."""
        return list(self.registry.folders)

    def has(self, name: str, version: str) -> bool:
        if not version.isdigit():
            return False
        try:
            self.registry.entry(name, int(version))
        except UnknownTableError:
            return False
        return True

    def compiled(self, name: str, version: str) -> Mapper:
        if not version.isdigit():
            raise UnknownTableError(f"{name}@{version}: a table version is a whole number")
        return self.registry.compiled(name, int(version))


def mappings_folder(settings: Settings) -> Path:
    return settings.home / "mappings"


def table_catalog(settings: Settings) -> TableCatalog:
    return TableCatalog(open_registry(mappings_folder(settings)))


log = logging.getLogger(__name__)


@dataclass
class Exchange:
    """Everything a command needs to run systems, built once."""

    settings: Settings
    engine: Engine
    environment: Mapping[str, str]
    worker_id: str = "jnx"
    on_stored: StoredHook | None = None
    """A hook of the caller's for what runs store; None: :attr:`derive_disclosures` decides."""
    derive_disclosures: bool = True
    """Runs derive and revise the 双公示 disclosures of the licences and penalties they store, in the
    page's transaction (docs/disclosures.md) — what every production run does; off only for callers
    that study ingestion alone."""
    progress: WorkProgress | None = None
    catalog: TableCatalog = field(init=False)
    _deriver: DisclosureDeriver | None = field(init=False, default=None, repr=False)

    def __post_init__(self) -> None:
        self.catalog = table_catalog(self.settings)

    @property
    def deriver(self) -> DisclosureDeriver:
        """The disclosure deriver of this exchange's runs (its ``summary`` counts what they derived)."""
        if self._deriver is None:
            policy = self.publicity_policy()
            rules = DisclosureRules(calendar=WorkdayCalendar.load(self.settings.home / "calendar"),
                                    tables=self.catalog.registry, today=beijing_today,
                                    display=policy.document.display, publication=policy.document.publication)
            self._deriver = DisclosureDeriver(rules)
        return self._deriver

    def publicity_policy(self) -> LoadedPolicy:
        """The installation's publication policy (``policy/publicity.yaml``), its version audited when first used."""
        policy = load_policy(self.settings.home)
        if policy.path is None:
            log.warning("no publication policy file at %s: the built-in default applies (`jnx init` installs it)",
                        self.settings.home / "policy" / "publicity.yaml")
            return policy
        details = check_version(self.settings.home, policy)
        if details is not None:
            SqlAuditStore(self.engine).append(actor=self.worker_id or "jnx", action="publicity.policy",
                                              subject=f"policy:{policy.document.version}", details=details, at=utcnow())
            record_version(self.settings.home, policy)
        return policy

    def stored_hook(self) -> StoredHook | None:
        """What runs and replays call with the standard records they store."""
        if self.on_stored is not None:
            return self.on_stored
        return self.deriver.on_stored if self.derive_disclosures else None

    def work_ahead(self) -> WorkAhead | None:
        """What the run's mapping helpers work out for the stored hook: the deriver's plans."""
        if self.on_stored is not None or not self.derive_disclosures:
            return None
        deriver = self.deriver
        return lambda session, system: work_ahead(deriver, session, system)

    def runs(self) -> RunService:
        return RunService(
            self.engine,
            tables=self.catalog,
            dictionary=default_dictionary(),
            secrets=MappingSecrets(dict(self.environment)),
            on_stored=self.stored_hook(),
            holds=sync_holds,
            progress=self.progress,
            worker_id=self.worker_id,
            map_processes=self.settings.map_processes,
            work_ahead=self.work_ahead(),
        )
