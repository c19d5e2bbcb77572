"""A realistic synthetic cohort, never real people, loaded in bulk.

Each synthetic patient is a list of interface commands (the same JSON a clinician's command log
holds). They are parsed and checked exactly as `pathway apply` would, turned into rows by the
same builders as the services, planned by the same rules, and inserted in bulk. `--log` writes the
commands out, so a test can replay them through the services and compare the worklists.
NHS numbers come from the 999 range reserved for testing, with valid check digits.

Large cohorts are built in worker processes, one per core, in batches (see "bulk loading" below);
docs/benchmarks.md has the figures.
"""

import json
import os
import random
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import islice
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from nhs_number import calculate_checksum
from rich.progress import Progress
from sqlalchemy import func, insert, text
from sqlalchemy import types as sa_types
from sqlalchemy.engine import Dialect
from sqlmodel import Session, SQLModel, col, select

from pathway import audit, checks
from pathway import commands as c
from pathway.clock import add_months, utc_now
from pathway.db import WRITE_OPTION, SessionFactory
from pathway.models import FlagWindowRow, GovernanceNotice, Pathway, Patient, Step
from pathway.plan import plan_rows
from pathway.policy import Policy, policy_in_force
from pathway.repository import RECORD_KINDS, RecordRows, Row, Stamp, record_from_rows, row_for, table_of
from pathway.roles import Actor
from pathway.services import new_pathway

SITES = ("North Vale General", "Riverside University Hospital", "St Brigid's Infirmary", "Harbour Royal")
# One site has not yet told its governance lead: its PMT candidates carry the governance flag.
SITES_WITH_NOTICE = SITES[:3]
GIVEN = ("Alex", "Sam", "Jo", "Robin", "Morgan", "Casey", "Jamie", "Riley", "Quinn", "Avery", "Rowan", "Kit")
FAMILY = ("Testcase", "Sample", "Example", "Mockford", "Fictor", "Placeholder", "Synthia", "Demoson")
CLINICIANS = ("Dr A. Synthetic", "Dr B. Fictional", "Nurse C. Example", "Dr D. Madeup")
MDT = [
    {"name": "Dr V. Surgeon", "role": "vascular_surgeon"},
    {"name": "Dr I. Radiologist", "role": "interventional_radiologist"},
    {"name": "Dr H. Haematologist", "role": "haematologist"},
    {"name": "N. Coordinator", "role": "mdt_coordinator"},
]
VEIN_MAPS = (
    (0.25, ["common_femoral", "femoral"]),
    (0.20, ["external_iliac", "common_femoral", "femoral"]),
    (0.15, ["common_iliac", "external_iliac", "common_femoral"]),
    (0.05, ["ivc", "common_iliac", "external_iliac"]),
    (0.20, ["femoral", "popliteal"]),
    (0.05, ["popliteal", "posterior_tibial"]),
    (0.10, ["posterior_tibial", "peroneal"]),
)
LEAFLETS = {"pmt": "PIL-PMT v1.0", "cdt": "PIL-CDT v1.0", "open_thrombectomy": "PIL-OPEN v1.0"}


@dataclass(frozen=True)
class Loaded:
    patients: int
    pathways: int
    commands: int


def nhs_numbers(start: int) -> Iterator[str]:
    """Valid NHS numbers from the 999 test range, skipping bodies with no valid check digit."""
    body = start
    while True:
        nine = f"999{body:06d}"
        check = calculate_checksum(nine)
        if check != 10:
            yield f"{nine}{check}"
        body += 1


