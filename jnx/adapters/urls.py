"""URLs as they may be shown: the one place credentials and queries are cut from a URL."""

from __future__ import annotations

from urllib.parse import urlsplit, urlunsplit


def redact_url(url: str) -> str:
    """The URL as it may appear in messages and logs: no user, password, query or fragment.

    Never raises: a URL ``urlsplit`` cannot read (bad port, broken IPv6 literal) still loses
    everything before the last ``@`` of its authority.
    """
    try:
        parts = urlsplit(url)
        if parts.scheme and parts.netloc:
            host = parts.hostname or ""
            if ":" in host:
                host = f"[{host}]"
            if parts.port is not None:
                host = f"{host}:{parts.port}"
            return urlunsplit((parts.scheme, host, parts.path, "", ""))
    except ValueError:
        pass
    text = url.split("?", 1)[0].split("#", 1)[0]
    scheme, sep, rest = text.rpartition("://")
    authority, slash, path = rest.partition("/")
    return f"{scheme}{sep}{authority.rpartition('@')[2]}{slash}{path}"
