"""Every rejection the commands make (docs/rules.md; rejected with a clear message and nothing written).

Each test asserts the exception type, that the error names the field and says the rule, and that
nothing was written: the row count of every table and every pathway's version are unchanged.
Where a rule has a boundary, a control shows the same command accepted once the rule is met, so
the rejection is known to come from that rule and not from a broken set-up.
"""

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from typer.testing import CliRunner

from pathway.cli.main import app
from pathway.domain.clock import london_today
from pathway.errors import CommandRejected, NotFound
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from tests.conftest import (
    MDT_ATTENDEES,
    NHS,
    consent,
    diagnose,
    governance,
    mdt,
    open_pathway,
    procedure,
    register,
    run,
    start_anticoagulation,
)
from tests.support.commands import (
    ALL_COMMANDS,
    BEFORE_PRESENTED,
    EVENT_DATE,
    NOT_PLANNED,
    OTHER_NHS,
    PATHWAY_COMMANDS,
    TODAY,
    TOMORROW,
    assert_rejected,
    close,
    database_state,
    follow_up,
    prepare,
    valid_command,
    villalta,
    without,
)


@pytest.mark.parametrize("name", ALL_COMMANDS)
def test_prepare_state_accepts_each_valid_command(factory: SessionFactory, name: str) -> None:
    """The premise of the tests below: each valid command is accepted in its prepared state."""
    prepare(factory, name)
    before = database_state(factory)
    outcome = run(factory, valid_command(name))
    assert outcome.command == name
    assert database_state(factory) != before


# --- identifiers -------------------------------------------------------------------------------


def test_register_patient_rejects_bad_nhs_check_digit(factory: SessionFactory) -> None:
    assert_rejected(factory, register(nhs="9434765918"), field="nhs_number", says=("check digit",))


@pytest.mark.parametrize("nhs", ["943476591", "94347659190", "94347659AB"])
def test_register_patient_rejects_nhs_number_not_ten_digits(factory: SessionFactory, nhs: str) -> None:
    assert_rejected(factory, register(nhs=nhs), field="nhs_number", says=("10 digits",))


@pytest.mark.parametrize("written", [NHS, f"{NHS[:3]} {NHS[3:6]} {NHS[6:]}"], ids=["plain", "spaced"])
def test_register_patient_rejects_nhs_number_of_another_patient(factory: SessionFactory, written: str) -> None:
    run(factory, register(patient="H100"))
    rejected = assert_rejected(
        factory,
        register(patient="H200", nhs=written),
        field="nhs_number",
        says=("already registered", "another patient"),
    )
    assert NHS not in str(rejected) and written not in str(rejected)


def test_register_patient_rejects_date_of_birth_in_future(factory: SessionFactory) -> None:
    assert_rejected(factory, register(date_of_birth=TOMORROW), field="date_of_birth", says=("future",))
    run(factory, register(date_of_birth=TODAY.isoformat()))


# --- references and closed pathways -------------------------------------------------------------


def test_record_diagnosis_rejects_unknown_patient(factory: SessionFactory) -> None:
    run(factory, register(patient="H100"))
    assert_rejected(factory, diagnose(patient="H999"), field="patient", says=("no patient",), error=NotFound)


@pytest.mark.parametrize("name", PATHWAY_COMMANDS)
def test_pathway_command_rejects_unknown_pathway(factory: SessionFactory, name: str) -> None:
    prepare(factory, name)
    payload = valid_command(name) | {"pathway": "P404"}
    assert_rejected(factory, payload, field="pathway", says=("no pathway",), error=NotFound)


@pytest.mark.parametrize("name", PATHWAY_COMMANDS)
def test_pathway_command_rejects_closed_pathway(factory: SessionFactory, name: str) -> None:
    prepare(factory, name)
    close(factory, name)
    assert_rejected(factory, valid_command(name), field="pathway", says=("closed",))


# --- dates -----------------------------------------------------------------------------------


def test_record_diagnosis_rejects_symptom_onset_after_presentation(factory: SessionFactory) -> None:
    run(factory, register())
    payload = diagnose(symptom_onset_on="2026-06-02")
    assert_rejected(factory, payload, field="symptom_onset_on", says=("after presented_on",))


