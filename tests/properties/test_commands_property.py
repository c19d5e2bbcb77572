"""Every command driven with generated valid and invalid input (issue 6, item 1).

Properties, for each of the 16 commands (version 2 added record_safety_check):
- a valid payload (tests/properties/strategies.py: value lists from pathway.domain.vocabulary, dates inside
  the range the rules allow relative to the prepared pathway and the recording day, optional
  fields present, null or absent) is accepted, writes exactly one audit row (for this command, at
  the head of the chain), adds the command's own clinical row, moves the pathway's version by
  one, and `pathway.store.audit.verify` stays intact;
- an invalid payload (one mutation of a valid one, or a valid one against a state that breaks a
  rule) raises CommandRejected (NotFound for an unknown reference) naming the mutated field, with a
  one-line message that carries no NHS number, date of birth or name from the payload, and leaves
  the database exactly as it was: every table's row count, every pathway's version, the audit
  chain's head.

Suites: "default" (50 examples per command and property, SQLite, always run) and "thorough" (1000,
`@pytest.mark.slow`, run when PATHWAY_HYPOTHESIS_PROFILE=thorough); a PostgreSQL sample of 20 per
command and property with the default profile. Each test asserts the number of examples it really
executed; the table is printed at the end of the run (tests/properties/conftest.py).
"""

import ast
import functools
import random as random_module  # only to stand in for another thread's use
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from hypothesis import Phase, example, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine
from sqlmodel import Session

from pathway.domain.commands import COMMANDS, parse_command
from pathway.domain.text import normalise_reference
from pathway.errors import CommandRejected, NotFound
from pathway.services.commands import execute
from pathway.store import audit
from pathway.store.db import SessionFactory, make_engine, make_session_factory
from pathway.store.models import (
    AnticoagulationEventRow,
    AnticoagulationReview,
    AuditEvent,
    Consent,
    FilterOutcomeRow,
    FollowUpVisit,
    GovernanceNotice,
    MdtMeeting,
    Pathway,
    Patient,
    Procedure,
    ProcedureSchedule,
    RegistrySubmission,
    ResearchEnrolment,
    SafetyCheck,
)
from pathway.store.repository import table_of
from tests.conftest import ADMIN, NHS, RECORDED_AT, _empty_postgres
from tests.properties import (
    DEFAULT_PROFILE,
    EXAMPLE_COUNTS,
    POSTGRES_EXAMPLES,
    PROFILE_ENV,
    THOROUGH_PROFILE,
    ExampleCount,
    profile_settings,
    selected_profile,
)
from tests.properties.databases import (
    Snapshot,
    SqliteStates,
    build_state,
    session_snapshot,
    sqlite_snapshot,
)
from tests.properties.databases import rolled_back as postgres_rolled_back
from tests.properties.strategies import (
    FIELDS,
    OTHER_DIGIT_ZEROS,
    PATHWAY_COMMANDS,
    STATE_MUTATIONS,
    Case,
    invalid_case,
    mutations_for,
    valid_case,
    valid_nhs_number,
)
from tests.support.commands import valid_command

ALL_COMMANDS = tuple(COMMANDS)
# Hypothesis warns when the global `random` module's state moves while it draws an example, taking it
# for a strategy using `random`. Ours use none (test_strategies_do_not_use_the_random_module), but
# Prefect's client threads, left running by the flow tests, draw retry jitter from it at any moment:
# in a full run that made a rare example fail once and pass on replay (FlakyFailure).
pytestmark = pytest.mark.filterwarnings(
    "ignore:Do not use the `random` module inside strategies:hypothesis.errors.HypothesisDeprecationWarning"
)
SUITES = [
    pytest.param(DEFAULT_PROFILE, id="default"),
    pytest.param(
        THOROUGH_PROFILE,
        id="thorough",
        marks=[
            pytest.mark.slow,
            pytest.mark.skipif(
                selected_profile() != THOROUGH_PROFILE, reason=f"runs with {PROFILE_ENV}={THOROUGH_PROFILE}"
            ),
        ],
    ),
]