class Scenario:
    """One synthetic patient's history, written as commands, up to `today`."""

    def __init__(self, rng: random.Random, today: date, patient: str, pathway: str, nhs: str, site: str) -> None:
        self.rng, self.today = rng, today
        self.patient, self.pathway, self.nhs, self.site = patient, pathway, nhs, site
        self.commands: list[dict[str, Any]] = []

    def add(self, day: date | None, **command: Any) -> bool:
        """Record a command dated `day` unless that day is still to come."""
        if day is not None and day > self.today:
            return False
        command.setdefault("by", self.rng.choice(CLINICIANS))
        self.commands.append(command)
        return True

    def days(self, low: int, high: int) -> int:
        return self.rng.randint(low, high)

    def build(self) -> list[dict[str, Any]]:
        rng = self.rng
        kind = rng.choices(
            ["awaiting_mdt", "pre_procedure", "treated", "anticoagulation_only", "closed"],
            weights=[12, 22, 40, 16, 10],
        )[0]
        age_at = {"awaiting_mdt": (0, 8), "pre_procedure": (2, 22), "treated": (16, 500)}
        low, high = age_at.get(kind, (3, 420))
        presented = self.today - timedelta(days=self.days(low, high))
        veins = rng.choices([v for _w, v in VEIN_MAPS], weights=[w for w, _v in VEIN_MAPS])[0]
        iliofemoral = bool({"ivc", "common_iliac", "external_iliac", "common_femoral"} & set(veins))
        birth = presented - timedelta(days=365 * self.days(19, 84) + self.days(0, 364))
        self.add(
            None,
            command="register_patient",
            patient=self.patient,
            nhs_number=self.nhs,
            date_of_birth=birth.isoformat(),
            sex=rng.choice(["female", "male", "female", "male", "other", "unknown"]),
            site=self.site,
            name=f"{rng.choice(GIVEN)} {rng.choice(FAMILY)}",
        )
        referred = min(self.today, presented + timedelta(days=self.days(0, 1)))
        self.add(
            referred,
            command="record_diagnosis",
            patient=self.patient,
            pathway=self.pathway,
            presented_on=presented.isoformat(),
            symptom_onset_on=(presented - timedelta(days=self.days(0, 16))).isoformat(),
            referred_on=referred.isoformat(),
            leg=rng.choice(["left", "right"]),
            veins=veins,
            imaging=rng.choice(["duplex", "duplex", "venography", "ct_venography"]),
            functional_status=rng.choice(["good", "good", "impaired"]),
            bleeding_risk=rng.choice(["low", "low", "moderate", "high"]),
            baseline_villalta=self.days(4, 20),
        )
        if rng.random() < 0.95:
            started = presented + timedelta(days=self.days(0, 1) if rng.random() < 0.9 else 3)
            self.add(
                started,
                command="start_anticoagulation",
                pathway=self.pathway,
                agent=rng.choice(["apixaban", "rivaroxaban", "lmwh", "edoxaban"]),
                started_on=started.isoformat(),
            )
        if kind == "awaiting_mdt":
            return self.commands
        mdt_day = referred + timedelta(days=self.days(1, 5))
        if kind == "anticoagulation_only":
            decision = "anticoagulation_only"
        elif iliofemoral and self.site not in SITES_WITH_NOTICE and kind != "pre_procedure":
            decision = rng.choice(["cdt", "open_thrombectomy"])
        else:
            decision = rng.choices(["pmt", "cdt", "open_thrombectomy"], weights=[75, 15, 10])[0]
        if not self.add(
            mdt_day,
            command="record_mdt",
            pathway=self.pathway,
            held_on=mdt_day.isoformat(),
            attendees=MDT,
            decision=decision,
            thrombolysis=decision == "cdt" or (decision == "pmt" and rng.random() < 0.5),
            rationale="Synthetic MDT outcome for the demonstration cohort.",
        ):
            return self.commands
        if decision == "anticoagulation_only":
            self._anticoagulation_course(presented, None)
            return self._maybe_close(kind, presented)
        return self._procedural(kind, decision, presented, mdt_day, iliofemoral)

    def _procedural(
        self, kind: str, decision: str, presented: date, mdt_day: date, iliofemoral: bool
    ) -> list[dict[str, Any]]:
        rng = self.rng
        enrolled = mdt_day
        if decision == "pmt" and not iliofemoral and (kind != "pre_procedure" or rng.random() < 0.6):
            enrolled = mdt_day + timedelta(days=self.days(0, 2))
            self.add(
                enrolled,
                command="enrol_research",
                pathway=self.pathway,
                study_id="SYN-PMT-TRIAL",
                ethics_ref="REC 99/SYN/0001",
                enrolled_on=enrolled.isoformat(),
            )
        consent_day = mdt_day + timedelta(days=self.days(0, 3))
        consented = (kind != "pre_procedure" or rng.random() < 0.5) and self.add(
            consent_day,
            command="record_consent",
            pathway=self.pathway,
            consented_on=consent_day.isoformat(),
            information_leaflet=LEAFLETS[decision],
            uncertainties_discussed=True,
        )
        # Not before the research enrolment: a research-only PMT needs it on or before the procedure.
        scheduled = max(consent_day, enrolled, presented + timedelta(days=self.days(6, 16)))
        self.add(mdt_day, command="schedule_procedure", pathway=self.pathway, scheduled_on=scheduled.isoformat())
        if kind == "pre_procedure" or not consented or scheduled > self.today:
            return self.commands
        technique = {"pmt": rng.choice(["pmt", "pmt_with_thrombolysis"]), "cdt": "cdt"}.get(decision, decision)
        ivc_filter = rng.choices(["none", "temporary", "permanent"], weights=[70, 25, 5])[0]
        self.add(
            scheduled,
            command="record_procedure",
            pathway=self.pathway,
            performed_on=scheduled.isoformat(),
            technique=technique,
            device=None if technique == "open_thrombectomy" else "Synthetic aspiration catheter",
            access_vein=rng.choice(["popliteal", "popliteal", "femoral", "jugular"]),
            ivc_filter=ivc_filter,
            stent=rng.random() < 0.3,
            clot_removal=rng.choice(["grade_1", "grade_2", "grade_3", "grade_3"]),
            complications=rng.choices([[], [], [], ["access_site_haematoma"], ["haemoglobinuria"]])[0],
        )
        x = scheduled
        if technique in ("pmt", "pmt_with_thrombolysis") and rng.random() < 0.8:
            day = x + timedelta(days=self.days(3, 45))
            self.add(
                day,
                command="submit_registry",
                pathway=self.pathway,
                submitted_on=day.isoformat(),
                registry_ref=f"BSIR-{self.pathway}",
            )
        visits = [("early", 10, 20), ("week6", 35, 60)]
        if technique in ("pmt", "pmt_with_thrombolysis"):
            visits += [("month6", 175, 200), ("month12", 350, 400)]
        for visit, low, high in visits:
            if rng.random() < 0.85:
                day = x + timedelta(days=self.days(low, high))
                villalta = {"items": [rng.choice([0, 0, 1, 1, 2]) for _ in range(11)], "ulcer": rng.random() < 0.02}
                self.add(
                    day,
                    command="record_follow_up",
                    pathway=self.pathway,
                    visit=visit,
                    seen_on=day.isoformat(),
                    villalta=villalta,
                    patency=rng.choice(["patent", "patent", "partially_occluded", "occluded"]),
                )
        if ivc_filter != "none" and rng.random() < 0.7:
            day = x + timedelta(days=self.days(25, 70))
            outcome = "retrieved" if ivc_filter == "temporary" else "kept_permanent"
            self.add(
                day, command="record_filter_outcome", pathway=self.pathway, decided_on=day.isoformat(), outcome=outcome
            )
        self._anticoagulation_course(presented, x)
        return self._maybe_close(kind, presented)

    def _anticoagulation_course(self, presented: date, performed: date | None) -> None:
        rng = self.rng
        if not any(cmd["command"] == "start_anticoagulation" for cmd in self.commands):
            return
        if rng.random() < 0.04:
            day = presented + timedelta(days=self.days(20, 60))
            self.add(
                day,
                command="stop_anticoagulation",
                pathway=self.pathway,
                stopped_on=day.isoformat(),
                reason=rng.choice(["bleeding", "patient_choice"]),
            )
            return
        minimum_end = add_months(max(presented, performed or presented), 3)
        if rng.random() < 0.8:
            day = minimum_end + timedelta(days=self.days(-7, 20))
            self.add(
                day,
                command="record_anticoagulation_review",
                pathway=self.pathway,
                reviewed_on=day.isoformat(),
                decision=rng.choice(["stop", "continue_defined", "continue_indefinite"]),
            )

    def _maybe_close(self, kind: str, presented: date) -> list[dict[str, Any]]:
        if kind == "closed":
            day = presented + timedelta(days=self.days(30, 400))
            reason = self.rng.choices(
                ["completed", "withdrawn", "declined", "transferred", "died"], weights=[70, 8, 8, 10, 4]
            )[0]
            self.add(day, command="close_pathway", pathway=self.pathway, closed_on=day.isoformat(), reason=reason)
        return self.commands


