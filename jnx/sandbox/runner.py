"""The :class:`Sandbox`: the four platforms, each on its primary and backup line, started together.

``port_base`` 18081 gives the fixed ports of docs/sandbox.md (licensing 18081/18082, case handling
18083/18084, double random 18085/18086, credit 18087/18088); ``port_base=0`` binds ephemeral ports
(tests). Usable as a context manager.
"""

from __future__ import annotations

import datetime as dt
import signal
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

from jnx.sandbox import (
    case_data,
    credit_data,
    inspection_data,
    licensing,
    licensing_data,
)
from jnx.sandbox.casehandling import CaseHandlingPlatform
from jnx.sandbox.credit import CreditPlatform, Unwrap
from jnx.sandbox.doublerandom import DoubleRandomPlatform
from jnx.sandbox.errors import SandboxConfigError
from jnx.sandbox.faults import (
    FaultConfig,
    FaultState,
    LineName,
    parse_fault_config,
    parse_fault_flags,
)
from jnx.sandbox.feed import Feed
from jnx.sandbox.httpserver import Platform, PlatformServer

DEFAULT_PORT_BASE = 18081
PLATFORMS: tuple[str, ...] = ("licensing", "case_handling", "double_random", "credit")


@dataclass(frozen=True)
class Credentials:
    """Sandbox-only credentials (docs/sandbox.md). Never use these anywhere real."""

    licensing_user: str = "jnx-sandbox"
    licensing_password: str = "sandbox-licensing-pass"
    province_user: str = "sdzw-sandbox"
    province_password: str = "sandbox-province-pass"
    case_app_key: str = "jnx-sandbox-app"
    case_secret: str = "sandbox-case-secret"
    inspection_token: str = "sandbox-inspection-token"
    credit_token: str = "sandbox-credit-token"


@dataclass
class SandboxConfig:
    seed: int = 1
    records: int = 1000
    port_base: int = DEFAULT_PORT_BASE
    faults: dict[str, FaultConfig] = field(default_factory=dict)  # per platform name
    credentials: Credentials = field(default_factory=Credentials)
    unwrap: Unwrap | None = None  # the credit platform's receive step; None = plain JSON

    def __post_init__(self) -> None:
        if self.records < 0 or self.records > 2_000_000:
            raise SandboxConfigError(f"--records must be 0–2,000,000, not {self.records}")
        if self.port_base != 0 and not 1024 <= self.port_base <= 65535 - 8:
            raise SandboxConfigError(f"--port-base must be 0 (ephemeral) or 1024–65527, not {self.port_base}")
        unknown = set(self.faults) - set(PLATFORMS)
        if unknown:
            raise SandboxConfigError(f"unknown platform(s) {sorted(unknown)}", hint=f"platforms: {', '.join(PLATFORMS)}")

    def ports(self, index: int) -> dict[LineName, int]:
        if self.port_base == 0:
            return {"primary": 0, "backup": 0}
        return {"primary": self.port_base + 2 * index, "backup": self.port_base + 2 * index + 1}