# The clinical row each command adds (close_pathway only changes the pathway row).
OWN_TABLE: dict[str, str | None] = {
    "register_patient": table_of(Patient).name,
    "record_diagnosis": table_of(Pathway).name,
    "notify_governance": table_of(GovernanceNotice).name,
    "start_anticoagulation": table_of(AnticoagulationEventRow).name,
    "stop_anticoagulation": table_of(AnticoagulationEventRow).name,
    "record_mdt": table_of(MdtMeeting).name,
    "enrol_research": table_of(ResearchEnrolment).name,
    "record_consent": table_of(Consent).name,
    "schedule_procedure": table_of(ProcedureSchedule).name,
    "record_procedure": table_of(Procedure).name,
    "submit_registry": table_of(RegistrySubmission).name,
    "record_follow_up": table_of(FollowUpVisit).name,
    "record_anticoagulation_review": table_of(AnticoagulationReview).name,
    "record_filter_outcome": table_of(FilterOutcomeRow).name,
    "close_pathway": None,
    "record_safety_check": table_of(SafetyCheck).name,
}
CLINICAL_TABLES = frozenset(name for name in OWN_TABLE.values() if name)
# What a rejection message must never look like (it is shown to the clinician as is).
INTERNALS = ("pydantic", "Traceback", "function-", "[type=", "Value error")


# --- one example on one backend ------------------------------------------------------------------

Example = tuple[SessionFactory, Callable[[], Snapshot], Snapshot]


class SqliteBackend:
    """Each example on a fresh copy of its state's template file."""

    def __init__(self, states: SqliteStates) -> None:
        self.states = states

    @contextmanager
    def example(self, state: str) -> Iterator[Example]:
        factory = self.states.reset(state)
        yield factory, lambda: sqlite_snapshot(self.states.work), self.states.snapshot(state)


