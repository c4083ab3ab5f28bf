"""Who is looking at the console, over THE rights table (:mod:`jnx.security.rights`) and the row
scope (:mod:`jnx.security.scope`).

A :class:`Viewer` is a logged-in user's name, roles, department and region. ``viewer.scope(action)``
answers the :class:`~jnx.security.scope.RowScope` the roles give to ``action`` (every row, or the
department's) or raises :class:`Forbidden`; the read services add the scope's SQL condition to
their queries, so a department officer's pages hold that department's rows only.

(Interim until ``jnx.services.context`` — Actor, ServiceContext, ``ctx.authorize`` — lands; then the
console's services take a context instead and this module goes.)
"""

from __future__ import annotations

from dataclasses import dataclass

from jnx.errors import SecurityError
from jnx.security.rights import Access, access
from jnx.security.scope import RowScope


class Forbidden(SecurityError):
    http_status = 403
    code = "JNX-FORBIDDEN"


@dataclass(frozen=True)
class Viewer:
    username: str
    roles: frozenset[str]
    department: str | None = None  # 统一社会信用代码 of the user's department (执法主体)
    region: str | None = None  # 行政区划代码
    display_name: str = ""

    def can(self, action: str) -> bool:
        return access(self.roles, action) is not None

    def scope(self, action: str) -> RowScope:
        """The rows ``action`` may touch for this viewer, or :class:`Forbidden`."""
        granted = access(self.roles, action)
        if granted is None:
            raise Forbidden(f"{self.username} may not {action} (roles: {', '.join(sorted(self.roles)) or 'none'})",
                            hint="ask a security administrator for a role that allows it")
        return RowScope.all() if granted is Access.ALL else RowScope.own(self.department, self.region)

    def require(self, action: str) -> RowScope:
        return self.scope(action)
