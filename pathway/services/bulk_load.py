"""Loading a synthetic cohort (pathway.services.demo) in bulk: every command parsed and checked exactly as
`pathway apply` would, turned into rows by the same builders as the services, planned by the same
rules, and inserted through the driver's bulk path in one transaction. `--log` writes the commands
out, so a test can replay them through the services and compare the worklists.

Large cohorts are built in worker processes, one per core, in batches (below); docs/benchmarks.md
has the figures.
"""

import json
import os
from collections import Counter, deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import date, datetime
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from rich.progress import Progress
from sqlalchemy import func, insert, text
from sqlalchemy import types as sa_types
from sqlalchemy.engine import Dialect
from sqlmodel import Session, SQLModel, col, select

from pathway.domain import checks
from pathway.domain import commands as c
from pathway.domain.clock import utc_now
from pathway.domain.policy import Policy, policy_in_force
from pathway.domain.roles import Actor
from pathway.domain.text import site_key
from pathway.domain.vocabulary import Sex
from pathway.errors import CommandRejected
from pathway.services.commands import UNIQUE_REJECTIONS, new_pathway
from pathway.services.demo import (
    SITES,
    DemoPatient,
    at_least_valid,
    cohort,
    governance_commands,
    valid_nhs_numbers,
)
from pathway.services.sites import add_missing
from pathway.store import audit, tally
from pathway.store.db import SessionFactory
from pathway.store.fingerprint import CLINICAL_KINDS, CLOSURE, aggregate, closure_fingerprint, fingerprint, highest_ids
from pathway.store.models import FlagWindowRow, GovernanceNotice, Pathway, Patient, Step
from pathway.store.plan import plan_rows, windows_of
from pathway.store.repository import (
    RECORD_KINDS,
    RecordRows,
    Row,
    Stamp,
    record_from_rows,
    row_for,
    sites_as_registered,
    table_of,
)
from pathway.store.unit_of_work import writing


@dataclass(frozen=True)
class Loaded:
    patients: int
    pathways: int
    commands: int
    refused: dict[str, int] = field(default_factory=dict)  # the cohort's attempts, by command and field


# --- how -------------------------------------------------------------------------------
#
# This process generates the commands (one random stream, so a seed gives the same cohort) in
# batches. Parsing and checking every command and planning every pathway is most of the CPU work, so
# for large cohorts worker processes (one per core) build the batches' rows while this process
# inserts the batches already built. Rows leave a worker as tuples already converted by SQLAlchemy's
# own bind processors for the database's dialect (so they are stored exactly as Core would store
# them), and go in through the driver's bulk path (sqlite3 executemany, PostgreSQL COPY): per-row
# work in SQLAlchemy's executemany cost more than building the rows. For PostgreSQL a worker also
# writes each table's rows as COPY text, with psycopg's own formatter: this process then only
# sends bytes, and bytes cost next to nothing to pass between processes (tuples of rows cost
# 0.14 ms of pickling per pathway, issue 15).

BATCH = 1000  # patients per batch
DEFAULT_PATIENTS = 200
RECURRENT_SHARE = 5  # --pathways alone: one pathway in five is a recurrence
PARALLEL_FROM = 5000  # below this, starting worker processes costs more than it saves
# Patient and pathway rows carry the ids handed out here (rows of a batch point at them); every
# other table's ids are assigned by the database, in insertion order (the order commands ran).
EXPLICIT_IDS = (Patient, Pathway)
INSERT_ORDER: tuple[type[SQLModel], ...] = (Patient, Pathway, *RECORD_KINDS.values(), Step, FlagWindowRow)


@dataclass(frozen=True)
class Batch:
    """One run of patients to build: everything a worker process needs, and where the rows go."""

    patients: list[DemoPatient]  # each patient's commands, as generated
    today: date
    now: datetime
    actor: str
    policy: Policy
    governance: dict[str, date]  # by site key (pathway.domain.text.site_key)
    sites: dict[str, str]  # by site key: the spelling the site was first recorded with
    dialect: type[Dialect] | None  # None: plain values for SQLAlchemy Core (no bulk path)
    patient_id: int  # the first patient's row id; patient k of the batch gets patient_id + k
    pathway_id: int


