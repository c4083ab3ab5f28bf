"""The operations routes and the small HTTP listener of ``jnx serve --metrics-port``.

:func:`health_router` gives ``/healthz`` and ``/readyz`` (no login: load balancers and Prometheus
call them) to ``jnx web`` and to the listener alike. :func:`ops_app` is the listener's whole app:
health, and ``/metrics`` open to whoever reaches the port (bind it to an address only the scrapers
reach — docs/operations.md). :func:`serve_in_thread` runs an ASGI app under uvicorn in a thread of
this process, which keeps the signals.
"""

from __future__ import annotations

import hmac
import ipaddress
import socket
import threading
from collections.abc import Callable
from typing import Any

from fastapi import APIRouter, FastAPI, Request
from fastapi.responses import JSONResponse, Response
from prometheus_client import CollectorRegistry

from jnx import __version__
from jnx.errors import ConfigError
from jnx.ops.health import Readiness, liveness
from jnx.ops.metrics import exposition

Probe = Callable[[], Readiness]
#: Prometheus' text exposition format (what prometheus_client.exposition writes)
METRICS_CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


def health_router(probe: Probe) -> APIRouter:
    """``GET /healthz`` (200 while the process serves) and ``GET /readyz`` (200 ready, 503 not, with
    each check and what it found)."""
    router = APIRouter(tags=["operations"])

    @router.get("/healthz", summary="liveness: the process serves HTTP (no login)")
    def healthz() -> dict[str, str]:
        return liveness()

    @router.get("/readyz", summary="readiness: database answers, schema current, key store opens; 503 otherwise (no login)",
                responses={503: {"description": "not ready: the failing checks say why"}})
    def readyz() -> JSONResponse:
        ready = probe()
        return JSONResponse(ready.as_dict(), status_code=200 if ready.ok else 503, headers={"Cache-Control": "no-store"})

    return router


LOOPBACK = ipaddress.ip_network("127.0.0.0/8")


def _from_loopback(request: Request) -> bool:
    """A client on this machine that no proxy forwarded (a proxy on loopback adds X-Forwarded-For)."""
    host = request.client.host if request.client is not None else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return False
    forwarded = any(h in request.headers for h in ("x-forwarded-for", "forwarded", "x-real-ip"))
    return (address in LOOPBACK or address == ipaddress.ip_address("::1")) and not forwarded


def metrics_router(registry: CollectorRegistry, token: str | None) -> APIRouter:
    """``/metrics`` of ``jnx web``: with ``token`` (``JNX_METRICS_TOKEN``), for a request that brings
    ``Authorization: Bearer <token>``; without, for loopback clients only (docs/operations.md)."""
    router = APIRouter(include_in_schema=False)
    render = exposition(registry)
    expected = f"Bearer {token}".encode() if token else None

    @router.get("/metrics")
    def prometheus(request: Request) -> Response:
        given = request.headers.get("authorization", "").encode()
        if expected is not None and hmac.compare_digest(given, expected):
            allowed = True
        else:
            allowed = expected is None and _from_loopback(request)
        if not allowed:
            detail = ("/metrics needs the bearer token of JNX_METRICS_TOKEN" if expected is not None else
                      "/metrics of jnx web answers this machine only; set JNX_METRICS_TOKEN to scrape it from elsewhere")
            return JSONResponse({"title": "Forbidden", "status": 401 if expected is not None else 403, "detail": detail},
                                status_code=401 if expected is not None else 403, media_type="application/problem+json",
                                headers={"WWW-Authenticate": "Bearer"} if expected is not None else None)
        return Response(render(), media_type=METRICS_CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return router


def ops_app(probe: Probe, metrics: Callable[[], bytes] | None = None) -> FastAPI:
    """The listener of ``jnx serve --metrics-port``: health, and ``/metrics`` when given."""
    app = FastAPI(title="jnx serve", version=__version__, docs_url=None, redoc_url=None, openapi_url=None)
    app.include_router(health_router(probe))
    if metrics is not None:
        render = metrics

        @app.get("/metrics", summary="Prometheus metrics (text format)")
        def prometheus() -> Response:
            return Response(render(), media_type=METRICS_CONTENT_TYPE, headers={"Cache-Control": "no-store"})

    return app


def check_port(host: str, port: int) -> None:
    """ConfigError (exit 3) at once when ``host:port`` cannot be listened on."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        raise ConfigError(f"cannot listen on {host}:{port}: {exc.strerror or exc}",
                          hint="choose another port, or stop what listens there") from exc


def serve_in_thread(app: Any, host: str, port: int, *, name: str) -> Any:
    """``app`` under uvicorn in a daemon thread; a port in use is exit 3 at once, not a thread failing
    later. The uvicorn server (``should_exit = True`` stops it; ``.thread`` is its thread)."""
    import uvicorn

    check_port(host, port)
    server = uvicorn.Server(uvicorn.Config(app, host=host, port=port, log_level="warning", access_log=False,
                                           server_header=False, log_config=None))
    thread = threading.Thread(target=server.run, name=name, daemon=True)
    thread.start()
    server.thread = thread  # type: ignore[attr-defined]
    return server


def stop_server(server: Any, timeout: float = 10.0) -> None:
    """Stop a server of :func:`serve_in_thread` and wait for its thread."""
    server.should_exit = True
    server.thread.join(timeout=timeout)
