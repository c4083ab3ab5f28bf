"""``jnx web``: the console (管理控制台) at ``/`` and the API at ``/api/v1``, on one port."""

from __future__ import annotations

from typing import Annotated

import typer

from jnx.commands._context import load_settings


def web(
    host: Annotated[str, typer.Option(help="Address to listen on (127.0.0.1: this machine only).")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="Port to listen on.")] = 8000,
) -> None:
    """Serve the web console and the HTTP API until interrupted (Ctrl-C). Log in with a user from
    `jnx users add`; put TLS in front (a reverse proxy) when it listens beyond this machine."""
    import signal
    import threading

    from jnx.commands._context import open_engine
    from jnx.commands.exchange import web_in_thread

    settings = load_settings()
    with open_engine(settings) as engine:  # a database not initialised is exit 3 before the port opens
        server = web_in_thread(settings, engine, host, port)
        stop = threading.Event()
        previous = {sig: signal.signal(sig, lambda *_: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
        typer.echo(f"jnx web: console at http://{host}:{port}/ , API at http://{host}:{port}/api/v1 "
                   f"(docs /api/docs); Ctrl-C or SIGTERM stops", err=True)
        try:
            while not stop.wait(0.5) and server.thread.is_alive():
                pass
        finally:
            server.should_exit = True
            server.thread.join(timeout=30)
            for sig, handler in previous.items():
                signal.signal(sig, handler)
    typer.echo("jnx web: stopped", err=True)


def register(root: typer.Typer) -> None:
    root.command("web")(web)
