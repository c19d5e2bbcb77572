"""Concurrent saves to one pathway (issue 6, item 2).

Eight threads race, in 25 rounds, to save a change to the same pathway P1 with the same
`expected_version` (the version each of them read). A threading.Barrier releases them together.
Each thread's change is valid on its own and carries its own clinician (`by`), so every row and
audit entry can be traced to the thread that wrote it. Per round exactly one thread wins; the
others get ConflictError; the version moves by exactly one; one audit row is written, the winner's.
At the end the audit rows for P1 are the winners, in round (and version) order, every winner's fact
is in the record, no loser's fact is anywhere, and the audit chain verifies.

On PostgreSQL the losers are caught by the optimistic lock (the version check when the pathway row
is updated); on SQLite writers are serialised by BEGIN IMMEDIATE, and each later writer sees the
new version and is refused by `expected_version`.

A second test races threads without `expected_version` that reload and retry on ConflictError (what
a client is told to do): every change ends up saved exactly once, in the record and the audit
trail, and the version moves by one per change. Both tests run on SQLite and, marked `postgres`,
on PostgreSQL (the `engine` fixture of tests/conftest.py). The figures (rounds, threads, wins,
conflicts, duration) are printed and recorded as the tests' `concurrency` properties.
"""

import threading
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlmodel import col

from pathway.errors import ConflictError
from pathway.services.commands import execute
from pathway.store import audit
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent, Consent, MdtMeeting, Pathway, ProcedureSchedule, ResearchEnrolment
from tests.conftest import ADMIN, RECORDED_AT, governance, mdt, open_pathway, run

THREADS = 8
ROUNDS = 25
BARRIER_TIMEOUT = 60.0
RETRY_ROUNDS = 10
MAX_TRIES = 100

# Changes that stay valid however many of them are recorded, each with the table holding its fact.
KINDS: dict[str, type[Any]] = {
    "schedule_procedure": ProcedureSchedule,
    "record_mdt": MdtMeeting,
    "record_consent": Consent,
    "enrol_research": ResearchEnrolment,
}


def change(kind: str, clinician: str, index: int) -> dict[str, Any]:
    """A valid change of `kind` on P1 (prepared by `_pmt_pathway`), traceable by its clinician."""
    day = f"2026-06-{2 + index % 13:02d}"  # 2026-06-02 .. 2026-06-14: after presentation, before today
    payloads = {
        "schedule_procedure": {"scheduled_on": day},
        "record_mdt": mdt(held_on=day, rationale=f"Decision of {clinician}"),
        "record_consent": {"consented_on": day, "information_leaflet": "PIL-PMT v1.0", "uncertainties_discussed": True},
        "enrol_research": {"study_id": f"STUDY-{clinician}", "ethics_ref": "REC 26/NV/0001", "enrolled_on": day},
    }
    return payloads[kind] | {"command": kind, "pathway": "P1", "by": clinician}


def _pmt_pathway(factory: SessionFactory) -> None:
    run(factory, governance())
    open_pathway(factory)
    run(factory, mdt())


def _version(factory: SessionFactory) -> int:
    with factory() as session:
        return session.execute(select(Pathway.version).where(Pathway.ref == "P1")).scalar_one()


def _audit_rows(factory: SessionFactory, after_id: int = 0) -> list[AuditEvent]:
    with factory() as session:
        rows = session.execute(select(AuditEvent).where(col(AuditEvent.id) > after_id).order_by(col(AuditEvent.id)))
        return list(rows.scalars().all())


def _clinicians(factory: SessionFactory, kind: type[Any]) -> list[str | None]:
    with factory() as session:
        return list(session.execute(select(kind.clinician).order_by(kind.id)).scalars().all())


@dataclass
class Attempt:
    clinician: str
    kind: str
    outcome: str = ""  # won | conflict | error
    version: int | None = None
    error: str = ""
    started: float = 0.0  # perf_counter when released by the barrier
    ended: float = 0.0
    tries: int = 0


