"""The OpenAPI document and its pages at /schema, working offline: the pages' scripts and styles come
from the openapi-ui-bundles package and are served by the server itself, never from a public CDN
(blank pages without internet, and CDNs are unreliable in China)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec
from litestar.datastructures import CacheControlHeader
from litestar.openapi import OpenAPIConfig
from litestar.openapi.plugins import JsonRenderPlugin, RedocRenderPlugin, SwaggerRenderPlugin
from litestar.openapi.spec import Components, OpenAPIType, Schema, SecurityScheme
from litestar.plugins import OpenAPISchemaPlugin
from litestar.router import Router
from litestar.static_files import create_static_files_router
from litestar.typing import FieldDefinition
from openapi_ui_bundles import redoc, swagger_ui

if TYPE_CHECKING:
    from litestar._openapi.schema_generation import SchemaCreator

SCHEMA = "/schema"
ASSETS = f"{SCHEMA}/assets"
SWAGGER_ASSETS = f"{ASSETS}/swagger-ui"
REDOC_ASSETS = f"{ASSETS}/redoc"
# Litestar's default favicon is on a CDN too.
FAVICON = f"<link rel='icon' type='image/png' href='{SWAGGER_ASSETS}/favicon-32x32.png'>"


def asset_routers() -> list[Router]:
    """The pages' assets; public like the pages (security.PUBLIC_PATHS), kept out of the document."""
    cache = CacheControlHeader(max_age=86400, public=True)
    return [
        create_static_files_router(
            SWAGGER_ASSETS, [swagger_ui.static_path], name="swagger_assets", cache_control=cache
        ),
        create_static_files_router(
            REDOC_ASSETS, [redoc.static_path], name="redoc_assets", cache_control=cache
        ),
    ]


def openapi_config() -> OpenAPIConfig:
    return OpenAPIConfig(
        title="Gridwatch",
        version="0.1.0",
        path=SCHEMA,
        components=Components(security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer")}),
        security=[{"bearer": []}],
        render_plugins=[
            RedocRenderPlugin(
                path=["/", "/redoc"],
                js_url=f"{REDOC_ASSETS}/redoc.standalone.js",
                google_fonts=False,
                favicon=FAVICON,
            ),
            SwaggerRenderPlugin(
                path="/swagger",
                js_url=f"{SWAGGER_ASSETS}/swagger-ui-bundle.js",
                css_url=f"{SWAGGER_ASSETS}/swagger-ui.css",
                standalone_preset_js_url=f"{SWAGGER_ASSETS}/swagger-ui-standalone-preset.js",
                favicon=FAVICON,
            ),
            JsonRenderPlugin(path="/openapi.json"),
        ],
    )


class ArrayLikeStructs(OpenAPISchemaPlugin):
    """Documents a msgspec struct declared `array_like` as the array it is sent as (a time limit is
    `[1.0, "work_hour"]`); Litestar would document every struct as an object."""

    def is_plugin_supported_field(self, field_definition: FieldDefinition) -> bool:
        kind = field_definition.annotation
        return (
            isinstance(kind, type) and issubclass(kind, msgspec.Struct) and kind.__struct_config__.array_like
        )

    def to_openapi_schema(self, field_definition: FieldDefinition, schema_creator: SchemaCreator) -> Schema:
        hints = field_definition.get_type_hints(include_extras=True, resolve_generics=True)
        names = field_definition.annotation.__struct_fields__
        return Schema(
            type=OpenAPIType.ARRAY,
            title=field_definition.annotation.__name__,
            description=f"[{', '.join(names)}]",
            prefix_items=[
                schema_creator.for_field_definition(FieldDefinition.from_annotation(hints[n])) for n in names
            ],
            min_items=len(names),
            max_items=len(names),
        )