@dataclass(frozen=True)
class BatchRows:
    # Table name: rows in insertion order, as tuples, or for PostgreSQL as COPY text (_copy_text).
    rows: dict[str, list[tuple[Any, ...]]] | dict[str, bytes]
    patients: int
    commands: int
    refused: Counter[str]
    # Clinical table name (and pathway_closure): the fingerprints of its rows (pathway.store.fingerprint),
    # taken from the values before conversion, which read back the same (tests/store/test_audit_anchor.py).
    prints: dict[str, list[str]] = field(default_factory=dict)
    pathways: int = 0
    tally_changes: Counter[tally.Key] = field(default_factory=Counter)


Layout = tuple[str, list[str], list[tuple[int, Callable[[Any], Any]]]]
_LAYOUTS: dict[str, dict[type[SQLModel], Layout]] = {}


def _layouts(dialect: type[Dialect] | None) -> dict[type[SQLModel], Layout]:
    """Per table: its name, the columns a bulk insert names, and the bind processors SQLAlchemy
    would apply for this dialect (by column position). Built once per process."""
    key = f"{dialect.__module__}.{dialect.__qualname__}" if dialect else ""
    if key not in _LAYOUTS:
        _LAYOUTS[key] = _make_layouts(dialect)
    return _LAYOUTS[key]


def _make_layouts(dialect: type[Dialect] | None) -> dict[type[SQLModel], Layout]:
    made = dialect() if dialect else None
    layouts: dict[type[SQLModel], Layout] = {}
    for kind in INSERT_ORDER:
        table = table_of(kind)
        names = columns_of(kind)
        processors = []
        for i, name in enumerate(names):
            column_type = table.c[name].type
            processor = column_type._cached_bind_processor(made) if made else None
            if processor is not None:
                dated = column_type._type_affinity in (sa_types.Date, sa_types.DateTime)
                processors.append((i, _remembered(processor) if dated else processor))
        layouts[kind] = (table.name, names, processors)
    return layouts


def _remembered(processor: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """A date processor that converts each distinct value once (a cohort has few distinct dates)."""
    seen: dict[Any, Any] = {}

    def process(value: Any) -> Any:
        try:
            return seen[value]
        except KeyError:
            seen[value] = converted = processor(value)
            return converted

    return process


_CLINICAL = frozenset(CLINICAL_KINDS)  # a set: a tuple is scanned for each of millions of rows


class _Writer:
    """Rows as tuples in each table's column order, converted for the database as SQLAlchemy would."""

    def __init__(self, dialect: type[Dialect] | None) -> None:
        self.layouts = _layouts(dialect)
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name, _n, _p in self.layouts.values()}
        self.prints: dict[str, list[str]] = {}
        self.tally: Counter[tally.Key] = Counter()  # the severity tally's changes (pathway.store.tally)

    def add(self, kind: type[SQLModel], values: Row) -> None:
        name, names, processors = self.layouts[kind]
        row = list(map(values.get, names))
        if kind in _CLINICAL:
            stored = dict(zip(names, row, strict=True))
            self.prints.setdefault(name, []).append(fingerprint(name, stored))
            if kind is Pathway and (closed := closure_fingerprint(stored)):
                self.prints.setdefault(CLOSURE, []).append(closed)
        for i, processor in processors:
            row[i] = processor(row[i])  # None too: a JSON column stores None as JSON null
        self.rows[name].append(tuple(row))


def columns_of(kind: type[SQLModel]) -> list[str]:
    """The columns a bulk insert into this table names (ids only where they are handed out here)."""
    return [c.key for c in table_of(kind).columns if kind in EXPLICIT_IDS or c.key != "id"]


def build_batch(batch: Batch) -> BatchRows:
    """Validate and plan one batch of patients (in a worker process or in this one)."""
    writer = _Writer(batch.dialect)
    commands = 0
    refused: Counter[str] = Counter()
    pathway_id = batch.pathway_id
    for k, payloads in enumerate(batch.patients):
        commands += _load_patient(
            writer, payloads, batch, refused, patient_id=batch.patient_id + k, pathway_id=pathway_id
        )
        pathway_id += payloads.pathways
    built = pathway_id - batch.pathway_id
    rows = _copy_text(writer.rows) if batch.dialect is not None and batch.dialect.name == "postgresql" else writer.rows
    return BatchRows(rows, len(batch.patients), commands, refused, writer.prints, built, writer.tally)