@dataclass
class Figures:
    rounds: int = 0
    threads: int = THREADS
    outcomes: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0
    overlapping: int = 0  # losers released before the round's winner had finished

    def line(self, backend: str) -> str:
        return (
            f"concurrency [{backend}]: {self.rounds} rounds x {self.threads} threads, "
            f"{self.outcomes['won']} wins, {self.outcomes['conflict']} conflicts "
            f"({self.overlapping} of them released before the winner had committed), "
            f"{self.outcomes['error']} other errors, {self.seconds:.1f} s"
        )


def _race(
    pool: ThreadPoolExecutor,
    factory: SessionFactory,
    attempts: list[Attempt],
    version: int | None,
    at: Any,
    *,
    retry: bool = False,
) -> None:
    """Run every attempt at once (released together by a barrier) with the same expected version;
    with `retry`, an attempt refused with ConflictError reloads and tries again until it is saved."""
    barrier = threading.Barrier(len(attempts), timeout=BARRIER_TIMEOUT)

    def attempt(one: Attempt, index: int) -> None:
        payload = change(one.kind, one.clinician, index)
        barrier.wait()
        one.started = time.perf_counter()
        while True:
            one.tries += 1
            try:
                outcome = execute(factory, ADMIN, payload, recorded_at=at, expected_version=version)
            except ConflictError:
                one.outcome = "conflict"
                if retry and one.tries < MAX_TRIES:
                    continue
            except Exception as error:  # anything else is a failure of the round; reported below
                one.outcome, one.error = "error", f"{type(error).__name__}: {error}"
            else:
                one.outcome, one.version = "won", outcome.version
            break
        one.ended = time.perf_counter()

    for future in [pool.submit(attempt, one, index) for index, one in enumerate(attempts)]:
        future.result(timeout=BARRIER_TIMEOUT * 2)


