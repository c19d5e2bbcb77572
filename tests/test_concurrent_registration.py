"""Two clinicians registering the same patient at the same moment (issue 12, item 10).

Threads released together by a Barrier register patients that share an NHS number (or a reference),
or open pathways that share a reference. On PostgreSQL both transactions pass the "already
registered?" check before either commits, and the database's unique key refuses the later insert;
that must read as the rejection a clinician would get a moment later ("already registered to another
patient"), not as "changed by someone else". On SQLite writers queue at BEGIN IMMEDIATE and the check
itself refuses them. Either way exactly one registration is recorded, with one audit row.
"""

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from pathway.errors import CommandRejected, ConflictError
from pathway.services.commands import execute
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent, Pathway, Patient
from tests.conftest import ADMIN, RECORDED_AT, diagnose, register, run
from tests.properties.strategies import nhs_check_digit

THREADS = 6
ROUNDS = 8
BARRIER_TIMEOUT = 60.0


def nhs_number(n: int) -> str:
    """The n-th valid number of the test range (999...)."""
    while True:
        nine = f"999{n:06d}"
        if nhs_check_digit(nine) != 10:
            return nine + str(nhs_check_digit(nine))
        n += 1_000


def _race(factory: SessionFactory, payloads: list[dict[str, Any]], round_: int) -> list[str]:
    """Run the payloads at once; each outcome is 'saved', 'rejected field: rule' or 'conflict'."""
    barrier = threading.Barrier(len(payloads), timeout=BARRIER_TIMEOUT)

    def attempt(payload: dict[str, Any]) -> str:
        barrier.wait()
        try:
            execute(factory, ADMIN, payload, recorded_at=RECORDED_AT + timedelta(seconds=round_))
        except CommandRejected as rejected:
            return f"rejected {rejected}"
        except ConflictError:
            return "conflict"
        return "saved"

    with ThreadPoolExecutor(max_workers=len(payloads)) as pool:
        return list(pool.map(attempt, payloads))


def _count(factory: SessionFactory, query: Any) -> int:
    with factory() as session:
        return int(session.execute(query).scalar_one())


@pytest.mark.parametrize("shared", ["nhs_number", "patient"])
def test_concurrent_registrations_of_one_patient_read_already_registered(
    engine: Engine, factory: SessionFactory, shared: str
) -> None:
    expected = {
        "nhs_number": "rejected nhs_number: already registered to another patient",
        "patient": "rejected patient: this patient reference is already registered",
    }[shared]
    outcomes: Counter[str] = Counter()
    for round_ in range(ROUNDS):
        payloads = [
            register(
                patient=f"H{round_}" if shared == "patient" else f"H{round_}-{thread}",
                nhs=nhs_number(round_) if shared == "nhs_number" else nhs_number(100 + round_ * THREADS + thread),
            )
            for thread in range(THREADS)
        ]
        results = _race(factory, payloads, round_)
        assert results.count("saved") == 1, (round_, results)
        assert sorted(set(results) - {"saved"}) == [expected], (round_, results)
        outcomes.update(results)
    assert _count(factory, select(func.count()).select_from(Patient)) == ROUNDS
    registered = select(func.count()).select_from(AuditEvent).where(AuditEvent.command == "register_patient")
    assert _count(factory, registered) == ROUNDS
    assert outcomes == Counter({"saved": ROUNDS, expected: ROUNDS * (THREADS - 1)})


def test_concurrent_diagnoses_opening_one_pathway_read_already_exists(engine: Engine, factory: SessionFactory) -> None:
    for thread in range(THREADS):
        run(factory, register(patient=f"H{thread}", nhs=nhs_number(500 + thread)))
    for round_ in range(ROUNDS):
        payloads = [diagnose(pathway=f"P{round_}", patient=f"H{thread}") for thread in range(THREADS)]
        results = _race(factory, payloads, round_)
        assert results.count("saved") == 1, (round_, results)
        assert set(results) - {"saved"} == {"rejected pathway: a pathway with this reference already exists"}
    assert _count(factory, select(func.count()).select_from(Pathway)) == ROUNDS
