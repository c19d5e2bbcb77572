"""In-process measurements on a loaded cohort: the worklist and its floors, one patient's page and
its floor, the severity counts, and commands recorded through the services."""

import random
import time
from datetime import UTC, date, datetime
from datetime import time as clock_time
from typing import Any

from sqlalchemy import select
from sqlalchemy.engine import Engine

from bench import floors
from bench.timing import Timed, repeat
from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.exports.registry import registry_export
from pathway.services.commands import execute
from pathway.store.db import make_session_factory
from pathway.store.models import Pathway
from pathway.store.repository import table_of
from pathway.views import queries

BENCH_ACTOR = Actor("bench", Role.admin)
PAGES: dict[str, dict[str, Any]] = {
    "top100_flagged": {"limit": 100, "flagged_only": True},
    "page500": {"limit": 500, "flagged_only": False},
}


def _with_floor(name: str, worklist: Timed, floor: Timed, group_by: Timed) -> dict[str, Any]:
    return {
        name: worklist.summary(),
        f"{name}_floor": floor.summary(),
        f"{name}_group_by_floor": group_by.summary(),
        f"{name}_over_floor": round(worklist.median / floor.median, 2),
    }


def worklist_pages(engine: Engine, as_of: date, times: int) -> dict[str, Any]:
    """Each page, in-process through queries.worklist, beside its floors (same references, same order).

    The three are run in interleaved rounds, so a burst of load from elsewhere hits all three alike.
    """
    factory = make_session_factory(engine)
    found: dict[str, Any] = {}
    for name, page in PAGES.items():

        def through_worklist(page: dict[str, Any] = page) -> list[str]:
            with factory() as session:
                return [row.pathway for row in queries.worklist(session, as_of, **page)]

        def floor(page: dict[str, Any] = page) -> list[str]:
            with engine.connect() as connection:
                return floors.worklist_floor(connection, as_of, **page)

        def group_by(page: dict[str, Any] = page) -> list[str]:
            with engine.connect() as connection:
                return floors.group_by_floor(connection, as_of, **page)

        runs = {"worklist": through_worklist, "floor": floor, "group_by": group_by}
        times_ms: dict[str, list[float]] = {key: [] for key in runs}
        shown: dict[str, list[str]] = {key: run() for key, run in runs.items()}  # warm-up, and the rows
        for _ in range(times):
            for key, run in runs.items():
                started = time.perf_counter()
                run()
                times_ms[key].append((time.perf_counter() - started) * 1000)
        assert shown["floor"] == shown["worklist"], f"{name}: the floor's references differ from the worklist's"
        assert shown["group_by"] == shown["worklist"], f"{name}: the GROUP BY floor differs from the worklist"
        timed = {key: Timed(values, shown[key]) for key, values in times_ms.items()}
        found |= _with_floor(name, timed["worklist"], timed["floor"], timed["group_by"])
        found[f"{name}_rows"] = len(shown["worklist"])
    return found


def scaling(engines: dict[int, Engine], as_of: date, times: int) -> dict[int, dict[str, Any]]:
    """The worklist's top 100 flagged and first page of 500, and their floors, on every cohort size, in
    interleaved rounds.

    The scaling target compares sizes; measured one size after another (minutes apart on a shared
    machine) the comparison mostly shows the load of the moment, so here every round visits every size.
    """
    factories = {size: make_session_factory(engine) for size, engine in engines.items()}
    keys = [f"{name}_{kind}" for name in PAGES for kind in ("worklist", "floor")]
    times_ms: dict[int, dict[str, list[float]]] = {size: {key: [] for key in keys} for size in engines}

    def through_worklist(size: int, page: dict[str, Any]) -> None:
        with factories[size]() as session:
            queries.worklist(session, as_of, **page)

    def floor(size: int, page: dict[str, Any]) -> None:
        with engines[size].connect() as connection:
            floors.worklist_floor(connection, as_of, **page)

    for size in engines:  # warm-up
        for page in PAGES.values():
            through_worklist(size, page)
            floor(size, page)
    for _ in range(times):
        for size in engines:
            for name, page in PAGES.items():
                for kind, run in (("worklist", through_worklist), ("floor", floor)):
                    started = time.perf_counter()
                    run(size, page)
                    times_ms[size][f"{name}_{kind}"].append((time.perf_counter() - started) * 1000)
    return {
        size: {f"{name}_interleaved": Timed(found[f"{name}_worklist"], None).summary() for name in PAGES}
        | {f"{name}_floor_interleaved": Timed(found[f"{name}_floor"], None).summary() for name in PAGES}
        for size, found in times_ms.items()
    }