def test_execute_concurrent_saves_have_one_winner_per_round(
    engine: Engine, factory: SessionFactory, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    _pmt_pathway(factory)
    setup_rows = len(_audit_rows(factory))
    start_version = _version(factory)
    figures = Figures()
    winners: list[Attempt] = []
    losers: list[Attempt] = []
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for round_ in range(ROUNDS):
            version = _version(factory)
            last_audit = _audit_rows(factory)[-1].id or 0
            kinds = list(KINDS)
            attempts = [
                Attempt(f"Dr R{round_:02d}T{thread}", kinds[(round_ + thread) % len(kinds)])
                for thread in range(THREADS)
            ]
            _race(pool, factory, attempts, version, RECORDED_AT + timedelta(seconds=round_))
            figures.rounds += 1
            figures.outcomes.update(one.outcome for one in attempts)

            errors = [f"{one.clinician}: {one.error}" for one in attempts if one.outcome == "error"]
            assert not errors, f"round {round_}: " + "; ".join(errors)
            won = [one for one in attempts if one.outcome == "won"]
            assert len(won) == 1, f"round {round_}: {len(won)} winners ({[one.clinician for one in won]})"
            assert sum(one.outcome == "conflict" for one in attempts) == THREADS - 1
            (winner,) = won
            figures.overlapping += sum(one.outcome == "conflict" and one.started < winner.ended for one in attempts)
            assert winner.version == version + 1 == _version(factory), f"round {round_}"
            # Exactly one audit row this round: the winner's, for P1, chained at the head.
            new_rows = _audit_rows(factory, last_audit)
            assert [(r.command, r.clinician, r.pathway_ref) for r in new_rows] == [
                (winner.kind, winner.clinician, "P1")
            ], f"round {round_}"
            assert (new_rows[0].after or {}).get("version") == version + 1
            winners.append(winner)
            losers += [one for one in attempts if one.outcome == "conflict"]
    figures.seconds = time.perf_counter() - started

    # The version moved by exactly one per round.
    assert _version(factory) == start_version + ROUNDS
    # The audit rows after set-up are the winners' changes, one each, in round order, versions in order.
    rows = _audit_rows(factory)
    assert len(rows) == setup_rows + ROUNDS
    changes = rows[setup_rows:]
    assert [(r.command, r.clinician) for r in changes] == [(w.kind, w.clinician) for w in winners]
    assert [(r.after or {}).get("version") for r in changes] == list(
        range(start_version + 1, start_version + ROUNDS + 1)
    )
    # No update lost: every winner's fact is in the record, once; no loser's fact is anywhere.
    recorded = {kind: _clinicians(factory, table) for kind, table in KINDS.items()}
    for winner in winners:
        assert recorded[winner.kind].count(winner.clinician) == 1, winner
    everywhere = [name for names in recorded.values() for name in names] + [r.clinician for r in rows]
    assert not {loser.clinician for loser in losers} & set(everywhere)
    assert sum(len(names) for names in recorded.values()) == ROUNDS + 1  # + the set-up MDT
    # The audit chain is intact end to end.
    with factory() as session:
        report = audit.verify(session)
    assert report.intact, report
    assert report.rows == setup_rows + ROUNDS
    assert figures.outcomes == Counter(won=ROUNDS, conflict=ROUNDS * (THREADS - 1))
    assert figures.overlapping > 0, "the threads never overlapped: no race was tested"

    summary = figures.line(engine.dialect.name)
    record_property("concurrency", summary)
    with capsys.disabled():
        print(f"\n{summary}")


def test_execute_concurrent_saves_retried_on_conflict_lose_no_update(
    engine: Engine, factory: SessionFactory, record_property: Any, capsys: pytest.CaptureFixture[str]
) -> None:
    """Without expected_version, threads that retry on ConflictError all get their change saved:
    every change is in the record and in the audit trail once, the version moves by one per change."""
    _pmt_pathway(factory)
    setup_rows = len(_audit_rows(factory))
    start_version = _version(factory)
    saved: list[Attempt] = []
    tries = 0
    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=THREADS) as pool:
        for round_ in range(RETRY_ROUNDS):
            kinds = list(KINDS)
            attempts = [
                Attempt(f"Dr S{round_:02d}T{thread}", kinds[(round_ + thread) % len(kinds)])
                for thread in range(THREADS)
            ]
            _race(pool, factory, attempts, None, RECORDED_AT + timedelta(seconds=round_), retry=True)
            problems = [f"{one.clinician}: {one.outcome} {one.error}" for one in attempts if one.outcome != "won"]
            assert not problems, f"round {round_}: " + "; ".join(problems)
            saved += attempts
            tries += sum(one.tries for one in attempts)
    seconds = time.perf_counter() - started

    changes = len(saved)
    assert _version(factory) == start_version + changes
    rows = _audit_rows(factory)[setup_rows:]
    assert sorted((r.command, r.clinician) for r in rows) == sorted((one.kind, one.clinician) for one in saved)
    assert [(r.after or {}).get("version") for r in rows] == list(range(start_version + 1, start_version + changes + 1))
    assert sorted(one.version or 0 for one in saved) == list(range(start_version + 1, start_version + changes + 1))
    recorded = {kind: _clinicians(factory, table) for kind, table in KINDS.items()}
    for one in saved:
        assert recorded[one.kind].count(one.clinician) == 1, one
    with factory() as session:
        report = audit.verify(session)
    assert report.intact, report

    summary = (
        f"concurrency with retries [{engine.dialect.name}]: {RETRY_ROUNDS} rounds x {THREADS} threads, "
        f"{changes} changes saved in {tries} tries ({tries - changes} conflicts retried), {seconds:.1f} s"
    )
    record_property("concurrency_retries", summary)
    with capsys.disabled():
        print(f"\n{summary}")