def test_record_diagnosis_rejects_referral_before_presentation(factory: SessionFactory) -> None:
    run(factory, register())
    payload = diagnose(referred_on=BEFORE_PRESENTED)
    assert_rejected(factory, payload, field="referred_on", says=("before presented_on",))


def test_record_diagnosis_accepts_symptom_onset_before_presentation(factory: SessionFactory) -> None:
    """Symptom onset is the one date of a pathway that may lie before presented_on."""
    run(factory, register())
    before = database_state(factory)
    outcome = run(factory, diagnose(symptom_onset_on="2026-05-20"))
    assert outcome.pathway == "P1"
    assert database_state(factory)["rows"]["pathway"] == before["rows"]["pathway"] + 1


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (diagnose(presented=TODAY + timedelta(days=1)), "presented_on"),
        (diagnose(referred_on=TOMORROW), "referred_on"),
    ],
    ids=["presented_on", "referred_on"],
)
def test_record_diagnosis_rejects_date_after_recording_day(
    factory: SessionFactory, payload: dict[str, Any], field: str
) -> None:
    run(factory, register())
    assert_rejected(factory, payload, field=field, says=("after today",))


@pytest.mark.parametrize("name", list(EVENT_DATE))
def test_pathway_command_rejects_event_date_before_presentation(factory: SessionFactory, name: str) -> None:
    field, good_day = EVENT_DATE[name]
    prepare(factory, name)
    assert_rejected(
        factory, valid_command(name, BEFORE_PRESENTED), field=field, says=("before presented_on", "2026-06-01")
    )
    run(factory, valid_command(name, good_day))


@pytest.mark.parametrize("name", NOT_PLANNED)
def test_pathway_command_rejects_event_date_after_recording_day(factory: SessionFactory, name: str) -> None:
    field, _good_day = EVENT_DATE[name]
    prepare(factory, name)
    assert_rejected(factory, valid_command(name, TOMORROW), field=field, says=("after today", TODAY.isoformat()))
    # The recording day itself is allowed.
    run(factory, valid_command(name, TODAY.isoformat()))


@pytest.mark.parametrize("scheduled_on", [TOMORROW, "2026-07-30"])
def test_schedule_procedure_accepts_planned_date_ahead(factory: SessionFactory, scheduled_on: str) -> None:
    prepare(factory, "schedule_procedure")
    before = database_state(factory)
    outcome = run(factory, valid_command("schedule_procedure", scheduled_on))
    assert outcome.command == "schedule_procedure"
    after = database_state(factory)["rows"]
    assert after["procedure_schedule"] == before["rows"]["procedure_schedule"] + 1
    assert after["audit_event"] == before["rows"]["audit_event"] + 1


def test_notify_governance_rejects_notice_after_recording_day(factory: SessionFactory) -> None:
    assert_rejected(factory, governance(notified_on=TOMORROW), field="notified_on", says=("after today",))


def test_event_date_limit_is_the_london_recording_day(factory: SessionFactory) -> None:
    """Time: 'today' is the calendar day in Europe/London (BST in June) at the UTC recording instant."""
    open_pathway(factory)
    late_evening_london = datetime(2026, 6, 15, 22, 59, tzinfo=UTC)  # 23:59 BST, still 15 June
    assert_rejected(
        factory,
        start_anticoagulation(started_on=TOMORROW),
        field="started_on",
        says=("after today",),
        at=late_evening_london,
    )
    after_midnight_london = datetime(2026, 6, 15, 23, 30, tzinfo=UTC)  # 00:30 BST on 16 June
    version = database_state(factory)["pathway_versions"]["P1"]
    outcome = run(factory, start_anticoagulation(started_on=TOMORROW), at=after_midnight_london)
    assert outcome.version == version + 1


# --- MDT quorum and the procedural decision ---------------------------------------------------------


@pytest.mark.parametrize("missing", ["vascular_surgeon", "interventional_radiologist", "haematologist"])
def test_record_mdt_rejects_attendees_missing_required_role(factory: SessionFactory, missing: str) -> None:
    open_pathway(factory)
    attendees = [a for a in MDT_ATTENDEES if a["role"] != missing] + [{"name": "Nurse N", "role": "nurse"}]
    assert_rejected(factory, mdt(attendees=attendees), field="attendees", says=(missing, "HTG516 3.8"))


