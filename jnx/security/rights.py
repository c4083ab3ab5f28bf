"""THE rights table: which role may do which service action, on which rows. One table; the services
check it (``ctx.authorize``), the tests are generated from it, docs/accounts.md prints it.

An action is ``<area>.<verb>``. A role's access to an action is

* ``ALL`` — every row;
* ``OWN`` — only the rows of the user's department (执法主体 credit code): the systems it registered,
  with their runs and errors, and the records and disclosures it decided or issued; a user with a
  region sees the systems of that region only. Rows outside answer exactly like missing rows (404);
* absent — refused (403), whatever the row.

No role holds every action (三员分立): the system administrator runs systems, schedules, keys and
settings but not users or the audit log; the security administrator manages users, roles and
tokens but no business data; the audit administrator only reads and verifies the audit log.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from jnx.security.roles import Role


class Access(enum.StrEnum):
    ALL = "all"
    OWN = "own"  # the user's department (and region)


@dataclass(frozen=True)
class Action:
    name: str
    writes: bool
    description: str
    rights: Mapping[Role, Access]


A, OWN = Access.ALL, Access.OWN


def _read(name: str, description: str, **rights: Access) -> Action:
    return Action(name, False, description, {Role(k.replace("_", "-")): v for k, v in rights.items()})


def _write(name: str, description: str, **rights: Access) -> Action:
    return Action(name, True, description, {Role(k.replace("_", "-")): v for k, v in rights.items()})


# fmt: off
ACTIONS: tuple[Action, ...] = (
    # source systems, schedules, health
    _read("systems.list", "list registered source systems", system_admin=A, operator=A, department_officer=OWN, supervisor=A),
    _read("systems.show", "one system and its registration", system_admin=A, operator=A, department_officer=OWN, supervisor=A),
    _write("systems.register", "register or update a source system", system_admin=A),
    _write("systems.enable", "schedule a system's runs again", system_admin=A, operator=A),
    _write("systems.disable", "stop scheduling a system's runs", system_admin=A, operator=A),
    _write("systems.check", "check a system's lines, credentials and a sample pull", system_admin=A, operator=A,
           department_officer=OWN),
    _write("schedules.set", "change a system's schedule", system_admin=A, operator=A),
    _read("health.read", "the health of systems, lines, workers and the outbox", system_admin=A, operator=A,
          credit_operator=A, supervisor=A),
    _read("alerts.list", "open and resolved alerts with their notifications", system_admin=A, operator=A,
          credit_operator=A, supervisor=A),
    _write("alerts.acknowledge", "acknowledge an open alert (someone is on it), with a note", system_admin=A, operator=A,
           credit_operator=A),
    # runs
    _read("runs.list", "runs and their counts", system_admin=A, operator=A, department_officer=OWN, supervisor=A),
    _read("runs.show", "one run", system_admin=A, operator=A, department_officer=OWN, supervisor=A),
    _write("runs.start", "start a run now", operator=A, department_officer=OWN),
    # long actions (jobs): each actor sees the jobs it started
    _read("jobs.list", "one's own long actions (jobs) and their progress", system_admin=A, operator=A, department_officer=OWN,
          credit_operator=A, supervisor=A),
    # the errors queue
    _read("errors.list", "mapping errors and their groups", operator=A, department_officer=OWN, supervisor=A),
    _read("errors.show", "one error, masked", operator=A, department_officer=OWN, supervisor=A),
    _read("errors.raw", "the raw source record behind an error", operator=A, department_officer=OWN, supervisor=A),
    _write("errors.ignore", "ignore errors", operator=A, department_officer=OWN),
    _write("errors.replay", "replay errors under the current tables", operator=A, department_officer=OWN),
    _write("errors.merge", "resolve a business-key conflict", operator=A, department_officer=OWN),
    _write("errors.correct", "correct one raw record by hand and map it again (the original is kept)", operator=A,
           department_officer=OWN),
    _write("replay.run", "re-map a system's staged records under another table version", operator=A),
    # standard records and mapping tables
    _read("records.list", "standard records", operator=A, department_officer=OWN, supervisor=A),
    _read("records.show", "one standard record and its lineage", operator=A, department_officer=OWN, supervisor=A),
    _read("mappings.list", "mapping tables and versions", system_admin=A, operator=A, department_officer=A, supervisor=A),
    _read("mappings.show", "one mapping table version", system_admin=A, operator=A, department_officer=A, supervisor=A),
    _write("mappings.publish", "publish a new mapping table version", system_admin=A),
    # 双公示 disclosures, deliveries, receipts, reconciliation
    _read("disclosures.list", "双公示 disclosures", operator=A, department_officer=OWN, credit_operator=A, supervisor=A),
    _read("disclosures.show", "one disclosure and its revisions", operator=A, department_officer=OWN, credit_operator=A,
          supervisor=A),
    _write("disclosures.withdraw", "withdraw a disclosure (撤销公示)", department_officer=OWN, credit_operator=A),
    _read("deliveries.list", "the outbox: deliveries and their receipts", credit_operator=A, supervisor=A),
    _write("deliveries.run", "push waiting disclosures now", credit_operator=A),
    _write("deliveries.retry", "retry failed or rejected deliveries", credit_operator=A),
    _read("receipts.list", "the credit platform's receipts", credit_operator=A, supervisor=A),
    _write("reconcile.run", "reconcile with the credit platform", credit_operator=A),
    # indicators (司法局)
    _read("indicators.read", "departments ranked by the supervision indicators", supervisor=A, operator=A),
    # keys and settings (system administrator)
    _read("keys.list", "signing and encryption keys (public halves)", system_admin=A, credit_operator=A, supervisor=A),
    _write("keys.generate", "generate a key", system_admin=A),
    _write("keys.rotate", "rotate a key", system_admin=A),
    _write("keys.retire", "retire a key", system_admin=A),
    _write("keys.import", "import a peer's public key", system_admin=A),
    _read("settings.read", "the settings in force (no secrets)", system_admin=A, supervisor=A),
    # the audit log (audit administrator; the supervisor reads)
    _read("audit.read", "read the audit log", audit_admin=A, supervisor=A),
    _read("audit.verify", "verify the audit chain", audit_admin=A, supervisor=A),
    # users and tokens (security administrator)
    _read("users.list", "list users", security_admin=A),
    _read("users.show", "one user", security_admin=A),
    _write("users.create", "create a user or service account", security_admin=A),
    _write("users.update", "change a user's roles, scope or display name", security_admin=A),
    _write("users.disable", "disable or enable a user", security_admin=A),
    _write("users.unlock", "unlock a user", security_admin=A),
    _write("users.reset_password", "set a user's password (to be changed at next login)", security_admin=A),
    _write("users.reset_totp", "forget a user's authenticator", security_admin=A),
    _read("tokens.list", "API tokens", security_admin=A),
    _write("tokens.create", "create an API token for a user or service account", security_admin=A),
    _write("tokens.revoke", "revoke an API token", security_admin=A),
)
# fmt: on

RIGHTS: dict[str, Action] = {action.name: action for action in ACTIONS}


def access(roles: Iterable[str], action: str) -> Access | None:
    """The widest access any of ``roles`` gives to ``action`` (ALL over OWN), or None when none gives any.

    An action missing from the table is a programming error: ``KeyError`` names it.
    """
    try:
        rights = RIGHTS[action].rights
    except KeyError:
        raise KeyError(f"action {action!r} is not in the rights table (jnx/security/rights.py)") from None
    found: Access | None = None
    for name in roles:
        try:
            granted = rights.get(Role(name))
        except ValueError:
            continue
        if granted is Access.ALL:
            return Access.ALL
        if granted is Access.OWN:
            found = Access.OWN
    return found


def actions_of(role: Role) -> dict[str, Access]:
    return {a.name: a.rights[role] for a in ACTIONS if role in a.rights}


def region_prefix(code: str) -> str:
    """The prefix every code inside region ``code`` starts with: 370800 (济宁市) → 3708, 370811 → 370811,
    370811001000 (a 乡镇) → 370811001."""
    code = code.strip()
    head, tail = code[:6], code[6:]
    while tail.endswith("000"):
        tail = tail[:-3]
    if tail:
        return head + tail
    while len(head) > 2 and head.endswith("00"):
        head = head[:-2]
    return head


def markdown_table() -> str:
    """The rights table as docs/accounts.md prints it (a test keeps the two equal)."""
    roles = list(Role)
    head = "| action | writes | " + " | ".join(f"`{r.value}`" for r in roles) + " |"
    rule = "| --- | --- | " + " | ".join("---" for _ in roles) + " |"
    lines = [head, rule]
    for action in ACTIONS:
        cells = [{Access.ALL: "all", Access.OWN: "own"}.get(action.rights.get(r), "") for r in roles]  # type: ignore[arg-type]
        lines.append(f"| `{action.name}` | {'yes' if action.writes else ''} | " + " | ".join(cells) + " |")
    return "\n".join(lines)