def _copy_text(rows: dict[str, list[tuple[Any, ...]]]) -> dict[str, bytes]:
    """Each table's rows in COPY's text format, formatted as psycopg's Copy.write_row would (the same
    function, with the default adapters: the rows hold only numbers, text, dates, instants, booleans,
    None and the bind processors' JSON wrappers, and the engine sets no JSON serializer of its own)."""
    from psycopg._copy_base import format_row_text  # psycopg's own (C) formatter, as Copy uses it
    from psycopg.adapt import Transformer

    transformer = Transformer()
    texts: dict[str, bytes] = {}
    for name, table_rows in rows.items():
        out = bytearray()
        for row in table_rows:
            format_row_text(row, transformer, out)
        texts[name] = bytes(out)
    return texts


def _load_patient(
    writer: _Writer, payloads: DemoPatient, batch: Batch, refused: Counter[str], *, patient_id: int, pathway_id: int
) -> int:
    """Record each command exactly as `pathway apply` would (the patient's attempts are refused and
    counted; any other refusal is a fault in the cohort), then plan the patient's pathways (ids from
    `pathway_id` on, in the order their diagnoses come)."""
    patient: Row | None = None
    pathways: dict[str, RecordRows] = {}  # by reference
    for index, payload in enumerate(payloads):
        try:
            patient = _record(payload, batch, patient, pathways, patient_id=patient_id, pathway_id=pathway_id)
        except CommandRejected as rejected:
            if index not in payloads.attempts:
                raise
            refused[f"{payload['command']}.{rejected.field}"] += 1
        else:
            if index in payloads.attempts:
                raise AssertionError(f"the cohort's attempt {payload['command']} was accepted")
    assert patient is not None and len(pathways) == payloads.pathways
    writer.add(Patient, patient)
    for rows in pathways.values():
        steps, windows, summary = plan_rows(rows.pathway["id"], record_from_rows(rows), batch.policy)
        rows.pathway.update(summary)
        writer.add(Pathway, rows.pathway)
        for name, kind in RECORD_KINDS.items():
            for row in getattr(rows, name):
                writer.add(kind, row)
        for step in steps:
            writer.add(Step, step)
        for window in windows:
            writer.add(FlagWindowRow, window)
        counted = rows.pathway["site_key"] if rows.pathway["closed_on"] is None else None
        writer.tally.update(tally.contribution(counted, windows_of(windows), summary["window_closes_on"]))
    return len(payloads) - len(payloads.attempts)


def _record(
    payload: dict[str, Any],
    batch: Batch,
    patient: Row | None,
    pathways: dict[str, RecordRows],
    *,
    patient_id: int,
    pathway_id: int,
) -> Row | None:
    """One command checked and turned into rows (a diagnosis adds its pathway to `pathways`); raises
    CommandRejected as the services would, having changed nothing."""
    today, policy = batch.today, batch.policy
    command = c.parse_command(payload, policy)
    stamp = Stamp(batch.now, batch.actor, command.by)
    if isinstance(command, c.RegisterPatient):
        checks.check_birth_date(command.date_of_birth, today, policy)
        fields = command.model_dump(exclude={"command", "by", "patient"})
        site = batch.sites.get(site_key(command.site), command.site)  # one site, one spelling
        patient = fields | {"id": patient_id, "ref": command.patient, "sex": command.sex.value} | stamp.columns()
        patient |= {"site": site, "site_key": site_key(site)}
    elif isinstance(command, c.RecordDiagnosis):
        assert patient is not None
        checks.check_diagnosis(command, Sex(patient["sex"]), today)
        born = patient["date_of_birth"]
        checks.check_presentation_age(born, command.presented_on, command.symptom_onset_on, policy)
        if command.pathway in pathways:
            raise CommandRejected(*UNIQUE_REJECTIONS["uq_pathway_ref"])
        values = dict.fromkeys(columns_of(Pathway)) | new_pathway(command, patient_id, patient["site"], stamp, policy)
        values |= {"id": pathway_id + len(pathways), "version": 1}  # every column, as record_from_rows reads them
        pathways[command.pathway] = RecordRows(
            pathway=values,
            governance_notified_on=batch.governance.get(patient["site_key"]),
            patient={"date_of_birth": patient["date_of_birth"], "sex": patient["sex"]},
        )
    else:
        assert isinstance(command, c.PathwayCommand) and command.pathway in pathways
        rows = pathways[command.pathway]
        checks.check_pathway_command(command, record_from_rows(rows), today, policy)
        if isinstance(command, c.ClosePathway):
            rows.pathway |= {"closed_on": command.closed_on, "close_reason": command.reason.value}
        else:
            written = row_for(command, rows.pathway["id"], stamp, rows.pathway["presented_on"], policy)
            assert written is not None
            kind, values = written
            rows.add(kind, values)
    return patient