@pytest.mark.parametrize("name", ["record_consent", "enrol_research", "schedule_procedure", "record_procedure"])
@pytest.mark.parametrize("mdt_state", ["no_mdt", "anticoagulation_only"])
def test_procedural_command_rejects_without_procedural_decision(
    factory: SessionFactory, name: str, mdt_state: str
) -> None:
    run(factory, governance())
    open_pathway(factory)
    if mdt_state == "anticoagulation_only":
        run(factory, mdt(decision="anticoagulation_only"))
    rejected = assert_rejected(factory, valid_command(name), field="pathway", says=("pmt, cdt or open_thrombectomy",))
    assert ("no MDT yet" if mdt_state == "no_mdt" else "anticoagulation_only") in rejected.rule


@pytest.mark.parametrize("name", ["record_consent", "enrol_research", "schedule_procedure", "record_procedure"])
def test_procedural_command_rejects_after_decision_changed_to_anticoagulation_only(
    factory: SessionFactory, name: str
) -> None:
    """The MDT in force is the latest: a consented PMT plan later changed to anticoagulation only."""
    run(factory, governance())
    open_pathway(factory)
    run(factory, mdt(held_on="2026-06-02"))
    run(factory, consent(consented_on="2026-06-03"))
    run(factory, mdt(held_on="2026-06-04", decision="anticoagulation_only"))
    assert_rejected(factory, valid_command(name), field="pathway", says=("anticoagulation_only",))


# --- the procedure's preconditions ------------------------------------------------------------------


def test_record_procedure_rejects_without_any_consent(factory: SessionFactory) -> None:
    prepare(factory, "schedule_procedure")  # notice, MDT pmt, no consent
    assert_rejected(factory, procedure(), field="performed_on", says=("consent",))


def test_record_procedure_rejects_consent_dated_after_procedure(factory: SessionFactory) -> None:
    prepare(factory, "schedule_procedure")
    run(factory, consent(consented_on="2026-06-06"))
    assert_rejected(factory, procedure(performed_on="2026-06-05"), field="performed_on", says=("consent",))
    # Consent on the day of the procedure is "on or before performed_on".
    run(factory, procedure(performed_on="2026-06-06"))


def _consented_iliofemoral_pmt(factory: SessionFactory, *, decision: str = "pmt") -> None:
    open_pathway(factory)  # common_femoral: special_arrangements
    run(factory, mdt(decision=decision))
    run(factory, consent())


@pytest.mark.parametrize("technique", ["pmt", "pmt_with_thrombolysis"])
@pytest.mark.parametrize("notice", ["none", "after_procedure", "other_site"])
def test_record_procedure_rejects_pmt_without_prior_governance_notice(
    factory: SessionFactory, technique: str, notice: str
) -> None:
    if notice == "after_procedure":
        run(factory, governance(notified_on="2026-06-10"))
    if notice == "other_site":
        run(factory, governance(site="South Vale"))
    _consented_iliofemoral_pmt(factory)
    assert_rejected(
        factory, procedure(performed_on="2026-06-05", technique=technique), field="performed_on", says=("governance",)
    )


def test_record_procedure_accepts_cdt_on_special_arrangements_without_notice(factory: SessionFactory) -> None:
    _consented_iliofemoral_pmt(factory)
    assert_rejected(factory, procedure(technique="pmt"), field="performed_on", says=("governance",))
    outcome = run(factory, procedure(technique="cdt", device="Synthetic infusion catheter"))
    assert outcome.version is not None


def test_record_procedure_accepts_pmt_with_notice_on_procedure_day(factory: SessionFactory) -> None:
    run(factory, governance(notified_on="2026-06-05"))
    _consented_iliofemoral_pmt(factory)
    outcome = run(factory, procedure(performed_on="2026-06-05"))
    assert outcome.command == "record_procedure"


