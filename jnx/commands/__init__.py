"""Command groups of the ``jnx`` command, one module each; ``jnx.cli`` registers them in order."""

from jnx.commands import (
    init,
    standard,
    codesets,
    mappings,
    systems,
    sandbox,
    security,
    exchange,
    disclosures,
)

COMMAND_MODULES = [init, standard, codesets, mappings, systems, sandbox, security, exchange, disclosures]
