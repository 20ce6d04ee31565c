"""The simulated field: every category it reports is the catalogue's, with texts that fit it, and
the urgent ones are those the catalogue marks urgent; its phones keep each report until the
platform answers, without piling copies on a broker that has not taken the last one."""

from __future__ import annotations

import signal
import time

import pytest
import shapely

from grid.catalog import Catalog
from sync.broker import BrokerAddress
from sync.simulator import EVERYDAY, FIELD_TEXTS, URGENT, FieldSimulator, FieldWorker
from tests.support.mosquitto import mosquitto


def test_reported_categories_are_the_catalogues_with_their_own_texts(catalog: Catalog) -> None:
    for code, texts in FIELD_TEXTS.items():
        catalog.category(code)  # an unknown code raises
        assert texts and all(t.strip() for t in texts), code
        assert len(set(texts)) == len(texts), code
    assert set(URGENT) | set(EVERYDAY) == set(FIELD_TEXTS)
    assert all(catalog.category(c).urgent for c in URGENT)
    assert not any(catalog.category(c).urgent for c in EVERYDAY)
    # No text is shared between categories: a text names what was seen.
    every = [t for texts in FIELD_TEXTS.values() for t in texts]
    assert len(every) == len(set(every))
    # Every major category of the catalogue is reported from the field.
    assert {c[:2] for c in FIELD_TEXTS} == {m.code for m in catalog.majors}


@pytest.mark.mosquitto
def test_a_report_the_broker_has_not_taken_is_not_queued_again() -> None:
    """A broker that stops answering (frozen here) leaves the last copy of each report in paho's
    queue; the resend timer adds no copy behind it, and sends each again once the broker took it."""
    cell = shapely.box(119.60, 29.10, 119.61, 29.11)
    with mosquitto() as broker:
        simulator = FieldSimulator(
            "339921",
            [FieldWorker("w1", [cell])],
            [],
            BrokerAddress("127.0.0.1", broker.port),
            bad_share=0,
            resend_seconds=0.2,
        )
        try:
            broker.process.send_signal(signal.SIGSTOP)
            try:
                for _ in range(40):
                    simulator.one()
                kept = len(simulator.tally.unanswered)
                assert kept > 0
                for _ in range(3):
                    time.sleep(0.3)
                    simulator.resend()
                assert simulator.tally.resent == 0
            finally:
                broker.process.send_signal(signal.SIGCONT)
            # No ingest worker: the broker takes each report (PUBACK "no matching subscribers"),
            # and every one is then due again.
            deadline = time.monotonic() + 10
            while any(u.in_flight() for u in simulator.tally.unanswered.values()):
                assert time.monotonic() < deadline, "the broker never took the reports"
                time.sleep(0.1)
            time.sleep(0.3)
            simulator.resend()
            assert simulator.tally.resent == kept
        finally:
            simulator.close()
