"""Command groups of the ``jnx`` command, one module each; ``jnx.cli`` registers them in order.

Modules are imported lazily: ``jnx systems list`` loads only ``jnx.commands.systems`` (and what it
needs), so a command starts without importing zeep, alembic or the crypto stack it does not use.
"""

from __future__ import annotations

import importlib
from types import ModuleType

#: module name → the top-level command names it registers, in the order ``jnx --help`` lists them.
COMMANDS: dict[str, tuple[str, ...]] = {
    "init": ("init",),
    "exchange": ("demo", "serve", "run", "replay", "runs", "errors"),
    "standard": ("standard",),
    "codesets": ("codesets",),
    "mappings": ("mappings",),
    "systems": ("systems",),
    "sandbox": ("sandbox",),
    "security": ("keys", "envelope", "audit", "receiver"),
    "disclosures": ("disclosures", "reconcile"),
    "indicators": ("indicators", "report"),
    "users": ("users",),
    "tokens": ("tokens",),
    "web": ("web",),
    "operations": ("alerts", "status"),
    "jobs": ("jobs",),
}


def module_for(command: str) -> str | None:
    """The module that registers top-level ``command``, or None if no module does."""
    for module, names in COMMANDS.items():
        if command in names:
            return module
    return None


def load(modules: list[str] | None = None) -> list[ModuleType]:
    """Import the named command modules (all when None), in registration order."""
    names = list(COMMANDS) if modules is None else [m for m in COMMANDS if m in modules]
    return [importlib.import_module(f"jnx.commands.{name}") for name in names]