def cohort(patients: int, seed: int, today: date, start: int = 0, nhs_start: int = 0) -> Iterator[list[dict[str, Any]]]:
    """The command lists of `patients` synthetic patients (deterministic for a seed).

    `start` numbers the references; `nhs_start` is the first 6-digit body tried in the 999 range.
    """
    rng = random.Random(seed)
    numbers = nhs_numbers(nhs_start)
    for i in range(start, start + patients):
        site = SITES[i % len(SITES)]
        yield Scenario(rng, today, f"MRN{i:07d}", f"DVT-{i:07d}", next(numbers), site).build()


def governance_commands(today: date) -> list[dict[str, Any]]:
    return [
        {
            "command": "notify_governance",
            "site": site,
            "notified_on": (today - timedelta(days=900)).isoformat(),
            "lead": "Clinical Governance Lead (synthetic)",
            "clinician": "Dr I. Radiologist",
        }
        for site in SITES_WITH_NOTICE
    ]


# --- bulk loading -------------------------------------------------------------------------------
#
# This process generates the commands (one random stream, so a seed gives the same cohort) in
# batches. Parsing and checking every command and planning every pathway is most of the CPU work, so
# for large cohorts worker processes (one per core) build the batches' rows while this process
# inserts the batches already built. Rows leave a worker as tuples already converted by SQLAlchemy's
# own bind processors for the database's dialect (so they are stored exactly as Core would store
# them), and go in through the driver's bulk path (sqlite3 executemany, PostgreSQL COPY): per-row
# work in SQLAlchemy's executemany cost more than building the rows.

