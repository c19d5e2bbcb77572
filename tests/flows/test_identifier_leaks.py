"""No patient identifier leaves the record: the real flows on a synthetic cohort, scanned everywhere.

The patient-pathway flow (a few pathways, and one unknown reference so a failed run's message is
there too), the reminder sweep and the governance digest run under the Prefect test harness on a
synthetic demo cohort. Then every flow run and task run is read back through the Prefect client
(name, parameters, every state's name and message, the result a run returned) with the runs' logs,
the log records captured here, the outbox and digest files, and the messages of rejected commands
(services and `pathway apply`). None may hold a patient's name, NHS number (plain or spaced) or date
of birth (ISO or dd/mm/yyyy). The identifiers are read from the database's patient table, so the scan
looks for what is really stored.

Result persistence: the flows set no `persist_result` and production sets no
PREFECT_RESULTS_PERSIST_BY_DEFAULT, so results are not persisted; the first part runs with those
settings, scans what each run returns, and checks that the only records stored are failed runs'
exceptions (Prefect keeps those whatever the setting, under PREFECT_LOCAL_STORAGE_PATH), which are
scanned too. The second part turns persistence on, as a deployment might, and scans every stored
result record as Prefect loads it.

The count of rows and strings scanned is printed (`pytest -rP` shows it) and recorded as the test's
`rows_scanned_for_leaks` property.
"""

import asyncio
import base64
import json
import logging
import pickle
import pickletools
import re
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import asdict, is_dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from uuid import UUID

import pytest
from pydantic import BaseModel
from sqlmodel import select
from typer.testing import CliRunner

from flows.governance_digest import governance_digest
from flows.patient_pathway import STAGE_TASKS, patient_pathway
from flows.reminder_sweep import reminder_sweep, start_pathway_runs, sweep_reminders
from pathway.cli.main import app
from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.errors import PathwayError
from pathway.services.bulk_load import load_cohort
from pathway.services.commands import execute
from pathway.store.db import SessionFactory
from pathway.store.models import Pathway, Patient
from tests.conftest import ADMIN, diagnose

pytestmark = [pytest.mark.prefect, pytest.mark.usefixtures("prefect_harness")]
COHORT_DAY = date(2026, 6, 15)
PATIENTS = 40
DB_FILES = re.compile(r"\.db(-wal|-shm|-journal)?$")


# --- the scanner -----------------------------------------------------------------------------------


def spaced(nhs: str) -> str:
    return f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}"


class Scanner:
    """Finds identifiers in strings and counts what it scanned, by source."""

    def __init__(self, names: Iterable[str], nhs_numbers: Iterable[str], births: Iterable[date]) -> None:
        forms = set(names)
        for nhs in nhs_numbers:
            forms |= {nhs, spaced(nhs)}
        for born in births:
            forms |= {born.isoformat(), born.strftime("%d/%m/%Y")}
        self.forms = frozenset(forms)
        self._pattern = re.compile("|".join(re.escape(f) for f in sorted(self.forms, key=len, reverse=True)))
        self.rows: Counter[str] = Counter()  # records read (a run, a log line, a file line...)
        self.strings: Counter[str] = Counter()  # strings looked through
        self.hits: list[tuple[str, str, str]] = []

    def scan(self, source: str, value: Any) -> None:
        """One row: every string in `value` (dates written both ways, mappings' keys and values)."""
        self.rows[source] += 1
        for text in strings(value):
            self.strings[source] += 1
            for match in self._pattern.finditer(text):
                self.hits.append((source, match.group(), text[max(0, match.start() - 60) : match.end() + 60]))

    def summary(self) -> str:
        parts = ", ".join(f"{source} {self.rows[source]}/{self.strings[source]}" for source in sorted(self.rows))
        return (
            f"rows scanned for leaks: {sum(self.rows.values())} ({sum(self.strings.values())} strings; "
            f"{len(self.forms)} identifier forms); rows/strings by source: {parts}"
        )


def strings(value: Any) -> Iterator[str]:
    if value is None or isinstance(value, bool | int | float | UUID):
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, bytes):
        yield value.decode("utf-8", errors="replace")
    elif isinstance(value, datetime):
        yield value.isoformat()
    elif isinstance(value, date):
        yield value.isoformat()
        yield value.strftime("%d/%m/%Y")
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings(key)
            yield from strings(item)
    elif isinstance(value, list | tuple | set | frozenset):
        for item in value:
            yield from strings(item)
    elif isinstance(value, BaseModel):
        yield from strings(value.model_dump())
    elif is_dataclass(value) and not isinstance(value, type):
        yield from strings(asdict(value))
    elif isinstance(value, BaseException):
        yield str(value)
        yield repr(value)
    else:
        yield repr(value)


