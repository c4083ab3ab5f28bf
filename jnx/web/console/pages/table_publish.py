"""/mappings/publish — 发布映射表: upload a new table version, see it checked with each problem at its
line (nothing published), then publish it behind the confirm step."""

from __future__ import annotations

from fastapi import APIRouter, Request
from starlette.datastructures import UploadFile
from starlette.responses import Response

from jnx.services import table_publish as service
from jnx.web.console.core import Console, Problem, redirect


def routes(router: APIRouter, console: Console) -> None:
    @router.get("/mappings/publish")
    def form(request: Request) -> Response:
        viewer = console.viewer(request)
        viewer.scope("mappings.publish")
        return console.render(request, "publish.html", page="mappings", title="Publish a mapping table", checked=None)

    @router.post("/mappings/publish/check")
    async def check(request: Request) -> Response:
        """The check of an upload: a POST (a file is uploaded) that publishes nothing and is not audited."""
        viewer = console.viewer(request)
        await console.check_csrf(request)
        upload = (await request.form()).get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            if isinstance(upload, UploadFile):
                await upload.close()
            raise Problem("choose a mapping table file to upload", hint="its YAML file, as `jnx mappings publish` takes")
        try:
            data = await upload.read(service.MAX_TABLE_BYTES + 1)
        finally:
            await upload.close()
        checked = service.check_table(console.exchange.catalog, viewer, upload.filename, data)
        return console.render(request, "publish.html", page="mappings", title="Publish a mapping table", checked=checked,
                              content=data.decode("utf-8", errors="replace"))

    @router.post("/mappings/publish")
    async def publish(request: Request) -> Response:
        viewer = console.viewer(request)
        form = await console.check_csrf(request)
        t = console.translator(request)
        done = service.publish_table(console.exchange.catalog, viewer, console.gate.audit, form.get("filename", ""),
                                     form.get("content", "").encode("utf-8"))
        name, _, version = (done.table or "@").partition("@")
        return redirect(f"/mappings/{name}/{version}", t.gettext("Mapping table {t} published.", t=done.table or "")
                        if done.would == "publish" else t.gettext("{t} was published with this content already.", t=done.table or ""))
