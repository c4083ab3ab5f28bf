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
    import uvicorn

    from jnx.web.app import create_app

    settings = load_settings()
    app = create_app(settings)
    typer.echo(f"jnx web: console at http://{host}:{port}/ , API at http://{host}:{port}/api/v1 (Ctrl-C stops)", err=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", server_header=False)


def register(root: typer.Typer) -> None:
    root.command("web")(web)