def severity_counts(engine: Engine, as_of: date, times: int) -> dict[str, Any]:
    """queries.count_open (the dashboard's red/amber/open metrics), checked against the worklist's tiers."""
    factory = make_session_factory(engine)

    def count() -> dict[str, int]:
        with factory() as session:
            return queries.count_open(session, as_of)

    def recount() -> dict[str, int]:
        with factory() as session:
            return queries.recount_open(session, as_of)

    timed = repeat(count, times, warmup=1)
    full = repeat(recount, max(3, times // 3), warmup=1)
    assert timed.result == full.result, "the kept severity counts differ from a full recount"
    return {"count_open": timed.summary() | {"counts": timed.result}, "recount_open": full.summary()}


def registry(engine: Engine, as_of: date, times: int) -> dict[str, Any]:
    """The whole registry export (every PMT case) and its cost per case (issue 13: at most 1 ms)."""
    factory = make_session_factory(engine)

    def export() -> int:
        with factory() as session:
            return len(registry_export(session, as_of, sites=None))

    timed = repeat(export, times, warmup=1 if times > 1 else 0)
    cases = int(timed.result)
    per_case = round(timed.median / cases, 4) if cases else None
    return {"registry_export": timed.summary() | {"cases": cases, "per_case_ms": per_case}}


def sample_pathways(engine: Engine, count: int, seed: int = 1) -> list[str]:
    """Open pathways spread over the cohort (deterministic for a seed)."""
    pathway = table_of(Pathway)
    with engine.connect() as connection:
        query = select(pathway.c.ref).where(pathway.c.closed_on.is_(None)).order_by(pathway.c.id)
        refs = [str(ref) for ref in connection.execute(query).scalars()]
    return random.Random(seed).sample(refs, min(count, len(refs)))


def patient_page(engine: Engine, as_of: date, refs: list[str]) -> dict[str, Any]:
    """queries.pathway_detail on one pathway per run (different pathways), beside its floor."""
    factory = make_session_factory(engine)
    detail: list[float] = []
    floor: list[float] = []
    for ref in refs:
        with factory() as session:
            started = time.perf_counter()
            shown = queries.pathway_detail(session, ref, as_of)
            detail.append((time.perf_counter() - started) * 1000)
        with engine.connect() as connection:
            started = time.perf_counter()
            got = floors.detail_floor(connection, ref)
            floor.append((time.perf_counter() - started) * 1000)
        assert got == shown.pathway.ref
    first, second = Timed(detail, None), Timed(floor, None)
    return {
        "pathway_detail": first.summary(),
        "pathway_detail_floor": second.summary(),
        "pathway_detail_over_floor": round(first.median / second.median, 2),
    }


def commands(engine: Engine, today: date, refs: list[str]) -> dict[str, Any]:
    """Commands recorded through services.execute on existing open pathways, one per pathway.

    Alternates an anticoagulation switch and an anticoagulation review, both dated today; each is
    validated, written, re-planned and audited in its own transaction like any clinician's command.
    """
    factory = make_session_factory(engine)
    at = datetime.combine(today, clock_time(12, 0), tzinfo=UTC)  # noon UTC: `today` in London too
    warmup, timed = refs[:5], refs[5:]
    runs: list[float] = []
    for k, ref in enumerate(warmup + timed):
        if k % 2 == 0:
            payload = {"command": "start_anticoagulation", "pathway": ref, "agent": "apixaban"}
            payload["started_on"] = today.isoformat()
        else:
            payload = {"command": "record_anticoagulation_review", "pathway": ref, "decision": "continue_defined"}
            payload["reviewed_on"] = today.isoformat()
        started = time.perf_counter()
        execute(factory, BENCH_ACTOR, payload, recorded_at=at)
        if k >= len(warmup):
            runs.append((time.perf_counter() - started) * 1000)
    result = Timed(runs, None)
    return {
        "command": {"p50_ms": round(result.median, 3), "p95_ms": round(result.percentile(95), 3), "runs": len(runs)}
    }
