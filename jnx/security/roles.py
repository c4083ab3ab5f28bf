"""The roles of jnx (三员分立 plus the business roles). Their names are a contract with outside scripts.

What each role may do is the one rights table in :mod:`jnx.services.rights`; this module only names
them, so the security package need not import the services.
"""

from __future__ import annotations

import enum


class Role(enum.StrEnum):
    SYSTEM_ADMIN = "system-admin"  # 系统管理员: systems, schedules, keys, settings
    SECURITY_ADMIN = "security-admin"  # 安全管理员: users, roles, tokens
    AUDIT_ADMIN = "audit-admin"  # 审计管理员: reads and verifies the audit log
    OPERATOR = "operator"  # 大数据中心 运维: every system's runs, schedules, health, errors
    DEPARTMENT_OFFICER = "department-officer"  # 部门: its own department's systems, runs, errors, disclosures
    CREDIT_OPERATOR = "credit-operator"  # 信用平台: deliveries, receipts, reconciliation
    SUPERVISOR = "supervisor"  # 司法局: read-only on everything, and the indicators


#: Chinese names, for the console and the docs.
ROLE_NAMES_ZH: dict[Role, str] = {
    Role.SYSTEM_ADMIN: "系统管理员",
    Role.SECURITY_ADMIN: "安全管理员",
    Role.AUDIT_ADMIN: "审计管理员",
    Role.OPERATOR: "大数据中心运维人员",
    Role.DEPARTMENT_OFFICER: "部门执法人员",
    Role.CREDIT_OPERATOR: "信用平台操作员",
    Role.SUPERVISOR: "司法局监督人员",
}

#: The three administrators of 三员分立; no one account may hold two of them.
ADMIN_ROLES: frozenset[Role] = frozenset({Role.SYSTEM_ADMIN, Role.SECURITY_ADMIN, Role.AUDIT_ADMIN})


def parse_roles(names: list[str] | tuple[str, ...]) -> list[Role]:
    """Roles from their names, in a stable order; ``ValueError`` names the unknown one and the known ones."""
    roles: list[Role] = []
    for name in names:
        try:
            role = Role(name.strip())
        except ValueError:
            known = ", ".join(r.value for r in Role)
            raise ValueError(f"unknown role {name!r} (known: {known})") from None
        if role not in roles:
            roles.append(role)
    return sorted(roles, key=list(Role).index)


def separation_problem(roles: list[Role]) -> str | None:
    """Why these roles may not be held together (三员分立), or None."""
    admins = [r.value for r in roles if r in ADMIN_ROLES]
    if len(admins) > 1:
        return f"one account may hold only one administrator role (三员分立), not {', '.join(admins)}"
    if admins and len(roles) > 1:
        others = [r.value for r in roles if r not in ADMIN_ROLES]
        return f"an administrator role ({admins[0]}) is not held with business roles ({', '.join(others)}) (三员分立)"
    return None
