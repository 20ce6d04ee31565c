"""Photos and short videos from the field, stored once by content hash.

The type is read from the file's first bytes, never from the name or the declared content type.
Reports (HTTP or MQTT) carry the returned URL, never the bytes.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from grid.errors import DomainError

# Magic numbers of the formats field phones and cameras send.
SIGNATURES: list[tuple[bytes, int, str, str]] = [
    (b"\xff\xd8\xff", 0, "image/jpeg", "jpg"),
    (b"\x89PNG\r\n\x1a\n", 0, "image/png", "png"),
    (b"WEBP", 8, "image/webp", "webp"),
    (b"ftyp", 4, "video/mp4", "mp4"),
]
NAME_LENGTH = 64  # hex sha-256


class MediaRefused(DomainError):
    code = "media_refused"


def sniff(head: bytes) -> tuple[str, str]:
    for magic, offset, mime, extension in SIGNATURES:
        if head[offset : offset + len(magic)] == magic and (magic != b"WEBP" or head[:4] == b"RIFF"):
            return mime, extension
    raise MediaRefused(
        "only JPEG, PNG and WebP photos and MP4 videos are accepted",
        "仅接受 JPEG、PNG、WebP 照片和 MP4 视频",
    )


class DiskMediaStore:
    """Files under one folder, named by their SHA-256: the same photo twice is stored once."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def put(self, content: bytes, limit: int) -> str:
        if not content:
            raise MediaRefused("the file is empty", "文件为空")
        if len(content) > limit:
            raise MediaRefused(f"the file is larger than {limit} bytes", f"文件超过 {limit} 字节")
        _, extension = sniff(content[:16])
        name = f"{hashlib.sha256(content).hexdigest()}.{extension}"
        path = self.path(name)
        if not path.exists():
            path.parent.mkdir(parents=True, exist_ok=True)
            # Write then rename, so a reader never sees half a file.
            with tempfile.NamedTemporaryFile(dir=path.parent, delete=False) as part:
                part.write(content)
                part.flush()
                os.fsync(part.fileno())
            Path(part.name).replace(path)
        return name

    def path(self, name: str) -> Path:
        stem, _, extension = name.partition(".")
        if (
            len(stem) != NAME_LENGTH
            or not all(c in "0123456789abcdef" for c in stem)
            or not extension.isalnum()
        ):
            raise MediaRefused(f"not a media name: {name!r}", f"无效的媒体名：{name!r}")
        return self.root / stem[:2] / name