class PostgresBackend:
    """The state committed once; each example inside an outer transaction rolled back after it."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine: Engine = make_engine(url)
        self.state: str | None = None
        self.before: Snapshot | None = None

    def prepare(self, state: str) -> None:
        _empty_postgres(self.url).dispose()
        factory = make_session_factory(self.engine)
        build_state(factory, state)
        self.state, self.before = state, session_snapshot(factory)

    @contextmanager
    def example(self, state: str) -> Iterator[Example]:
        assert state == self.state and self.before is not None, (state, self.state)
        with postgres_rolled_back(self.engine) as factory:
            yield factory, lambda: session_snapshot(factory), self.before


Backend = SqliteBackend | PostgresBackend


def check_valid(backend: Backend, case: Case) -> None:
    """Accepted; exactly one audit row, for this command, chained onto the previous head; the
    command's own row added; the pathway's version moved by one; the chain verifies."""
    name = case.payload["command"]
    with backend.example(case.state) as (factory, snapshot, before):
        outcome = execute(factory, ADMIN, case.payload, recorded_at=case.recorded_at)
        after = snapshot()
        assert outcome.command == name
        assert after.rows[table_of(AuditEvent).name] == before.rows[table_of(AuditEvent).name] + 1
        assert after.audit_head[0] == (before.audit_head[0] or 0) + 1 == outcome.audit_id
        with factory() as session:
            report = audit.verify(session)
            assert report.intact, report
            assert report.rows == after.rows[table_of(AuditEvent).name]
            row = session.get(AuditEvent, outcome.audit_id)
            assert row is not None
            assert (row.command, row.outcome, row.prev_hash) == (name, "accepted", before.audit_head[1])
        own = OWN_TABLE[name]
        for table in CLINICAL_TABLES:
            grown = 1 if table == own else 0
            assert after.rows[table] == before.rows[table] + grown, (table, before.rows, after.rows)
        _check_versions(case, before, after, outcome.version)


def _check_versions(case: Case, before: Snapshot, after: Snapshot, version: int | None) -> None:
    name, payload = case.payload["command"], case.payload
    if name in PATHWAY_COMMANDS:
        assert after.versions == before.versions | {"P1": before.versions["P1"] + 1}
        assert version == after.versions["P1"]
    elif name == "record_diagnosis":
        ref = normalise_reference(payload["pathway"])
        assert set(after.versions) == set(before.versions) | {ref}
        assert after.versions == before.versions | {ref: after.versions[ref]}
        assert version == after.versions[ref]
    else:
        assert after.versions == before.versions


def check_invalid(backend: Backend, case: Case) -> None:
    """Rejected with the right error naming the mutated field, a clean message, nothing written."""
    with backend.example(case.state) as (factory, snapshot, before):
        with pytest.raises(CommandRejected) as caught:
            execute(factory, ADMIN, case.payload, recorded_at=case.recorded_at)
        after = snapshot()
    rejected = caught.value
    assert type(rejected) is (NotFound if case.not_found else CommandRejected), (case.kind, str(rejected))
    root = rejected.field.split(".")[0]
    assert root in case.fields, (case.kind, str(rejected))
    known = set(case.payload) if isinstance(case.payload, dict) else set()
    name = case.payload.get("command") if isinstance(case.payload, dict) else None
    known |= set(FIELDS.get(name, {})) if isinstance(name, str) else set()
    assert root in known | {"command", "pathway"}, str(rejected)
    message = str(rejected)
    # Every broken rule at once, each `field: rule` (the first names the mutated field).
    assert all(rule.strip() for _field, rule in rejected.problems), message
    assert message == "; ".join(f"{field}: {rule}" for field, rule in rejected.problems), message
    assert "\n" not in message and not any(word in message for word in INTERNALS), message
    for identifier in identifiers(case.payload):
        assert identifier not in message, (identifier, message)
    assert after == before, (case.kind, before, after)


def identifiers(payload: Any) -> list[str]:
    """The patient identifiers of a register_patient payload (the only command that carries them):
    NHS number, date of birth and name, where distinctive enough that finding one in a message
    cannot be chance."""
    if not isinstance(payload, dict) or payload.get("command") != "register_patient":
        return []
    found = []
    nhs = payload.get("nhs_number")
    if isinstance(nhs, str):
        digits = "".join(ch for ch in nhs if ch.isdigit())
        found += [value for value in {nhs.strip(), digits} if len(value) >= 6]
    born = payload.get("date_of_birth")
    if isinstance(born, date):
        found.append(born.isoformat())
    elif isinstance(born, str) and len(born.strip()) >= 8:
        found.append(born.strip())
    name = payload.get("name")
    if isinstance(name, str) and len(name.strip()) >= 5:
        found.append(name.strip())
    return found


# --- the runs -------------------------------------------------------------------------------------


def run_property(
    label: str,
    name: str,
    suite: str,
    strategy: st.SearchStrategy[Case],
    check: Callable[[Case], None],
    *,
    postgres: bool = False,
) -> Counter[str]:
    """Run `check` on generated cases; assert the examples executed reach the profile's count.

    The PostgreSQL sample does not shrink a failure (each shrink step is a database round trip);
    its failing example is printed as found."""
    chosen = profile_settings(suite, POSTGRES_EXAMPLES if postgres else None)
    if postgres:
        chosen = settings(chosen, phases=[Phase.explicit, Phase.generate])
    count = ExampleCount(label, name, f"{suite}-postgres" if postgres else suite, chosen.max_examples)
    kinds: Counter[str] = Counter()

    @chosen
    @given(case=strategy)
    def property_(case: Case) -> None:
        count.executed += 1
        kinds[case.kind] += 1
        check(case)

    started = time.perf_counter()
    try:
        property_()
    finally:
        count.seconds = time.perf_counter() - started
        EXAMPLE_COUNTS.append(count)
    assert count.executed >= count.required, f"{count.executed} examples executed, {count.required} required"
    return kinds


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_execute_accepts_generated_valid_payload(states: SqliteStates, name: str, suite: str) -> None:
    backend = SqliteBackend(states)
    run_property("valid", name, suite, valid_case(name), functools.partial(check_valid, backend))


@pytest.mark.parametrize("suite", SUITES)
@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_execute_rejects_generated_invalid_payload_writing_nothing(states: SqliteStates, name: str, suite: str) -> None:
    backend = SqliteBackend(states)
    kinds = run_property("invalid", name, suite, invalid_case(name), functools.partial(check_invalid, backend))
    if suite == THOROUGH_PROFILE:
        # A thousand examples reach every mutation that applies to the command.
        assert set(kinds) == set(mutations_for(name)), set(mutations_for(name)) - set(kinds)


# --- PostgreSQL: a sample of each, with the default profile -----------------------------------------


@pytest.fixture(scope="module")
def postgres_backend(postgres_database: str) -> Iterator[PostgresBackend]:
    backend = PostgresBackend(postgres_database)
    yield backend
    backend.engine.dispose()


@pytest.mark.postgres
@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_execute_on_postgres_accepts_generated_valid_payload(postgres_backend: PostgresBackend, name: str) -> None:
    postgres_backend.prepare(name)
    check = functools.partial(check_valid, postgres_backend)
    run_property("valid", name, DEFAULT_PROFILE, valid_case(name), check, postgres=True)


@pytest.mark.postgres
@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_execute_on_postgres_rejects_generated_invalid_payload_writing_nothing(
    postgres_backend: PostgresBackend, name: str
) -> None:
    """As on SQLite, but only payload mutations: the examples share the one committed state."""
    postgres_backend.prepare(name)
    check = functools.partial(check_invalid, postgres_backend)
    strategy = invalid_case(name, state_mutations=False)
    kinds = run_property("invalid", name, DEFAULT_PROFILE, strategy, check, postgres=True)
    assert not set(kinds) & STATE_MUTATIONS


# --- text fields at their edges, on both databases ------------------------------------------------------

# Text fields whose value is a reference that must name the prepared patient or pathway.
_HELD_REFS = {("record_diagnosis", "patient")} | {(name, "pathway") for name in PATHWAY_COMMANDS}


def _text_fields(name: str) -> list[tuple[str, int]]:
    return [
        (field, kind.max_len)
        for field, kind in FIELDS[name].items()
        if kind.tag in ("text", "ref") and (name, field) not in _HELD_REFS
    ]


def _edge_failures(backend: Backend, name: str, value: Callable[[int], str]) -> list[str]:
    """Run the command with each of its text fields set to value(max length), one at a time; list
    every field whose command was neither accepted (with its value stored as given) nor rejected
    with a CommandRejected naming it."""
    failures = []
    for field, max_len in _text_fields(name):
        payload = valid_command(name) | {field: value(max_len)}
        with backend.example(name) as (factory, snapshot, before):
            try:
                execute(factory, ADMIN, payload, recorded_at=RECORDED_AT)
            except CommandRejected as rejected:
                if rejected.field != field:
                    failures.append(f"{name}.{field}: rejected naming {rejected.field!r}")
                if snapshot() != before:
                    failures.append(f"{name}.{field}: rejected but something was written")
            except Exception as error:  # any other error escaping the service is the finding
                first_line = str(getattr(error, "orig", None) or error).splitlines()[0]
                failures.append(
                    f"{name}.{field} ({len(payload[field])} characters): {type(error).__name__}: {first_line}"
                )
    return failures


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def backend(request: pytest.FixtureRequest, states: SqliteStates) -> Backend:
    if request.param == "sqlite":
        return SqliteBackend(states)
    made: PostgresBackend = request.getfixturevalue("postgres_backend")
    return made


def _all_edge_failures(backend: Backend, value: Callable[[int], str]) -> list[str]:
    failures = []
    for name in ALL_COMMANDS:
        if isinstance(backend, PostgresBackend):
            backend.prepare(name)
        failures += _edge_failures(backend, name, value)
    return failures


def test_execute_accepts_text_at_its_maximum_length(backend: Backend) -> None:
    """Every text field of every command as long as validation allows (Text 120, Ref 40, sites and
    external identifiers 80, leaflet 80, rationale 4000) is accepted: the database column must hold
    what validation lets through (on PostgreSQL a 120-character site, study, ethics or registry
    reference overflowed its 80-character column; found by this suite, since fixed)."""
    failures = _all_edge_failures(backend, lambda max_len: "x" * max_len)
    assert not failures, "\n".join(failures)


def test_execute_handles_nul_character_in_text(backend: Backend) -> None:
    """A NUL character (JSON "\\u0000") in any text field of any command is accepted or rejected
    naming the field, never a database error escaping the service (PostgreSQL text cannot hold it;
    found by this suite, now rejected as a control character)."""
    failures = _all_edge_failures(backend, lambda max_len: "North\x00Vale"[:max_len])
    assert not failures, "\n".join(failures)


# --- NHS numbers written in other digits -------------------------------------------------------------


@st.composite
def _nhs_in_other_digits(draw: st.DrawFn) -> str:
    ascii_digits = draw(st.one_of(st.just(NHS), valid_nhs_number().map(lambda n: n.replace(" ", ""))))
    zeros = draw(st.lists(st.sampled_from((0x30, *OTHER_DIGIT_ZEROS)), min_size=10, max_size=10))
    if all(zero == 0x30 for zero in zeros):
        zeros[draw(st.integers(0, 9))] = draw(st.sampled_from(OTHER_DIGIT_ZEROS))
    return "".join(chr(zero + int(digit)) for zero, digit in zip(zeros, ascii_digits, strict=True))


def test_register_patient_rejects_nhs_number_in_non_ascii_digits(states: SqliteStates) -> None:
    """An NHS number is 10 ASCII digits. Written in other digits (Arabic-Indic, fullwidth...; Python's
    \\d and int() accept them) it must be rejected: accepted, it was stored as given, escaped the
    already-registered check (the prepared patient's 9434765919 as '٩٤٣٤٧٦٥٩١٩' registered a second
    patient) and broke every export that expects ASCII. Found by this suite, since fixed."""
    backend = SqliteBackend(states)

    def check(nhs_number: str) -> None:
        payload = valid_command("register_patient") | {"nhs_number": nhs_number}
        case = Case(payload, RECORDED_AT, "register_patient", "non_ascii_nhs", frozenset({"nhs_number"}))
        check_invalid(backend, case)

    @profile_settings(DEFAULT_PROFILE, 25)
    @given(nhs_number=_nhs_in_other_digits())
    @example(nhs_number="".join(chr(0x0660 + int(d)) for d in NHS))
    def property_(nhs_number: str) -> None:
        check(nhs_number)

    property_()


def test_property_fields_cover_every_command_model() -> None:
    """The generators know every field of every command model (a new field must be generated too)."""
    for name, model in COMMANDS.items():
        assert set(FIELDS[name]) == set(model.model_fields), name


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_property_fields_match_command_text_limits(name: str) -> None:
    """The generators' text limits are the commands' own: max_len characters parse, one more does not."""
    for field, max_len in _text_fields(name) + [("pathway", 40)] * (name in PATHWAY_COMMANDS):
        parse_command(valid_command(name) | {field: "x" * max_len})
        with pytest.raises(CommandRejected) as caught:
            parse_command(valid_command(name) | {field: "x" * (max_len + 1)})
        assert caught.value.field == field


@pytest.mark.postgres
def test_postgres_rollback_helper_leaves_nothing(postgres_backend: PostgresBackend) -> None:
    """The PostgreSQL harness itself: an accepted command inside an example is gone afterwards."""
    postgres_backend.prepare("close_pathway")
    with postgres_backend.example("close_pathway") as (factory, snapshot, before):
        execute(factory, ADMIN, valid_command("close_pathway"), recorded_at=RECORDED_AT)
        assert snapshot() != before
    with Session(postgres_backend.engine) as session:
        assert session_snapshot(lambda: session) == before


def test_strategies_do_not_use_the_random_module() -> None:
    """What makes ignoring hypothesis's warning about the `random` module (pytestmark above) safe."""
    for path in [p for p in Path(__file__).parent.glob("*.py") if not p.name.startswith("test_")]:
        tree = ast.parse(path.read_text())
        imported = {
            alias.name
            for node in ast.walk(tree)
            if isinstance(node, ast.Import | ast.ImportFrom)
            for alias in node.names
            if isinstance(node, ast.Import) or node.module == "random"
        }
        froms = {node.module for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert "random" not in imported and "random" not in froms, path.name


def test_a_thread_drawing_from_the_random_module_does_not_fail_the_properties(states: SqliteStates) -> None:
    """As Prefect's client threads do during a full run: the properties still hold, every example runs."""
    stop = threading.Event()

    def draw() -> None:
        while not stop.is_set():
            random_module.random()

    drawer = threading.Thread(target=draw, daemon=True)
    drawer.start()
    try:
        kinds = run_property(
            "invalid",
            "notify_governance",
            DEFAULT_PROFILE,
            invalid_case("notify_governance"),
            functools.partial(check_invalid, SqliteBackend(states)),
        )
    finally:
        stop.set()
        drawer.join()
    assert sum(kinds.values()) >= 50