@pytest.mark.parametrize("technique", ["pmt", "pmt_with_thrombolysis"])
def test_record_procedure_rejects_research_only_pmt_without_enrolment(factory: SessionFactory, technique: str) -> None:
    run(factory, governance())
    open_pathway(factory, veins=["femoral", "popliteal"])  # not into the common femoral vein: research_only
    run(factory, mdt())
    run(factory, consent())
    # Thrombolysis outside NG158's criteria (not iliofemoral) needs its rationale too (version 2).
    rationale = {"outside_criteria_rationale": "Within the study protocol"} if technique != "pmt" else {}
    assert_rejected(factory, procedure(technique=technique, **rationale), field="performed_on", says=("research",))
    run(factory, valid_command("enrol_research", "2026-06-04"))
    run(factory, procedure(technique=technique, **rationale))


# --- after the procedure ------------------------------------------------------------------------


def test_submit_registry_rejects_without_procedure(factory: SessionFactory) -> None:
    prepare(factory, "record_procedure")  # consented, no procedure yet
    assert_rejected(factory, valid_command("submit_registry"), field="pathway", says=("no procedure",))


def test_submit_registry_rejects_date_before_procedure(factory: SessionFactory) -> None:
    prepare(factory, "submit_registry")  # procedure on 2026-06-05
    assert_rejected(
        factory, valid_command("submit_registry", "2026-06-04"), field="submitted_on", says=("before the procedure",)
    )
    run(factory, valid_command("submit_registry", "2026-06-05"))


@pytest.mark.parametrize("visit", ["early", "week6"])
def test_record_follow_up_rejects_procedural_visit_without_procedure(factory: SessionFactory, visit: str) -> None:
    prepare(factory, "record_procedure")
    assert_rejected(factory, follow_up(visit, "2026-06-10"), field="pathway", says=("no procedure",))


@pytest.mark.parametrize("visit", ["early", "week6"])
def test_record_follow_up_rejects_procedural_visit_before_procedure(factory: SessionFactory, visit: str) -> None:
    prepare(factory, "record_follow_up")  # procedure on 2026-06-05
    assert_rejected(factory, follow_up(visit, "2026-06-04"), field="seen_on", says=("before the procedure",))
    run(factory, follow_up(visit, "2026-06-05"))


@pytest.mark.parametrize("visit", ["month6", "month12"])
def test_record_follow_up_accepts_non_procedural_visit_without_procedure(factory: SessionFactory, visit: str) -> None:
    prepare(factory, "record_procedure")  # no procedure
    before = database_state(factory)
    run(factory, follow_up(visit, "2026-06-10"))
    assert database_state(factory)["rows"]["follow_up_visit"] == before["rows"]["follow_up_visit"] + 1


def test_stop_anticoagulation_rejects_never_started(factory: SessionFactory) -> None:
    open_pathway(factory)
    assert_rejected(factory, valid_command("stop_anticoagulation"), field="pathway", says=("never started",))


# --- Villalta and consent -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("items", "field", "says"),
    [
        ([0] * 5 + [-1] + [0] * 5, "villalta.items.5", ("at least 0",)),
        ([0] * 5 + [4] + [0] * 5, "villalta.items.5", ("at most 3",)),
        ([1] * 10, "villalta.items", ("11",)),
        ([1] * 12, "villalta.items", ("11",)),
        ([0] * 3 + [1.5] + [0] * 7, "villalta.items.3", ("integer",)),
        ([0] * 3 + ["2"] + [0] * 7, "villalta.items.3", ("integer",)),
        ([0] * 3 + [True] + [0] * 7, "villalta.items.3", ("integer",)),
    ],
    ids=["minus_one", "four", "ten_items", "twelve_items", "fraction", "string", "bool"],
)
def test_record_follow_up_rejects_bad_villalta(
    factory: SessionFactory, items: list[Any], field: str, says: tuple[str, ...]
) -> None:
    prepare(factory, "record_follow_up")
    assert_rejected(factory, follow_up("early", "2026-06-10", villalta=villalta(items)), field=field, says=says)
    run(factory, follow_up("early", "2026-06-10", villalta=villalta([3] * 11, ulcer=True)))


@pytest.mark.parametrize("ulcer", ["yes", 1, None])
def test_record_follow_up_rejects_villalta_ulcer_not_bool(factory: SessionFactory, ulcer: Any) -> None:
    prepare(factory, "record_follow_up")
    payload = follow_up("early", "2026-06-10", villalta=villalta([1] * 11, ulcer=ulcer))
    rejected = assert_rejected(factory, payload, field="villalta.ulcer", says=())
    assert "bool" in rejected.rule.lower()


