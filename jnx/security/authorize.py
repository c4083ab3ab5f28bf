"""The check every service action makes: may this actor do ``<area>.<verb>``, and on which rows?

:func:`decide` reads the one rights table (:mod:`jnx.security.rights`) for the actor's roles,
narrows it by a token's scopes (a token never holds more than its owner), and answers the
:class:`~jnx.security.scope.RowScope` the service applies to its queries — or raises
:class:`~jnx.security.account_errors.AccessDenied`. The OS user at the server (the command line)
may do everything: the operating system guards who can read the database and the key store.

Token scopes are patterns over action names: ``errors.list`` (one action), ``errors.*`` (an area),
``read`` (every action that changes nothing) and ``*`` (everything the owner may do).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from jnx.security.account_errors import AccessDenied
from jnx.security.rights import RIGHTS, Access, access
from jnx.security.scope import RowScope


def scope_allows(scopes: Iterable[str], action: str) -> bool:
    """Whether a token with ``scopes`` covers ``action`` (before the owner's own rights)."""
    area = action.split(".", 1)[0]
    for pattern in scopes:
        pattern = pattern.strip()
        if pattern in ("*", action, f"{area}.*"):
            return True
        if pattern == "read" and action in RIGHTS and not RIGHTS[action].writes:
            return True
    return False


def valid_scope(pattern: str) -> bool:
    pattern = pattern.strip()
    if pattern in ("*", "read"):
        return True
    if pattern.endswith(".*"):
        return any(name.startswith(pattern[:-1]) for name in RIGHTS)
    return pattern in RIGHTS


@dataclass(frozen=True)
class Grant:
    """Who asks: roles and scope of a user (or of a token's owner), and the token's scopes if any."""

    who: str
    roles: Sequence[str]
    department: str | None = None
    region: str | None = None
    token_scopes: Sequence[str] | None = None  # None: not a token (or the OS user)
    everything: bool = False  # the OS user at the server


def decide(grant: Grant, action: str, *, department: str | None = None) -> RowScope:
    """The rows ``grant`` may touch with ``action``; :class:`AccessDenied` when it may not at all.

    ``department`` names the one department a call is about (registering its system, say): an actor
    with only ``own`` access is refused unless it is theirs.
    """
    if action not in RIGHTS:
        raise KeyError(f"action {action!r} is not in the rights table (jnx/security/rights.py)")
    if grant.everything:
        return RowScope.all()
    if grant.token_scopes is not None and not scope_allows(grant.token_scopes, action):
        raise AccessDenied(action, who=grant.who)
    level = access(grant.roles, action)
    if level is Access.ALL:
        return RowScope.all()
    if level is Access.OWN and grant.department:
        if department is not None and department != grant.department:
            raise AccessDenied(action, who=grant.who)
        return RowScope.own(grant.department, grant.region)
    raise AccessDenied(action, who=grant.who)


def token_fits_owner(scopes: Iterable[str], owner_roles: Sequence[str]) -> list[str]:
    """The scopes that give the owner nothing (unknown, or no action of them is the owner's): refused
    when a token is made, so a token never claims more than its owner holds."""
    bad: list[str] = []
    for pattern in scopes:
        if not valid_scope(pattern):
            bad.append(pattern)
            continue
        if not any(scope_allows([pattern], name) and access(owner_roles, name) is not None for name in RIGHTS):
            bad.append(pattern)
    return bad
