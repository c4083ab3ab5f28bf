"""Who is looking at the console, over THE rights table (:mod:`jnx.security.rights`) and the row
scope (:mod:`jnx.security.scope`).

A :class:`Viewer` is a logged-in user's name, roles, department and region. ``viewer.scope(action)``
decides exactly as ``ServiceContext.authorize`` does (:func:`jnx.services.rights.authorize` over the
user's grant): the :class:`~jnx.security.scope.RowScope` the roles give to ``action`` (every row, or
the department's), or ``AccessDenied`` (403). The console's read services add the scope's SQL
condition to their queries, so a department officer's pages hold that department's rows only.

(The console's services were written before ``jnx.services.context`` landed; moving them onto a
``ServiceContext`` is a mechanical change left for later.)
"""

from __future__ import annotations

from dataclasses import dataclass

from jnx.errors import SecurityError
from jnx.security.authorize import Grant
from jnx.security.rights import access
from jnx.security.scope import RowScope
from jnx.services.rights import authorize


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
        """The rows ``action`` may touch for this viewer, or ``AccessDenied`` (403)."""
        grant = Grant(who=self.username, roles=sorted(self.roles), department=self.department, region=self.region)
        return authorize(grant, action)

    def require(self, action: str) -> RowScope:
        return self.scope(action)
