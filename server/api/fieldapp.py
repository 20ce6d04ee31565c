"""The field app (docs/architecture.md#the-field-app): its committed files, served as they are."""

from __future__ import annotations

from pathlib import Path

from litestar import Router, get
from litestar.config.compression import CompressionConfig
from litestar.datastructures import CacheControlHeader
from litestar.response import Redirect
from litestar.static_files import create_static_files_router

# Beside the Python packages, in the source tree and in the installed wheel alike.
FIELD_APP_DIR = Path(__file__).resolve().parents[2] / "fieldapp"
FIELD_APP_PATH = "/field"


@get("/", include_in_schema=False)
async def front_door() -> Redirect:
    """A person who opens the server's address lands in the field app."""
    return Redirect(path=f"{FIELD_APP_PATH}/")


def field_app_router() -> Router:
    # Revalidated on every load: the service worker keeps the offline copy, and a new release must
    # reach phones on their next start, not after a day's cache.
    return create_static_files_router(
        FIELD_APP_PATH,
        [FIELD_APP_DIR],
        name="field_app",
        html_mode=True,
        cache_control=CacheControlHeader(no_cache=True),
        include_in_schema=False,
    )


def field_app_compression() -> CompressionConfig:
    """The app's scripts and styles gzipped, for a phone's first load on a slow network; nothing
    else, so the API's answers and the live stream are sent as they are made."""
    return CompressionConfig(backend="gzip", exclude=[f"^/(?!{FIELD_APP_PATH.strip('/')}/)."])