class _Inserter:
    """Inserts built batches in this process's transaction, through the driver's bulk path."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.connection = session.connection()
        self.dialect = self.connection.dialect.name
        self.cache_size: int | None = None
        self.statements: dict[str, tuple[type[SQLModel], str]] = {}
        for kind in INSERT_ORDER:
            table = table_of(kind)
            names = columns_of(kind)
            quoted = ", ".join(f'"{name}"' for name in names)
            if self.dialect == "postgresql":
                statement = f'COPY "{table.name}" ({quoted}) FROM STDIN'
            else:
                statement = f'INSERT INTO "{table.name}" ({quoted}) VALUES ({", ".join("?" * len(names))})'
            self.statements[table.name] = (kind, statement)

    @property
    def bulk_dialect(self) -> type[Dialect] | None:
        """The dialect whose bind processors the workers apply (None: no bulk path, plain values)."""
        return type(self.connection.dialect) if self.dialect in ("sqlite", "postgresql") else None

    def insert(self, built: BatchRows) -> None:
        raw: Any = self.connection.connection.dbapi_connection
        if self.dialect == "sqlite" and self.cache_size is None:
            # SQLite's default page cache is 2 MB: each insert into a large table's indexes then
            # reads its pages back from the OS. Grow it for this load only (restore_cache after).
            self.cache_size = raw.execute("PRAGMA cache_size").fetchone()[0]
            raw.execute("PRAGMA cache_size = -262144")
        for name, (kind, statement) in self.statements.items():
            rows = built.rows[name]
            if not rows:
                continue
            if self.dialect == "sqlite":
                cursor = raw.cursor()
                cursor.executemany(statement, rows)
                cursor.close()
            elif self.dialect == "postgresql":
                with raw.cursor() as cursor, cursor.copy(statement) as copy:
                    assert isinstance(rows, bytes)  # written as COPY text by build_batch
                    copy.write(rows)
            else:
                assert isinstance(rows, list)
                names = columns_of(kind)
                self.session.execute(insert(table_of(kind)), [dict(zip(names, row, strict=True)) for row in rows])

    def restore_cache(self) -> None:
        if self.cache_size is not None:
            raw: Any = self.connection.connection.dbapi_connection
            raw.execute(f"PRAGMA cache_size = {int(self.cache_size)}")
            self.cache_size = None

    def advance_sequences(self) -> None:
        """PostgreSQL: explicit ids do not move the id sequences, so move them past what we used."""
        if self.dialect != "postgresql":
            return
        for kind in EXPLICIT_IDS:
            name = table_of(kind).name
            self.session.execute(
                text(
                    f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                    f'(SELECT coalesce(max(id), 1) FROM "{name}"))'
                )
            )


def _next_id(session: Session, kind: type[SQLModel]) -> int:
    return int(session.exec(select(func.max(table_of(kind).c.id))).one() or 0) + 1


def _workers(patients: int, workers: int | None) -> int:
    if workers is not None:
        return max(1, workers)
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
    return cores if patients >= PARALLEL_FROM else 1


def _start_pool(workers: int) -> ProcessPoolExecutor | None:
    """Worker processes, forked now: before this process opens its transaction or starts threads
    (a forked child copies only the thread that forked it). Fork, not spawn, so a caller's script
    needs no `if __name__ == "__main__"` guard and the workers start in milliseconds."""
    if workers <= 1:
        return None
    pool = ProcessPoolExecutor(max_workers=workers, mp_context=get_context("fork"))
    pool.submit(int).result()  # Python 3.11 forks every worker at the first submit
    return pool


def _built(batches: Iterator[Batch], pool: ProcessPoolExecutor | None, ahead: int) -> Iterator[BatchRows]:
    """Each batch's rows, in order; with a pool, `ahead` batches are built while one is inserted."""
    if pool is None:
        yield from map(build_batch, batches)
        return
    queued: deque[Future[BatchRows]] = deque(pool.submit(build_batch, b) for b in islice(batches, ahead))
    while queued:
        done = queued.popleft().result()
        queued.extend(pool.submit(build_batch, b) for b in islice(batches, 1))
        yield done