BATCH = 1000  # patients per batch
PARALLEL_FROM = 5000  # below this, starting worker processes costs more than it saves
# Patient and pathway rows carry the ids handed out here (rows of a batch point at them); every
# other table's ids are assigned by the database, in insertion order (the order commands ran).
EXPLICIT_IDS = (Patient, Pathway)
INSERT_ORDER: tuple[type[SQLModel], ...] = (Patient, Pathway, *RECORD_KINDS.values(), Step, FlagWindowRow)


@dataclass(frozen=True)
class Batch:
    """One run of patients to build: everything a worker process needs, and where the rows go."""

    patients: list[list[dict[str, Any]]]  # each patient's commands, as generated
    today: date
    now: datetime
    actor: str
    policy: Policy
    governance: dict[str, date]
    dialect: type[Dialect] | None  # None: plain values for SQLAlchemy Core (no bulk path)
    patient_id: int  # the first patient's row id; patient k of the batch gets patient_id + k
    pathway_id: int


@dataclass(frozen=True)
class BatchRows:
    rows: dict[str, list[tuple[Any, ...]]]  # table name: rows in insertion order
    patients: int
    commands: int


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


class _Writer:
    """Rows as tuples in each table's column order, converted for the database as SQLAlchemy would."""

    def __init__(self, dialect: type[Dialect] | None) -> None:
        self.layouts = _layouts(dialect)
        self.rows: dict[str, list[tuple[Any, ...]]] = {name: [] for name, _n, _p in self.layouts.values()}

    def add(self, kind: type[SQLModel], values: Row) -> None:
        name, names, processors = self.layouts[kind]
        row = [values.get(column) for column in names]
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
    for k, payloads in enumerate(batch.patients):
        commands += _load_patient(
            writer, payloads, batch, patient_id=batch.patient_id + k, pathway_id=batch.pathway_id + k
        )
    return BatchRows(writer.rows, len(batch.patients), commands)


