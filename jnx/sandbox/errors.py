"""Errors of the sandbox: bad settings (fault knobs, ports) and servers that cannot start."""

from __future__ import annotations

from jnx.errors import ConfigError


class SandboxConfigError(ConfigError):
    """A sandbox setting (fault knob, seed, record count, port) is invalid."""


class SandboxStartError(ConfigError):
    """A sandbox server could not bind its port."""

    hint = "choose another --port-base, or stop the process that holds the port"