@pytest.mark.parametrize(
    ("value", "says"),
    [(False, ("must be true",)), (None, ("required",)), ("true", ("boolean",)), (1, ("boolean",))],
    ids=["false", "missing", "string", "one"],
)
def test_record_consent_rejects_uncertainties_not_discussed(
    factory: SessionFactory, value: Any, says: tuple[str, ...]
) -> None:
    prepare(factory, "record_consent")
    payload = consent()
    payload = (
        without(payload, "uncertainties_discussed") if value is None else payload | {"uncertainties_discussed": value}
    )
    assert_rejected(factory, payload, field="uncertainties_discussed", says=says)


# --- the shape of a command -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "payload",
    [{"command": "record_lunch", "pathway": "P1"}, {"pathway": "P1"}, {"command": 7}],
    ids=["unknown", "absent", "not_text"],
)
def test_execute_rejects_unknown_command(factory: SessionFactory, payload: dict[str, Any]) -> None:
    open_pathway(factory)
    assert_rejected(factory, payload, field="command", says=("unknown command", "register_patient"))


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        (register(patient="H200", nhs=OTHER_NHS, colour="blue"), "colour"),
        (start_anticoagulation() | {"dose_mg": 5}, "dose_mg"),
        (
            mdt(attendees=[*MDT_ATTENDEES[:2], {"name": "Dr H", "role": "haematologist", "grade": "consultant"}]),
            "attendees.2.grade",
        ),
        (follow_up("month6", "2026-06-10", villalta=villalta([0] * 11) | {"total": 0}), "villalta.total"),
    ],
    ids=["register_patient", "start_anticoagulation", "mdt_attendee", "villalta"],
)
def test_execute_rejects_unknown_field(factory: SessionFactory, payload: dict[str, Any], field: str) -> None:
    open_pathway(factory)
    assert_rejected(factory, payload, field=field, says=("not a field",))


@pytest.mark.parametrize(
    ("name", "field"),
    [
        ("register_patient", "nhs_number"),
        ("register_patient", "site"),
        ("record_diagnosis", "veins"),
        ("record_diagnosis", "presented_on"),
        ("start_anticoagulation", "agent"),
        ("record_mdt", "attendees"),
        ("record_mdt", "thrombolysis"),
        ("notify_governance", "lead"),
        ("record_consent", "information_leaflet"),
        ("record_procedure", "technique"),
        ("record_procedure", "complications"),
        ("submit_registry", "registry_ref"),
        ("record_follow_up", "visit"),
        ("close_pathway", "reason"),
        ("schedule_procedure", "pathway"),
    ],
)
def test_execute_rejects_missing_required_field(factory: SessionFactory, name: str, field: str) -> None:
    prepare(factory, name)
    assert_rejected(factory, without(valid_command(name), field), field=field, says=("required",))


@pytest.mark.parametrize(
    ("name", "field", "value", "valid_example"),
    [
        ("register_patient", "sex", "F", "female"),
        ("record_diagnosis", "leg", "both", "left"),
        ("record_diagnosis", "imaging", "xray", "duplex"),
        ("start_anticoagulation", "agent", "aspirin", "apixaban"),
        ("stop_anticoagulation", "reason", "bored", "course_complete"),
        ("record_mdt", "decision", "surgery", "anticoagulation_only"),
        ("record_procedure", "technique", "laser", "pmt_with_thrombolysis"),
        ("record_procedure", "access_vein", "radial", "popliteal"),
        ("record_procedure", "ivc_filter", "yes", "temporary"),
        ("record_procedure", "clot_removal", "grade_4", "grade_3"),
        ("record_follow_up", "visit", "month3", "week6"),
        ("record_follow_up", "patency", "open", "patent"),
        ("record_anticoagulation_review", "decision", "maybe", "continue_indefinite"),
        ("record_filter_outcome", "outcome", "lost", "kept_permanent"),
        ("close_pathway", "reason", "bored", "transferred"),
    ],
)
def test_execute_rejects_wrong_enum_value(
    factory: SessionFactory, name: str, field: str, value: str, valid_example: str
) -> None:
    prepare(factory, name)
    assert_rejected(factory, valid_command(name) | {field: value}, field=field, says=("must be one of", valid_example))