def cohort_scanner(factory: SessionFactory) -> Scanner:
    with factory() as session:
        patients = session.exec(select(Patient)).all()
    names = [p.name for p in patients if p.name]
    assert len(patients) == PATIENTS and len(names) == PATIENTS  # every synthetic patient has a name
    return Scanner(names, [p.nhs_number for p in patients], [p.date_of_birth for p in patients])


def test_the_scanner_finds_each_identifier_form_wherever_it_is_planted() -> None:
    """The premise of the scan: a leak of any form, nested anywhere, is found and counted."""
    scanner = Scanner(["Alex Testcase"], ["9990000018"], [date(1961, 2, 3)])
    planted: list[Any] = [
        "sent to Alex Testcase",
        "nhs 9990000018 here",
        "nhs 999 000 0018 here",
        {"born": "1961-02-03"},
        ["x", ("born 03/02/1961",)],
        {"when": date(1961, 2, 3)},
        ValueError("patient 9990000018 rejected"),
        b"raw 999 000 0018",
    ]
    for value in planted:
        before = len(scanner.hits)
        scanner.scan("planted", value)
        assert len(scanner.hits) > before, value
    scanner.scan("clean", {"pathway": "DVT-0000001", "as_of": date(2026, 6, 15), "nhs": "9990000026"})
    assert {source for source, _, _ in scanner.hits} == {"planted"}
    assert scanner.rows == Counter({"planted": len(planted), "clean": 1})
    assert "rows scanned for leaks: 9" in scanner.summary()


def test_a_stored_failure_loads_back() -> None:
    from pathway.errors import CommandRejected, ConflictError, NotFound

    for error in (CommandRejected("field", "rule"), NotFound("pathway", "no pathway"), ConflictError("pathway P1")):
        loaded = pickle.loads(pickle.dumps(error))
        assert (type(loaded), str(loaded), vars(loaded)) == (type(error), str(error), vars(error))


# --- reading back what Prefect holds ----------------------------------------------------------------


async def _prefect_records(since: datetime) -> dict[str, list[Any]]:
    """Every flow run expected to start since `since`, its task runs, every state of both, and their logs."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterExpectedStartTime,
        FlowRunFilterId,
        LogFilter,
        LogFilterFlowRunId,
    )
    from prefect.client.schemas.sorting import FlowRunSort, LogSort, TaskRunSort

    async with get_client() as client:
        flow_runs: list[Any] = await client.read_flow_runs(
            flow_run_filter=FlowRunFilter(expected_start_time=FlowRunFilterExpectedStartTime(after_=since)),
            sort=FlowRunSort.ID_DESC,
            limit=200,
        )
        ids = [run.id for run in flow_runs]
        by_id = FlowRunFilter(id=FlowRunFilterId(any_=ids))
        task_runs: list[Any] = []
        while batch := await client.read_task_runs(
            flow_run_filter=by_id, sort=TaskRunSort.ID_DESC, limit=200, offset=len(task_runs)
        ):
            task_runs += batch
        states: list[Any] = []
        for run in flow_runs:
            states += await client.read_flow_run_states(run.id)
        for task_run in task_runs:
            states += await client.read_task_run_states(task_run.id)
        logs: list[Any] = []
        log_filter = LogFilter(flow_run_id=LogFilterFlowRunId(any_=ids))
        while page := await client.read_logs(
            log_filter=log_filter, sort=LogSort.TIMESTAMP_ASC, limit=200, offset=len(logs)
        ):
            logs += page
    return {"flow_runs": flow_runs, "task_runs": task_runs, "states": states, "logs": logs}


def scan_prefect(scanner: Scanner, since: datetime) -> dict[str, list[Any]]:
    records = asyncio.run(_prefect_records(since))
    # Whole records as the API returns them: name, parameters, tags, context, state, message, data...
    for kind in ("flow_runs", "task_runs", "states", "logs"):
        for record in records[kind]:
            scanner.scan(f"prefect {kind}", record.model_dump(mode="json"))
    return records


def scan_files(scanner: Scanner, home: Path, skip: tuple[Path, ...]) -> list[Path]:
    """Every file the flows wrote under PATHWAY_HOME (outbox, digests...), line by line."""
    files = [
        p
        for p in sorted(home.rglob("*"))
        if p.is_file() and not DB_FILES.search(p.name) and not any(folder in p.parents for folder in skip)
    ]
    for path in files:
        for line in path.read_bytes().splitlines():
            scanner.scan(f"file {path.relative_to(home).parts[0]}", line)
    return files


def pickled_strings(data: bytes) -> list[str]:
    """Every string a pickle holds, read from its opcodes without building any object."""
    return [
        arg if isinstance(arg, str) else arg.decode("utf-8", errors="replace")
        for _, arg, _ in pickletools.genops(data)
        if isinstance(arg, str | bytes)
    ]


def scan_results(scanner: Scanner, storage: Path, source: str) -> list[Any]:
    """Every persisted result record, loaded as Prefect loads it; returns the values.

    A failed run's exception is stored pickled (base64, bare or inside a JSON record). The tracker's
    own errors cannot be unpickled (CommandRejected.__init__ takes two arguments; see
    test_a_stored_failure_loads_back), so such a record is read from its pickle's opcodes instead.
    """
    from prefect._internal.result_records import ResultRecord
    from prefect.serializers import PickleSerializer

    values: list[Any] = []
    for path in sorted(p for p in storage.rglob("*") if p.is_file()):
        raw = path.read_bytes()
        scanner.scan(f"{source} (raw)", raw)
        value: Any
        try:
            value = ResultRecord.deserialize(raw, backup_serializer=PickleSerializer()).result
        except TypeError:  # the pickle inside: bare, or in a JSON record's "result"
            try:
                pickled = json.loads(raw)["result"]
            except (ValueError, KeyError, TypeError):
                pickled = raw
            value = pickled_strings(base64.b64decode(pickled))
        scanner.scan(source, value)
        values.append(value)
    return values


# --- the flows, the commands, the scan -------------------------------------------------------------


def chosen_pathways(factory: SessionFactory) -> list[str]:
    """One pathway per stage the cohort reached (up to five), so several stages' automation runs."""
    with factory() as session:
        rows = session.exec(select(Pathway.ref, Pathway.stage).order_by(Pathway.ref)).all()
    first_per_stage = {stage: ref for ref, stage in reversed(rows)}
    return sorted(first_per_stage.values())[:5]


