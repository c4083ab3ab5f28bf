"""Fault knobs of a sandbox platform: what can go wrong, how often, and the per-request decision.

A :class:`FaultConfig` is set at start (``--fault key=value``) and changed at runtime through
``POST /_sandbox/faults``; a :class:`FaultState` holds it for one platform (shared by its lines) and
decides, per request, with its own seeded random stream, which faults hit.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from jnx.sandbox.errors import SandboxConfigError

LineName = Literal["primary", "backup"]
LINE_NAMES: tuple[LineName, ...] = ("primary", "backup")


class FaultConfig(BaseModel):
    """Every knob, off by default. Rates are probabilities per data request (0–1)."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    latency_ms: int = Field(0, ge=0, le=600_000, description="added to every request, metadata included")
    error_rate: float = Field(0.0, ge=0, le=1, description="share of data requests answered with error_status")
    error_status: int = Field(503, ge=500, le=599)
    retry_after: int | None = Field(None, ge=0, le=3600, description="seconds, sent as Retry-After with errors")
    fail_next: int = Field(0, ge=0, description="the next N data requests fail with error_status (then counts down)")
    timeout_rate: float = Field(0.0, ge=0, le=1, description="share of data requests that hang, then close unanswered")
    hang_seconds: float = Field(30.0, ge=0, le=3600)
    malformed_rate: float = Field(0.0, ge=0, le=1, description="share of pages whose body is cut into invalid JSON/XML")
    entity_bomb_rate: float = Field(0.0, ge=0, le=1, description="XML platforms: share of pages replaced by an entity bomb")
    truncate_rate: float = Field(0.0, ge=0, le=1, description="share of pages cut short on the wire (Content-Length lies)")
    duplicate_rate: float = Field(0.0, ge=0, le=1, description="share of pages that repeat records of the previous page")
    lines_down: list[LineName] = Field(default_factory=list, description="lines that refuse connections")


FAULT_KEYS: tuple[str, ...] = tuple(FaultConfig.model_fields)


def parse_fault_config(data: dict[str, Any], base: FaultConfig | None = None) -> FaultConfig:
    """Merge ``data`` into ``base`` (or the defaults); unknown keys and bad values raise a clear error."""
    merged = (base or FaultConfig()).model_dump() | data
    try:
        return FaultConfig.model_validate(merged)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in e['loc']) or 'faults'}: {e['msg']}" for e in exc.errors())
        raise SandboxConfigError(
            f"invalid fault settings: {problems}", hint=f"known knobs: {', '.join(FAULT_KEYS)}"
        ) from exc


def parse_fault_flags(flags: list[str]) -> dict[str, Any]:
    """``["error_rate=0.3", "lines_down=primary"]`` → a dict for :func:`parse_fault_config`."""
    data: dict[str, Any] = {}
    for flag in flags:
        key, sep, value = flag.partition("=")
        key = key.strip().replace("-", "_")
        if not sep or key not in FAULT_KEYS:
            raise SandboxConfigError(f"bad --fault {flag!r}", hint=f"write KEY=VALUE with KEY one of: {', '.join(FAULT_KEYS)}")
        if key == "lines_down":
            data[key] = [part.strip() for part in value.split(",") if part.strip()]
        elif key == "retry_after" and value.strip().lower() in ("", "none"):
            data[key] = None
        else:
            data[key] = value.strip()
    return data


@dataclass(frozen=True, slots=True)
class FaultDecision:
    """What happens to one request."""

    latency_s: float = 0.0
    hang_s: float | None = None
    error_status: int | None = None
    retry_after: int | None = None
    malformed: bool = False
    entity_bomb: bool = False
    truncate: bool = False
    duplicate: bool = False


class FaultState:
    """The live fault settings of one platform, thread-safe, with a seeded random stream."""

    def __init__(self, config: FaultConfig | None = None, seed: int = 0) -> None:
        self._lock = threading.Lock()
        self._config = config or FaultConfig()
        self._rng = random.Random(f"faults:{seed}")

    @property
    def config(self) -> FaultConfig:
        with self._lock:
            return self._config.model_copy()

    def update(self, data: dict[str, Any]) -> FaultConfig:
        with self._lock:
            self._config = parse_fault_config(data, self._config)
            return self._config.model_copy()

    def replace(self, config: FaultConfig) -> None:
        with self._lock:
            self._config = config

    def decide(self, data_request: bool) -> FaultDecision:
        with self._lock:
            cfg = self._config
            latency = cfg.latency_ms / 1000
            if not data_request:
                return FaultDecision(latency_s=latency)
            rnd = self._rng.random
            if cfg.timeout_rate and rnd() < cfg.timeout_rate:
                return FaultDecision(latency_s=latency, hang_s=cfg.hang_seconds)
            if cfg.fail_next > 0:
                self._config = cfg.model_copy(update={"fail_next": cfg.fail_next - 1})
                return FaultDecision(latency_s=latency, error_status=cfg.error_status, retry_after=cfg.retry_after)
            if cfg.error_rate and rnd() < cfg.error_rate:
                return FaultDecision(latency_s=latency, error_status=cfg.error_status, retry_after=cfg.retry_after)
            return FaultDecision(
                latency_s=latency,
                malformed=bool(cfg.malformed_rate) and rnd() < cfg.malformed_rate,
                entity_bomb=bool(cfg.entity_bomb_rate) and rnd() < cfg.entity_bomb_rate,
                truncate=bool(cfg.truncate_rate) and rnd() < cfg.truncate_rate,
                duplicate=bool(cfg.duplicate_rate) and rnd() < cfg.duplicate_rate,
            )
