"""/systems/register — 登记系统: upload a registration file, see it checked with each problem at its
line (nothing stored), then save it behind the confirm step. Registered before the systems' pages
(``/systems/ID`` would take ``/systems/register``)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from jnx.exchange.registry import MAX_FILE_BYTES
from jnx.services import registrations as service
from jnx.web.console.core import Console, Problem, redirect


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/systems/register")
    def form(request: Request) -> Response:
        viewer = console.viewer(request)
        viewer.scope("systems.register")
        return console.render(request, "register.html", page="systems", title="Register a system", checked=None)

    @router.post("/systems/register/check")
    async def check(request: Request) -> Response:
        """The check of an upload: a POST (a file is uploaded) that stores nothing and is not audited."""
        viewer = console.viewer(request)
        await console.check_csrf(request)
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            if isinstance(upload, UploadFile):
                await upload.close()
            raise Problem("choose a registration file to upload", hint="its YAML or TOML file, as `jnx systems register` takes")
        try:
            data = await upload.read(MAX_FILE_BYTES + 1)
        finally:
            await upload.close()
        with console.session() as session:
            checked = service.check_registration(session, viewer, console.exchange.catalog, upload.filename, data)
        return console.render(request, "register.html", page="systems", title="Register a system", checked=checked,
                              content=data.decode("utf-8", errors="replace"))

    @router.post("/systems/register")
    async def save(request: Request) -> Response:
        viewer = console.viewer(request)
        form = await console.check_csrf(request)
        t = console.translator(request)
        with console.writer() as session:
            saved = service.save_registration(session, viewer, console.gate.audit, console.exchange.catalog,
                                              form.get("filename", ""), form.get("content", "").encode("utf-8"))
        system_id = saved.summary["id"]
        return redirect(f"/systems/{system_id}", t.gettext("System {s} {a}.", s=system_id, a=t.gettext(saved.action or "")))
