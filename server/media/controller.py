"""Media: upload a photo or short video, get back the URL that a report or a step (a unit's handling
report, a worker's verification) carries."""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get, post
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Body, FromPath
from litestar.response import File

from server.api.deps import RuntimeDep
from server.api.problems import BadRequest, refusals
from server.api.security import allow
from server.auth import Role
from server.media.schemas import MediaOut
from server.media.store import DiskMediaStore, sniff

# The whole request may be a little larger than the file it carries (multipart framing).
UPLOAD_BODY_LIMIT = 64 * 1024 * 1024


class MediaController(Controller):
    path = "/media"
    tags = ("media",)

    @post(
        "/",
        guards=[allow(Role.ADMIN, Role.DUTY, Role.UNIT, Role.WORKER, Role.DEVICE)],
        request_max_body_size=UPLOAD_BODY_LIMIT,
        responses=refusals(413, 422),
    )
    async def upload(
        self,
        data: Annotated[
            dict[str, UploadFile],
            Body(
                media_type=RequestEncodingType.MULTI_PART,
                # The document names the one part the handler reads, not Litestar's generic `files`.
                schema_extra={
                    "properties": {"file": {"type": "string", "format": "binary"}},
                    "required": ["file"],
                },
            ),
        ],
        runtime: RuntimeDep,
    ) -> MediaOut:
        """Multipart upload with one part named `file`; stored by content hash."""
        upload = data.get("file")
        if not isinstance(upload, UploadFile):
            raise BadRequest(
                "send the file in a multipart part named 'file'", "请在名为 file 的 multipart 部分中发送文件"
            )
        content = await upload.read()
        store = DiskMediaStore(runtime.settings.media_dir)
        name = store.put(content, runtime.settings.media_max_bytes)
        return MediaOut(
            url=f"/media/{name}", name=name, content_type=sniff(content[:16])[0], size=len(content)
        )

    @get(
        "/{name:str}",
        guards=[allow(Role.ADMIN, Role.DUTY, Role.UNIT, Role.WORKER)],
        sync_to_thread=True,
        responses={
            **refusals(404, 422),
            200: ResponseSpec(
                bytes, media_type="*/*", description="the photo (JPEG, PNG, WebP) or video (MP4)"
            ),
        },
    )
    def download(self, name: FromPath[str], runtime: RuntimeDep) -> File:
        path = DiskMediaStore(runtime.settings.media_dir).path(name)
        if not path.exists():
            raise NotFoundException(f"no media {name}")
        head = path.read_bytes()[:16]
        return File(path=path, media_type=sniff(head)[0], filename=name, content_disposition_type="inline")