def run_the_flows(refs: list[str]) -> list[Any]:
    """Every flow once, returning their final states; one patient-pathway run fails on purpose."""
    states: list[Any] = [patient_pathway(ref, as_of=COHORT_DAY, return_state=True) for ref in refs]
    states.append(patient_pathway("DVT-NO-SUCH", as_of=COHORT_DAY, return_state=True))
    states.append(reminder_sweep(as_of=COHORT_DAY, return_state=True))
    states.append(governance_digest(as_of=COHORT_DAY, return_state=True))
    assert [s.is_completed() for s in states] == [True] * len(refs) + [False, True, True], states
    return states


def rejected_commands(factory: SessionFactory, home: Path) -> list[str]:
    """Commands carrying a cohort patient's identifiers, each rejected; returns every message shown."""
    with factory() as session:
        first, second = session.exec(select(Patient).order_by(Patient.ref).limit(2)).all()
    base: dict[str, Any] = {"command": "register_patient", "sex": "female", "site": "North Vale General"}
    bad_digit = first.nhs_number[:9] + str((int(first.nhs_number[9]) + 1) % 10)
    commands: list[dict[str, Any]] = [
        # another patient's NHS number, written with spaces, with a cohort name and date of birth
        base
        | {"patient": "NEW-1", "nhs_number": spaced(second.nhs_number), "name": first.name}
        | {"date_of_birth": first.date_of_birth.isoformat()},
        # a date of birth in the future, under a cohort name
        base | {"patient": "NEW-2", "nhs_number": "9434765919", "name": second.name, "date_of_birth": "2099-01-01"},
        # an NHS number one digit off a cohort patient's (a wrong check digit)
        base | {"patient": "NEW-3", "nhs_number": bad_digit, "date_of_birth": first.date_of_birth.isoformat()},
        # a reference already registered
        base | {"patient": first.ref, "nhs_number": "9434765919", "name": first.name, "date_of_birth": "1970-03-04"},
        # an unknown patient's pathway
        diagnose(pathway="NEW-P", patient="NO-SUCH"),
    ]
    messages: list[str] = []
    at = datetime(2026, 6, 15, 11, 0, tzinfo=UTC)
    for payload in commands:
        with pytest.raises(PathwayError) as refused:
            execute(factory, ADMIN, payload, recorded_at=at)
        messages += [str(refused.value), repr(refused.value)]
    with pytest.raises(PathwayError) as denied:  # a role that may not register, with identifiers
        execute(factory, Actor("audit-1", Role.auditor), commands[1] | {"date_of_birth": "1970-03-04"}, recorded_at=at)
    messages += [str(denied.value), repr(denied.value)]
    log = home / "rejected-commands.jsonl"
    log.write_text("".join(json.dumps(c) + "\n" for c in commands))
    applied = CliRunner().invoke(app, ["apply", str(log)])
    log.unlink()  # it holds identifiers on purpose: not part of the file scan
    assert applied.exit_code == 1 and "0 accepted, 5 rejected" in applied.stderr, applied.stderr
    messages += applied.stderr.splitlines() + applied.stdout.splitlines()
    return messages