def load_cohort(
    factory: SessionFactory,
    *,
    patients: int | None = None,
    seed: int,
    today: date,
    actor: Actor,
    pathways: int | None = None,
    log_path: str | None = None,
    policy: Policy | None = None,
    workers: int | None = None,
) -> Loaded:
    """Generate and load a cohort in one transaction; returns what was loaded.

    `patients` and `pathways`: see cohort_size. A cohort the 999 test range cannot hold is refused
    before anything is written. `workers`: processes building rows (default: one per core from
    PARALLEL_FROM patients up, else none). Every command is parsed and checked whichever process builds it.
    """
    patients, pathways = cohort_size(patients, pathways)
    with factory() as session:
        nhs_start = _first_free_body(session)
    check_capacity(patients, nhs_start)
    policy = policy or policy_in_force()
    now = utc_now()
    loaded_commands = 0
    refused: Counter[str] = Counter()
    processes = _workers(patients, workers)
    with ExitStack() as stack:
        pool = _start_pool(processes)
        if pool is not None:
            stack.enter_context(pool)
        session = stack.enter_context(writing(factory))
        log = stack.enter_context(Path(log_path).open("w")) if log_path else None
        before = highest_ids(session)  # the audit row vouches for the rows above these
        # Continue after what is there: references by id, NHS numbers after the highest 999 number.
        start = session.exec(select(func.max(Patient.id))).one() or 0
        if _first_free_body(session) != nhs_start:  # someone registered a 999 patient since the check
            check_capacity(patients, nhs_start := _first_free_body(session))
        notices = {key for (key,) in session.execute(select(GovernanceNotice.site_key).distinct()).all()}
        add_missing(session, SITES, actor=actor, at=now)  # the cohort's sites go on the managed list
        sites = sites_as_registered(session)
        for site in SITES:
            sites.setdefault(site_key(site), site)
        prints: dict[str, list[str]] = {}  # the loaded clinical rows' fingerprints, by table
        governance: dict[str, date] = {}
        for command in governance_commands(today):
            parsed = c.parse_command(command)
            assert isinstance(parsed, c.NotifyGovernance)
            key = site_key(parsed.site)
            governance[key] = parsed.notified_on
            if key not in notices:
                notice = {"site": sites[key], "site_key": key, "notified_on": parsed.notified_on, "lead": parsed.lead}
                notice |= {"notifying_clinician": parsed.clinician, "recorded_at": now, "recorded_by": actor.name}
                session.execute(insert(GovernanceNotice), [notice])
                prints.setdefault("governance_notice", []).append(fingerprint("governance_notice", notice))
                loaded_commands += 1
                if log:
                    log.write(json.dumps(command) + "\n")
        inserter = _Inserter(session)
        patient_id, pathway_id = _next_id(session, Patient), _next_id(session, Pathway)

        generated = cohort(patients, seed, today, start, nhs_start, pathways)

        def batches() -> Iterator[Batch]:
            """Commands are generated here, in order (one random stream), and built elsewhere."""
            next_pathway = pathway_id
            for first in range(0, patients, BATCH):
                chunk = list(islice(generated, BATCH))
                if log:
                    log.writelines(json.dumps(command) + "\n" for commands in chunk for command in commands)
                yield Batch(
                    patients=chunk,
                    today=today,
                    now=now,
                    actor=actor.name,
                    policy=policy,
                    governance=governance,
                    sites=sites,
                    dialect=inserter.bulk_dialect,
                    patient_id=patient_id + first,
                    pathway_id=next_pathway,
                )
                next_pathway += sum(patient.pathways for patient in chunk)

        changes: Counter[tally.Key] = Counter()  # the severity tally's, summed over the batches
        with Progress(transient=True) as progress:
            task = progress.add_task("synthetic cohort (pathways)", total=pathways)
            try:
                for built in _built(batches(), pool, 2 * processes):
                    inserter.insert(built)
                    loaded_commands += built.commands
                    refused += built.refused
                    changes.update(built.tally_changes)
                    for name, found in built.prints.items():
                        prints.setdefault(name, []).extend(found)
                    progress.advance(task, built.pathways)
            finally:
                inserter.restore_cache()
        tally.apply(session, changes)
        if patients:
            inserter.advance_sequences()
        audit.append(
            session,
            at=now,
            actor=actor.name,
            role=actor.role.value,
            command="demo_data",
            after={
                "patients": patients,
                "pathways": pathways,
                "seed": seed,
                "as_of": today.isoformat(),
                "commands": loaded_commands,
                # The cohort's attempts the rules refused, by command and field (pathway.services.demo).
                "refused": dict(sorted(refused.items())),
            },
            # Per table: the loaded rows' id range, count and digest (pathway.store.fingerprint).
            written=_vouched(session, before, prints),
        )
    _refresh_statistics(factory)
    return Loaded(patients=patients, pathways=pathways, commands=loaded_commands, refused=dict(sorted(refused.items())))


