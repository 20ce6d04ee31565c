"""The benchmarks' database: migrated, holding the synthetic demo county (seed 1)."""

from __future__ import annotations

from sqlmodel import Session

from geodata.dataset import Dataset
from geodata.synth import synthesize
from server.db import migrate
from server.db.engine import make_engine
from server.reference.service import load_dataset


def load_county(url: str) -> Dataset:
    """Migrate the database at `url` and load the synthetic county into it; the county as loaded."""
    engine = make_engine(url)
    migrate.upgrade(engine)
    county = synthesize(1)
    with Session(engine) as session:
        load_dataset(session, county)
        session.commit()
    engine.dispose()
    return county
