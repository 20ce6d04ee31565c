"""Listings for the API: paged, scoped pages of rows, and GeoJSON features."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

import msgspec
import shapely
from shapely.geometry.base import BaseGeometry
from sqlalchemy import func
from sqlmodel import Session, SQLModel, col, select

T = TypeVar("T")


class Listing:
    def __init__(self, session: Session) -> None:
        self.session = session

    def page(
        self,
        table: type[SQLModel],
        kind: type[T],
        *,
        townships: Sequence[str] | None,
        county: str | None,
        township_column: str | None,
        key: str,
        limit: int,
        offset: int,
        extra: Sequence[Any] = (),
    ) -> tuple[list[T], int]:
        conditions: list[Any] = list(extra)
        if township_column is not None:
            column = col(getattr(table, township_column))
            if townships is not None:
                conditions.append(column.in_(townships))
            elif county is not None:
                conditions.append(column.startswith(county))
        rows, total = page_of(
            self.session, select(table).where(*conditions), [col(getattr(table, key))], limit, offset
        )
        fields = set(kind.__struct_fields__)  # type: ignore[attr-defined]
        return [
            msgspec.convert({k: v for k, v in row.model_dump().items() if k in fields}, kind) for row in rows
        ], total


def page_of(
    session: Session, query: Any, order: Sequence[Any], limit: int, offset: int
) -> tuple[list[Any], int]:
    """One page of a query's rows, in the given order, and how many rows the whole query has."""
    total = session.exec(select(func.count()).select_from(query.subquery())).one()
    rows = session.exec(query.order_by(*order).limit(limit).offset(offset)).all()
    return list(rows), int(total)


def feature(properties: dict[str, Any], geometry: str | BaseGeometry) -> dict[str, Any]:
    shape = (
        msgspec.json.decode(geometry)
        if isinstance(geometry, str)
        else msgspec.json.decode(shapely.to_geojson(geometry))
    )
    return {"type": "Feature", "properties": properties, "geometry": shape}


def parse_bbox(text: str | None) -> tuple[float, float, float, float] | None:
    if text is None:
        return None
    from litestar.exceptions import ValidationException

    try:
        minx, miny, maxx, maxy = (float(v) for v in text.split(","))
    except ValueError:
        raise ValidationException("bbox must be four numbers: minlon,minlat,maxlon,maxlat") from None
    if not (minx <= maxx and miny <= maxy):
        raise ValidationException("bbox must have min <= max")
    return minx, miny, maxx, maxy
