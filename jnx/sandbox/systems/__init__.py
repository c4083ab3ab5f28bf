"""Registration files of the four sandbox systems (also linked from ``examples/systems/``).

They point at ``jnx sandbox serve``'s default ports; :func:`registrations_for` rewrites the lines
for a sandbox on other ports (tests and ``jnx demo`` use ephemeral ones)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import yaml

FOLDER = Path(__file__).parent
FILES = ("licensing.yaml", "case-handling.yaml", "double-random.yaml", "credit-platform.yaml")
PLATFORM_OF = {"licensing": "licensing", "case_handling": "case_handling", "double_random": "double_random", "credit": "credit"}

#: The sandbox-only secrets the registrations refer to, by environment variable name.
SECRET_ENV = {
    "JNX_SANDBOX_LICENSING_PASSWORD": "licensing_password",
    "JNX_SANDBOX_CASE_SECRET": "case_secret",
    "JNX_SANDBOX_INSPECTION_TOKEN": "inspection_token",
    "JNX_SANDBOX_CREDIT_TOKEN": "credit_token",
}


def load(name: str) -> dict[str, Any]:
    loaded: dict[str, Any] = yaml.safe_load((FOLDER / name).read_text(encoding="utf-8"))
    return loaded


def registrations_for(urls: dict[str, dict[str, str]]) -> list[dict[str, Any]]:
    """The four registrations with each line moved to ``urls[platform][line]`` (scheme, host, port)."""
    out = []
    for name in FILES:
        doc = copy.deepcopy(load(name))
        platform = PLATFORM_OF[doc["kind"]]
        for line in doc["adapter"]["lines"]:
            target = urlsplit(urls[platform][line["name"]])
            parts = urlsplit(line["url"])
            line["url"] = urlunsplit((target.scheme, target.netloc, parts.path, parts.query, parts.fragment))
        out.append(doc)
    return out


def secrets_from(credentials: Any) -> dict[str, str]:
    """Environment entries for the sandbox's (public, sandbox-only) credentials."""
    return {env: getattr(credentials, attr) for env, attr in SECRET_ENV.items()}
