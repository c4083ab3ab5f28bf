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

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from jnx.errors import SecurityError
from jnx.security.authorize import Grant
from jnx.security.rights import access
from jnx.security.scope import RowScope
from jnx.services.rights import authorize

if TYPE_CHECKING:
    from jnx.services.context import Actor


def acting_name(actor: Actor) -> str:
    """How the audit log and the jobs name an actor: the OS user as it is (``cli:…``), a user or token
    of the API ``api:<name>`` — as the API's own audit entries do."""
    return actor.name if actor.kind == "os" else f"api:{actor.name}"


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
    granted: Grant | None = field(default=None, compare=False)  # an API token's or the OS user's grant

    @classmethod
    def of(cls, actor: Actor) -> Viewer:
        """The viewer of a service context's actor (a token keeps its scopes, the OS user may do everything),
        named as the audit log names it — so the API and the CLI call the console's services as they are."""
        return cls(username=acting_name(actor), roles=frozenset(actor.roles), department=actor.department,
                   region=actor.region, granted=actor.grant())

    def grant(self) -> Grant:
        return self.granted or Grant(who=self.username, roles=sorted(self.roles), department=self.department, region=self.region)

    def can(self, action: str) -> bool:
        if self.granted is not None:
            try:
                self.scope(action)
            except SecurityError:
                return False
            return True
        return access(self.roles, action) is not None

    def scope(self, action: str) -> RowScope:
        """The rows ``action`` may touch for this viewer, or ``AccessDenied`` (403)."""
        return authorize(self.grant(), action)

    def require(self, action: str) -> RowScope:
        return self.scope(action)