def test_no_identifier_in_prefect_runs_logs_results_files_or_rejections(
    flow_database: SessionFactory,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
    record_property: Any,
) -> None:
    from prefect.settings import (
        PREFECT_LOCAL_STORAGE_PATH,
        PREFECT_RESULTS_PERSIST_BY_DEFAULT,
        temporary_settings,
    )

    load_cohort(flow_database, patients=PATIENTS, seed=11, today=COHORT_DAY, actor=ADMIN)
    scanner = cohort_scanner(flow_database)
    refs = chosen_pathways(flow_database)
    assert len(refs) >= 3, refs
    caplog.set_level(logging.DEBUG)
    since = datetime.now(UTC) - timedelta(seconds=1)

    # Part 1: as in production. Nothing in flows/ asks for persisted results, and the default is off.
    flows_and_tasks: list[Any] = [
        patient_pathway,
        reminder_sweep,
        governance_digest,
        start_pathway_runs,
        sweep_reminders,
    ]
    assert [f.persist_result for f in [*flows_and_tasks, *STAGE_TASKS.values()]] == [None] * (
        len(flows_and_tasks) + len(STAGE_TASKS)
    )
    storage = tmp_path / "prefect-results"
    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: storage}):
        assert PREFECT_RESULTS_PERSIST_BY_DEFAULT.value() is False
        states = run_the_flows(refs)
    for state in states:
        returned = state.result(raise_on_failure=False)
        scanner.scan("flow result (returned)", [state.name, state.message, returned])
    sent = states[-2].result()
    assert sent["sent"] > 0  # the sweep did send reminders: the outbox has lines to scan
    # No result is persisted but a failed run's exception, which Prefect always stores (here the
    # unknown pathway's flow run and its first stage task: one stored exception shared by both).
    stored = scan_results(scanner, storage, "persisted exception (production settings)")
    assert stored and all("NotFound" in repr(value) for value in stored), stored

    # Part 2: the same flows with result persistence on; every stored record is scanned.
    persisting = tmp_path / "prefect-results-persisted"
    with temporary_settings(updates={PREFECT_LOCAL_STORAGE_PATH: persisting, PREFECT_RESULTS_PERSIST_BY_DEFAULT: True}):
        run_the_flows(refs)
    persisted = scan_results(scanner, persisting, "persisted result (persistence on)")
    # Each completed flow run's result (the stage tasks, NO_CACHE, keep theirs in memory: their
    # reports are the pathway flow's result, scanned here).
    assert len(persisted) >= len(refs) + 2
    reports = [v for v in persisted if isinstance(v, list) and v and isinstance(v[0], dict)]
    assert {report[0]["pathway"] for report in reports} == set(refs)  # the stage reports were stored

    records = scan_prefect(scanner, since)
    pathway_runs = [
        r for r in records["flow_runs"] if r.parameters.get("ref") in refs and r.state_type.value == "COMPLETED"
    ]
    assert len(pathway_runs) == 2 * len(refs)  # the read-back found this test's runs
    assert any(r.state_type.value == "FAILED" and r.state.message for r in records["flow_runs"])
    assert any("evaluated at 2026-06-15" in log.message for log in records["logs"])
    # The services' structured lines (pathway.logs) reach the runs' logs in the Prefect UI, scanned above.
    assert any(log.name.startswith("pathway.") and '"reminder sweep done"' in log.message for log in records["logs"])

    for message in rejected_commands(flow_database, tmp_path):
        scanner.scan("rejected command message", message)
    files = scan_files(scanner, tmp_path, skip=(storage, persisting))
    assert {"outbox.jsonl"} <= {p.name for p in files} and any(p.parent.name == "digests" for p in files)
    for record in caplog.records:
        scanner.scan("captured log record", [record.name, record.getMessage(), record.exc_text])
    assert "reminder sweep at 2026-06-15" in caplog.text  # the flows' own log lines were captured
    structured = {json.loads(r.getMessage())["event"] for r in caplog.records if r.name.startswith("pathway.")}
    assert {"reminder sweep done", "command rejected"} <= structured  # and the services' structured ones

    print(scanner.summary())
    record_property("rows_scanned_for_leaks", sum(scanner.rows.values()))
    record_property("strings_scanned_for_leaks", sum(scanner.strings.values()))
    assert scanner.hits == []
    # The positive control on real data: the scanner finds every form of every patient's identifiers
    # in the patient table, so the scan above looked for what is really stored.
    control = cohort_scanner(flow_database)
    with flow_database() as session:
        patients = session.exec(select(Patient)).all()
    for patient in patients:
        before = len(control.hits)
        control.scan("patient table", patient.model_dump())
        born = patient.date_of_birth
        wanted = {patient.name, patient.nhs_number, born.isoformat(), born.strftime("%d/%m/%Y")}
        assert wanted <= {hit[1] for hit in control.hits[before:]}, patient.ref
