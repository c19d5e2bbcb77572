"""A realistic synthetic cohort, never real people, loaded in bulk.

Each synthetic patient is a list of interface commands (the same JSON a clinician's command log
holds). They are parsed and checked exactly as `pathway apply` would, turned into rows by the
same builders as the services, planned by the same rules, and inserted in bulk. `--log` writes the
commands out, so a test can replay them through the services and compare the worklists.
NHS numbers come from the 999 range reserved for testing, with valid check digits.
"""

import json
import random
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from nhs_number import calculate_checksum
from rich.progress import Progress
from sqlalchemy import func, insert, text
from sqlmodel import Session, SQLModel, col, select

from pathway import audit, checks
from pathway import commands as c
from pathway.clock import add_months, utc_now
from pathway.db import WRITE_OPTION, SessionFactory
from pathway.models import FlagWindowRow, GovernanceNotice, Pathway, Patient, Step
from pathway.plan import plan_rows
from pathway.policy import Policy, policy_in_force
from pathway.repository import RecordRows, Row, Stamp, record_from_rows, row_for, table_of
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
        scheduled = max(consent_day, presented + timedelta(days=self.days(6, 16)))
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


class _Tables:
    """Rows waiting for bulk insert, by table, with ids handed out here."""

    def __init__(self, session: Session) -> None:
        self.rows: dict[type[SQLModel], list[Row]] = {}
        self.next_id: dict[type[SQLModel], int] = {}
        self.session = session

    def take(self, kind: type[SQLModel], values: Row) -> Row:
        """Queue a row; every column present (executemany needs one shape), with a fresh id."""
        table = table_of(kind)
        if kind not in self.next_id:
            self.next_id[kind] = (self.session.exec(select(func.max(table.c.id))).one() or 0) + 1
        row = {column.key: values.get(column.key) for column in table.columns}
        row["id"] = self.next_id[kind]
        self.next_id[kind] += 1
        self.rows.setdefault(kind, []).append(row)
        return row

    def flush(self) -> None:
        order = [Patient, Pathway]
        for kind in sorted(self.rows, key=lambda k: order.index(k) if k in order else len(order)):
            rows = self.rows[kind]
            for chunk in range(0, len(rows), 5000):
                self.session.execute(insert(table_of(kind)), rows[chunk : chunk + 5000])
        self.rows.clear()

    def advance_sequences(self) -> None:
        """PostgreSQL: explicit ids do not move the id sequences, so move them past what we used."""
        if self.session.get_bind().dialect.name != "postgresql":
            return
        for kind in self.next_id:
            name = table_of(kind).name
            self.session.execute(
                text(f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), (SELECT max(id) FROM \"{name}\"))")
            )


def load_cohort(
    factory: SessionFactory,
    *,
    patients: int,
    seed: int,
    today: date,
    actor: Actor,
    log_path: str | None = None,
    policy: Policy | None = None,
) -> Loaded:
    """Generate and load a cohort in one transaction; returns what was loaded."""
    policy = policy or policy_in_force()
    now = utc_now()
    loaded_commands = 0
    with ExitStack() as stack, factory() as session, session.begin():
        session.connection(execution_options={WRITE_OPTION: True})
        log = stack.enter_context(Path(log_path).open("w")) if log_path else None
        # Continue after what is there: references by id, NHS numbers after the highest 999 number.
        start = session.exec(select(func.max(Patient.id))).one() or 0
        highest = session.exec(select(func.max(Patient.nhs_number)).where(col(Patient.nhs_number).like("999%"))).one()
        nhs_start = int(highest[3:9]) + 1 if highest else 0
        tables = _Tables(session)
        notices = {site for (site,) in session.execute(select(GovernanceNotice.site).distinct()).all()}
        governance: dict[str, date] = {}
        for command in governance_commands(today):
            parsed = c.parse_command(command)
            assert isinstance(parsed, c.NotifyGovernance)
            governance[parsed.site] = parsed.notified_on
            if parsed.site not in notices:
                notice = {"site": parsed.site, "notified_on": parsed.notified_on, "lead": parsed.lead}
                notice |= {"notifying_clinician": parsed.clinician, "recorded_at": now, "recorded_by": actor.name}
                tables.take(GovernanceNotice, notice)
                loaded_commands += 1
                if log:
                    log.write(json.dumps(command) + "\n")
        with Progress(transient=True) as progress:
            task = progress.add_task("synthetic cohort", total=patients)
            for commands in cohort(patients, seed, today, start, nhs_start):
                loaded_commands += _load_patient(tables, commands, governance, today, now, actor, policy)
                if log:
                    log.writelines(json.dumps(command) + "\n" for command in commands)
                progress.advance(task)
                if len(tables.rows.get(Pathway, ())) >= 5000:
                    tables.flush()
        tables.flush()
        tables.advance_sequences()
        audit.append(
            session,
            at=now,
            actor=actor.name,
            role=actor.role.value,
            command="demo_data",
            after={"patients": patients, "seed": seed, "as_of": today.isoformat(), "commands": loaded_commands},
        )
    return Loaded(patients=patients, pathways=patients, commands=loaded_commands)


def _load_patient(
    tables: _Tables,
    commands: list[dict[str, Any]],
    governance: dict[str, date],
    today: date,
    now: Any,
    actor: Actor,
    policy: Policy,
) -> int:
    patient: Row | None = None
    rows: RecordRows | None = None
    for payload in commands:
        command = c.parse_command(payload)
        stamp = Stamp(now, actor.name, command.by)
        if isinstance(command, c.RegisterPatient):
            checks.check_birth_date(command.date_of_birth, today)
            fields = command.model_dump(exclude={"command", "by", "patient"})
            fields |= {"ref": command.patient, "sex": command.sex.value}
            patient = tables.take(Patient, fields | stamp.columns())
        elif isinstance(command, c.RecordDiagnosis):
            assert patient is not None
            checks.check_diagnosis_dates(command.presented_on, command.symptom_onset_on, command.referred_on, today)
            values = new_pathway(command, patient["id"], patient["site"], stamp, policy) | {"version": 1}
            rows = RecordRows(
                pathway=tables.take(Pathway, values), governance_notified_on=governance.get(patient["site"])
            )
        else:
            assert rows is not None
            checks.check_pathway_command(command, record_from_rows(rows), today)
            if isinstance(command, c.ClosePathway):
                rows.pathway |= {"closed_on": command.closed_on, "close_reason": command.reason.value}
            else:
                written = row_for(command, rows.pathway["id"], stamp)
                assert written is not None
                kind, values = written
                rows.add(kind, tables.take(kind, values))
    assert rows is not None
    steps, windows, summary = plan_rows(rows.pathway["id"], record_from_rows(rows), policy)
    rows.pathway.update(summary)  # the queued pathway row itself
    for step in steps:
        tables.take(Step, step)
    for window in windows:
        tables.take(FlagWindowRow, window)
    return len(commands)