def test_record_diagnosis_rejects_unknown_and_empty_veins(factory: SessionFactory) -> None:
    run(factory, register())
    assert_rejected(factory, diagnose(veins=["saphenous"]), field="veins.0", says=("must be one of", "popliteal"))
    # `veins or [...]` in the builder would replace an empty list, so set it after building.
    rejected = assert_rejected(factory, diagnose() | {"veins": []}, field="veins", says=())
    assert "at least 1" in rejected.rule


@pytest.mark.parametrize("value", ["2026-02-30", "15/06/2026", "2026-06-15T10:00:00", 20260615])
def test_execute_rejects_malformed_date(factory: SessionFactory, value: Any) -> None:
    open_pathway(factory)
    rejected = assert_rejected(
        factory, start_anticoagulation() | {"started_on": value}, field="started_on", says=("date",)
    )
    assert rejected.rule


# --- the command log -------------------------------------------------------------------------------


def _audit_commands(factory: SessionFactory) -> list[str]:
    with factory() as session:
        return list(session.execute(select(AuditEvent.command).order_by(AuditEvent.id)).scalars().all())


def test_rejected_commands_leave_no_audit_row(factory: SessionFactory) -> None:
    """A run of commands like a command log: only the accepted ones are in the audit trail."""
    log: list[tuple[dict[str, Any], bool]] = [
        (register(), True),
        (register(patient="H2"), False),  # NHS number of another patient
        (diagnose(), True),
        (mdt(attendees=MDT_ATTENDEES[:2]), False),  # no haematologist
        (start_anticoagulation(started_on=TOMORROW), False),
        (start_anticoagulation(), True),
        ({"command": "record_lunch"}, False),
        (valid_command("stop_anticoagulation", "2026-06-03"), True),
        (valid_command("stop_anticoagulation", "2026-06-04"), False),  # already stopped
    ]
    for payload, accepted in log:
        audit_rows = database_state(factory)["rows"]["audit_event"]
        if accepted:
            run(factory, payload)
            assert database_state(factory)["rows"]["audit_event"] == audit_rows + 1
        else:
            with pytest.raises(CommandRejected):
                run(factory, payload)
            assert database_state(factory)["rows"]["audit_event"] == audit_rows
    assert _audit_commands(factory) == [
        "register_patient",
        "record_diagnosis",
        "start_anticoagulation",
        "stop_anticoagulation",
    ]


def test_cli_apply_rejected_lines_leave_no_audit_row(
    engine: Engine, factory: SessionFactory, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`pathway apply` on a command log: rejected lines are reported and write no audit row."""
    monkeypatch.setenv("PATHWAY_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    monkeypatch.setenv("PATHWAY_OPERATOR", "log-test")
    today = london_today()  # `apply` records at the current time
    presented = today - timedelta(days=5)
    lines = [
        register(),
        register(patient="H2"),
        diagnose(presented=presented),
        mdt(held_on=presented.isoformat(), attendees=MDT_ATTENDEES[1:]),
        start_anticoagulation(started_on=(today + timedelta(days=1)).isoformat()),
        start_anticoagulation(started_on=presented.isoformat()),
        {"command": "record_lunch"},
    ]
    log = tmp_path / "commands.jsonl"
    log.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = CliRunner().invoke(app, ["apply", str(log)])
    assert result.exit_code == 1, result.output
    assert "line 2: nhs_number: already registered to another patient" in result.stderr
    assert "line 4: attendees: " in result.stderr and "vascular_surgeon" in result.stderr
    assert "line 5: started_on: must not be after today" in result.stderr
    assert "line 7: command: unknown command" in result.stderr
    assert "3 accepted, 4 rejected" in result.stderr
    assert _audit_commands(factory) == ["register_patient", "record_diagnosis", "start_anticoagulation"]
    state = database_state(factory)
    assert state["rows"]["patient"] == 1 and state["rows"]["pathway"] == 1
    assert state["rows"]["mdt_meeting"] == 0 and state["rows"]["anticoagulation_event"] == 1