def cohort_size(patients: int | None, pathways: int | None) -> tuple[int, int]:
    """The cohort's patients and pathways. Either alone: `patients` gives each patient one pathway;
    `pathways` gives RECURRENT_SHARE of them to patients' recurrent DVTs (a million pathways: 800,000
    patients, 200,000 of whom have a second pathway). Both: patients <= pathways <= 2 x patients."""
    if patients is None and pathways is None:
        patients = DEFAULT_PATIENTS
    if patients is None:
        assert pathways is not None
        patients = max(1, pathways - pathways // RECURRENT_SHARE)
    if pathways is None:
        pathways = patients
    if patients < 1:
        raise CommandRejected("patients", "must be at least 1")
    if not patients <= pathways <= 2 * patients:
        raise CommandRejected(
            "pathways", f"must be from {patients:,} to {2 * patients:,}: each patient has one pathway, at most two"
        )
    return patients, pathways


def check_capacity(patients: int, nhs_start: int) -> None:
    """Refuse, before anything is written, a cohort the 999 test range cannot give NHS numbers to."""
    if patients <= at_least_valid(nhs_start):
        return
    free = valid_nhs_numbers(nhs_start)
    if patients > free:
        raise CommandRejected(
            "patients",
            f"{patients:,} is more than the {free:,} valid NHS numbers left in the 999 test range "
            "(use --pathways: some patients then have a second, recurrent pathway)",
        )


def _first_free_body(session: Session) -> int:
    """The first 6-digit body after the highest 999 NHS number already registered."""
    highest = session.exec(select(func.max(Patient.nhs_number)).where(col(Patient.nhs_number).like("999%"))).one()
    return int(highest[3:9]) + 1 if highest else 0


def _vouched(session: Session, before: dict[str, int], prints: dict[str, list[str]]) -> dict[str, Any]:
    """What the load's audit row records: per table, the loaded rows' id range, count and digest."""
    after = highest_ids(session)
    return {
        name: aggregate(found, before[table] + 1, after[table])
        for name, found in prints.items()
        if found and (table := "pathway" if name == CLOSURE else name)
    }


def _refresh_statistics(factory: SessionFactory) -> None:
    """PostgreSQL plans from table statistics, stale after a bulk load until autovacuum next analyzes
    (a minute or more): the worklist's page took 130 ms instead of 17 ms at 2,000 pathways. Analyze now.
    SQLite needs no statistics for the worklist's plans."""
    with factory() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