def _load_patient(
    writer: _Writer, payloads: list[dict[str, Any]], batch: Batch, *, patient_id: int, pathway_id: int
) -> int:
    """Parse and check each command exactly as `pathway apply` would, then plan the pathway."""
    today, policy = batch.today, batch.policy
    patient: Row | None = None
    rows: RecordRows | None = None
    for payload in payloads:
        command = c.parse_command(payload)
        stamp = Stamp(batch.now, batch.actor, command.by)
        if isinstance(command, c.RegisterPatient):
            checks.check_birth_date(command.date_of_birth, today)
            fields = command.model_dump(exclude={"command", "by", "patient"})
            patient = fields | {"id": patient_id, "ref": command.patient, "sex": command.sex.value} | stamp.columns()
        elif isinstance(command, c.RecordDiagnosis):
            assert patient is not None
            checks.check_diagnosis_dates(command.presented_on, command.symptom_onset_on, command.referred_on, today)
            values = dict.fromkeys(columns_of(Pathway)) | new_pathway(
                command, patient_id, patient["site"], stamp, policy
            )
            values |= {"id": pathway_id, "version": 1}  # every column present, as record_from_rows reads them
            rows = RecordRows(pathway=values, governance_notified_on=batch.governance.get(patient["site"]))
        else:
            assert rows is not None
            checks.check_pathway_command(command, record_from_rows(rows), today)
            if isinstance(command, c.ClosePathway):
                rows.pathway |= {"closed_on": command.closed_on, "close_reason": command.reason.value}
            else:
                written = row_for(command, pathway_id, stamp)
                assert written is not None
                kind, values = written
                rows.add(kind, values)
    assert patient is not None and rows is not None
    steps, windows, summary = plan_rows(pathway_id, record_from_rows(rows), policy)
    rows.pathway.update(summary)
    writer.add(Patient, patient)
    writer.add(Pathway, rows.pathway)
    for name, kind in RECORD_KINDS.items():
        for row in getattr(rows, name):
            writer.add(kind, row)
    for step in steps:
        writer.add(Step, step)
    for window in windows:
        writer.add(FlagWindowRow, window)
    return len(payloads)


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
                    for row in rows:
                        copy.write_row(row)
            else:
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
    patients: int,
    seed: int,
    today: date,
    actor: Actor,
    log_path: str | None = None,
    policy: Policy | None = None,
    workers: int | None = None,
) -> Loaded:
    """Generate and load a cohort in one transaction; returns what was loaded.

    `workers`: processes building rows (default: one per core from PARALLEL_FROM patients up, else
    none). Every command is parsed and checked whichever process builds it.
    """
    policy = policy or policy_in_force()
    now = utc_now()
    loaded_commands = 0
    processes = _workers(patients, workers)
    with ExitStack() as stack:
        pool = _start_pool(processes)
        if pool is not None:
            stack.enter_context(pool)
        session = stack.enter_context(factory())
        stack.enter_context(session.begin())
        session.connection(execution_options={WRITE_OPTION: True})
        log = stack.enter_context(Path(log_path).open("w")) if log_path else None
        # Continue after what is there: references by id, NHS numbers after the highest 999 number.
        start = session.exec(select(func.max(Patient.id))).one() or 0
        highest = session.exec(select(func.max(Patient.nhs_number)).where(col(Patient.nhs_number).like("999%"))).one()
        nhs_start = int(highest[3:9]) + 1 if highest else 0
        notices = {site for (site,) in session.execute(select(GovernanceNotice.site).distinct()).all()}
        governance: dict[str, date] = {}
        for command in governance_commands(today):
            parsed = c.parse_command(command)
            assert isinstance(parsed, c.NotifyGovernance)
            governance[parsed.site] = parsed.notified_on
            if parsed.site not in notices:
                notice = {"site": parsed.site, "notified_on": parsed.notified_on, "lead": parsed.lead}
                notice |= {"notifying_clinician": parsed.clinician, "recorded_at": now, "recorded_by": actor.name}
                session.execute(insert(GovernanceNotice), [notice])
                loaded_commands += 1
                if log:
                    log.write(json.dumps(command) + "\n")
        inserter = _Inserter(session)
        patient_id, pathway_id = _next_id(session, Patient), _next_id(session, Pathway)

        generated = cohort(patients, seed, today, start, nhs_start)

        def batches() -> Iterator[Batch]:
            """Commands are generated here, in order (one random stream), and built elsewhere."""
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
                    dialect=inserter.bulk_dialect,
                    patient_id=patient_id + first,
                    pathway_id=pathway_id + first,
                )

        with Progress(transient=True) as progress:
            task = progress.add_task("synthetic cohort", total=patients)
            try:
                for built in _built(batches(), pool, 2 * processes):
                    inserter.insert(built)
                    loaded_commands += built.commands
                    progress.advance(task, built.patients)
            finally:
                inserter.restore_cache()
        if patients:
            inserter.advance_sequences()
        audit.append(
            session,
            at=now,
            actor=actor.name,
            role=actor.role.value,
            command="demo_data",
            after={"patients": patients, "seed": seed, "as_of": today.isoformat(), "commands": loaded_commands},
        )
    _refresh_statistics(factory)
    return Loaded(patients=patients, pathways=patients, commands=loaded_commands)


def _refresh_statistics(factory: SessionFactory) -> None:
    """PostgreSQL plans from table statistics, stale after a bulk load until autovacuum next analyzes
    (a minute or more): the worklist's page took 130 ms instead of 17 ms at 2,000 pathways. Analyze now.
    SQLite needs no statistics for the worklist's plans."""
    with factory() as session, session.begin():
        if session.get_bind().dialect.name == "postgresql":
            session.execute(text("ANALYZE"))