class Sandbox:
    """All four platforms. ``servers[name]`` is the :class:`PlatformServer` of one platform."""

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self.servers: dict[str, PlatformServer] = {}
        for index, (name, platform) in enumerate(self._platforms().items()):
            self.servers[name] = PlatformServer(platform, self.config.ports(index))
        self.started_at: dt.datetime | None = None

    def _faults(self, name: str) -> FaultState:
        return FaultState(self.config.faults.get(name), seed=self.config.seed)

    def _platforms(self) -> dict[str, Platform]:
        cfg, creds = self.config, self.config.credentials
        n = cfg.records
        licenses = Feed(*licensing_data.licenses(cfg.seed, n), encoder=licensing.license_xml)
        province = Feed(*licensing_data.province_licenses(cfg.seed, max(1, n // 5)), encoder=licensing.province_xml)
        penalties = Feed(*case_data.penalties(cfg.seed, n))
        coercions = Feed(*case_data.coercions(cfg.seed, max(1, n // 5), [r.key for r in penalties.all()[:200]]))
        inspections = {kind: Feed(*pair) for kind, pair in inspection_data.inspections(cfg.seed, n).items()}
        manual = credit_data.manual_records(cfg.seed, max(1, n // 10), penalties.all()[:1000])
        return {
            "licensing": licensing.LicensingPlatform(self._faults("licensing"), licensing.build_services(licenses, province, vars(creds))),
            "case_handling": CaseHandlingPlatform(self._faults("case_handling"), {"penalties": penalties, "coercions": coercions},
                                                  {creds.case_app_key: creds.case_secret}),
            "double_random": DoubleRandomPlatform(self._faults("double_random"), inspections, creds.inspection_token),
            "credit": CreditPlatform(self._faults("credit"), creds.credit_token, manual, unwrap=cfg.unwrap),
        }

    # ---------------------------------------------------------------- lifecycle
    def start(self) -> Sandbox:
        try:
            for server in self.servers.values():
                server.start()
        except Exception:
            self.stop()
            raise
        self.started_at = dt.datetime.now(dt.UTC)
        return self

    def stop(self) -> None:
        for server in self.servers.values():
            server.stop()

    def __enter__(self) -> Sandbox:
        return self.start()

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()

    # ---------------------------------------------------------------- control
    def urls(self) -> dict[str, dict[str, str]]:
        return {name: server.urls() for name, server in self.servers.items()}

    def url(self, platform: str, line: LineName = "primary") -> str:
        return self.servers[platform].lines[line].url

    def set_faults(self, platform: str, **knobs: Any) -> FaultConfig:
        return self.servers[platform].set_faults(knobs)

    def clear_faults(self) -> None:
        for server in self.servers.values():
            server.faults.replace(FaultConfig())
            server.apply_lines(FaultConfig())

    def advance(self) -> dict[str, int]:
        """Apply every platform's revision batch (updates of earlier records)."""
        return {name: server.platform.advance() for name, server in self.servers.items()}

    def describe(self) -> dict[str, Any]:
        creds = self.config.credentials
        return {
            "seed": self.config.seed, "records": self.config.records, "platforms": self.urls(),
            "credentials": {k: v for k, v in vars(creds).items()},
        }

    def write_exports(self, folder: Path) -> list[Path]:
        """Write the double-random GB18030 CSV exports into ``folder`` (created if needed)."""
        platform = self.servers.get("double_random")
        if platform is None:
            return []
        written: list[Path] = platform.platform.write_exports(folder)  # type: ignore[attr-defined]
        return written


def config_from_flags(seed: int, records: int, port_base: int, fault_flags: list[str]) -> SandboxConfig:
    """Build a config from command-line values; ``--fault [PLATFORM:]KEY=VALUE`` (no platform = all)."""
    per_platform: dict[str, list[str]] = {name: [] for name in PLATFORMS}
    for flag in fault_flags:
        head, sep, rest = flag.partition(":")
        if sep and "=" not in head:
            if head not in PLATFORMS:
                raise SandboxConfigError(f"unknown platform {head!r} in --fault {flag!r}", hint=f"platforms: {', '.join(PLATFORMS)}")
            per_platform[head].append(rest)
        else:
            for name in PLATFORMS:
                per_platform[name].append(flag)
    faults = {name: parse_fault_config(parse_fault_flags(flags)) for name, flags in per_platform.items() if flags}
    return SandboxConfig(seed=seed, records=records, port_base=port_base, faults=faults)


def serve_until_stopped(sandbox: Sandbox, stop: threading.Event | None = None, ready: Callable[[], None] | None = None) -> None:
    """Run until SIGINT/SIGTERM (or ``stop`` is set), then stop every server cleanly. ``ready`` (the
    URLs printed) is called once the signals are caught, so a SIGTERM right after it stops cleanly."""
    stop = stop or threading.Event()
    previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        if ready is not None:
            ready()
        while not stop.wait(0.5):
            pass
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
        sandbox.stop()
