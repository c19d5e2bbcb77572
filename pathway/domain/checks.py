"""Rules a command must meet against the pathway's record (docs/rules.md: 'Timing rules', 'What a PMT needs').

Pure: the record, the command and the day it is recorded (Europe/London) in; one CommandRejected
naming every broken rule (field and rule each, pathway.domain.problems) out. Checks needing other rows
(NHS number already registered, unknown references) live in pathway.services.commands.
"""

from collections.abc import Callable
from datetime import date, timedelta

from pathway.domain.clock import age_on
from pathway.domain.commands import (
    EVENT_DATES,
    PLANNED_DATES,
    PLANS,
    ClosePathway,
    Command,
    RecordDiagnosis,
    RecordFilterOutcome,
    RecordFollowUp,
    RecordMdt,
    RecordProcedure,
    StartAnticoagulation,
    StopAnticoagulation,
    SubmitRegistry,
)
from pathway.domain.criteria import thrombolysis_criteria_failures
from pathway.domain.policy import Policy
from pathway.domain.problems import Problems
from pathway.domain.record import PathwayRecord
from pathway.domain.vocabulary import (
    PMT_TECHNIQUES,
    PROCEDURAL_VISITS,
    REQUIRED_MDT_ROLES,
    THROMBOLYTIC_TECHNIQUES,
    IvcFilter,
    Route,
    Sex,
    StopReason,
)
from pathway.errors import CommandRejected

NEEDS_PROCEDURAL_DECISION = frozenset({"enrol_research", "record_consent", "schedule_procedure", "record_procedure"})


def check_diagnosis_dates(presented_on: date, symptom_onset_on: date, referred_on: date, today: date) -> None:
    problems = Problems()
    if presented_on > today:
        problems.add("presented_on", f"must not be after today ({today})")
    if symptom_onset_on > presented_on:
        problems.add("symptom_onset_on", "must not be after presented_on")
    if referred_on < presented_on:
        problems.add("referred_on", "must not be before presented_on")
    elif referred_on > today:
        problems.add("referred_on", f"must not be after today ({today})")
    problems.raise_any()


def check_diagnosis(command: RecordDiagnosis, sex: Sex, today: date, *, partial: bool = False) -> None:
    """The diagnosis's dates, and pregnancy only for a patient who can be pregnant (version 2).
    `partial`: the command holds only its valid fields (pathway.domain.problems)."""
    problems = Problems(partial=partial)
    with problems.rule():
        check_diagnosis_dates(command.presented_on, command.symptom_onset_on, command.referred_on, today)
    with problems.rule():
        if command.pregnant and sex is Sex.male:
            problems.add("pregnant", "must not be true for a patient registered as male")
    problems.raise_any()


def check_birth_date(date_of_birth: date, today: date, policy: Policy) -> None:
    """Not in the future, and not so long ago that the patient would be implausibly old today.

    Messages never carry the date itself (an identifier)."""
    if date_of_birth > today:
        raise CommandRejected("date_of_birth", "must not be in the future")
    oldest = policy.n("maximum_age_years")
    if age_on(date_of_birth, today) > oldest:
        raise CommandRejected(
            "date_of_birth",
            f"would make the patient older than {oldest} years today: not plausible (policy maximum_age_years)",
        )


def check_presentation_age(date_of_birth: date, presented_on: date, symptom_onset_on: date, policy: Policy) -> None:
    """A diagnosis on or after the patient's birth, at a plausible age (policy maximum_age_years)."""
    problems = Problems()
    oldest = policy.n("maximum_age_years")
    if presented_on < date_of_birth:
        problems.add("presented_on", "must not be before the patient's date of birth")
    elif age_on(date_of_birth, presented_on) > oldest:
        problems.add(
            "presented_on",
            f"would make the patient older than {oldest} years at presentation: not plausible "
            "(policy maximum_age_years)",
        )
    if symptom_onset_on < date_of_birth:
        problems.add("symptom_onset_on", "must not be before the patient's date of birth")
    problems.raise_any()


def check_pathway_command(command: Command, record: PathwayRecord, today: date, policy: Policy) -> None:
    """Every rule of a command on an existing pathway; raises one rejection naming each broken one."""
    problems = Problems()
    pathway_command_problems(command, record, today, policy, problems)
    problems.raise_any()


def pathway_command_problems(
    command: Command, record: PathwayRecord, today: date, policy: Policy, problems: Problems
) -> None:
    """Check every rule of a command on an existing pathway, adding each broken one to `problems`
    (a closed pathway takes no command: that one problem says it all)."""
    if record.is_closed:
        problems.add("pathway", f"is closed (since {record.closed_on}); no further commands")
        return
    _check_event_dates(command, record, today, problems)
    if command.command in NEEDS_PROCEDURAL_DECISION and not record.procedural:
        current = record.decision.value if record.decision else "no MDT yet"
        problems.add("pathway", f"needs an MDT decision of pmt, cdt or open_thrombectomy (current: {current})")
    rules: list[Callable[[], None]] = []
    match command:
        case RecordMdt():
            rules = [lambda: _check_mdt_quorum(command)]
        case StartAnticoagulation():
            rules = [lambda: _check_start(command, record)]
        case StopAnticoagulation():
            rules = [lambda: _check_stop(command, record, policy)]
        case RecordProcedure():
            rules = [
                lambda: _check_procedure(command, record),
                lambda: _check_thrombolysis_criteria(command, record, policy),
                lambda: _check_filter(command, policy),
            ]
        case SubmitRegistry():
            rules = [
                lambda: _check_after_procedure("submitted_on", command.submitted_on, record, "registry submission")
            ]
        case RecordFollowUp():
            rules = [lambda: _check_follow_up(command, record)]
        case RecordFilterOutcome():
            rules = [lambda: _check_filter_outcome(command, record)]
        case ClosePathway():
            rules = [lambda: _check_registered_before_closing(record)]
        case _:
            pass
    for rule in rules:
        with problems.rule():
            rule()


def _check_event_dates(command: Command, record: PathwayRecord, today: date, problems: Problems) -> None:
    for field in EVENT_DATES.get(command.command, ()):
        with problems.rule():
            value: date = getattr(command, field)
            if value < record.presented_on:
                problems.add(field, f"must not be before presented_on ({record.presented_on})")
            elif field not in PLANNED_DATES and value > today:
                problems.add(field, f"must not be after today ({today}), the day it is recorded")
    for field in PLANS.get(command.command, ()):
        with problems.rule():
            planned: date | None = getattr(command, field)
            if planned is not None and planned < record.presented_on:
                problems.add(field, f"must not be before presented_on ({record.presented_on})")


def _check_mdt_quorum(command: RecordMdt) -> None:
    present = {attendee.role for attendee in command.attendees}
    missing = [role for role in REQUIRED_MDT_ROLES if role not in present]
    if missing:
        raise CommandRejected(
            "attendees",
            "must include a vascular_surgeon, an interventional_radiologist and a haematologist "
            f"(NICE HTG516 3.8); missing: {', '.join(missing)}",
        )


def _check_start(command: StartAnticoagulation, record: PathwayRecord) -> None:
    if record.anticoagulation and command.started_on < record.anticoagulation[-1].on:
        raise CommandRejected(
            "started_on", f"must not be before the last anticoagulation record ({record.anticoagulation[-1].on})"
        )


def _check_stop(command: StopAnticoagulation, record: PathwayRecord, policy: Policy) -> None:
    if record.anticoagulation_started_on is None:
        raise CommandRejected("pathway", "anticoagulation was never started; nothing to stop")
    if not record.anticoagulation_running:
        raise CommandRejected("pathway", f"anticoagulation is already stopped (since {record.anticoagulation[-1].on})")
    if command.stopped_on < record.anticoagulation[-1].on:
        raise CommandRejected("stopped_on", f"must not be before the start it ends ({record.anticoagulation[-1].on})")
    if command.reason is StopReason.procedure_hold:
        # R15: a periprocedural hold needs a haematology-approved plan with a restart date.
        _check_planned(
            "restart_planned_on",
            command.restart_planned_on,
            ("stopped_on", command.stopped_on),
            policy.n("restart_plan_max_days"),
            "a procedure_hold needs a planned restart",
            "pathway-spec R15",
        )
        if not command.plan_approved_by:
            raise CommandRejected(
                "plan_approved_by", "a procedure_hold needs the haematologist who approved the plan (pathway-spec R15)"
            )


def _check_procedure(command: RecordProcedure, record: PathwayRecord) -> None:
    day = command.performed_on
    if record.consented_on is None or record.consented_on > day:
        raise CommandRejected("performed_on", "no consent is recorded on or before this date (record_consent first)")
    pmt = command.technique in PMT_TECHNIQUES
    notice = record.governance_notified_on
    if pmt and record.route is Route.special_arrangements and (notice is None or notice > day):
        raise CommandRejected(
            "performed_on",
            "the site has no clinical governance notice dated on or before this date "
            "(NICE HTG516 1.2: PMT for iliofemoral DVT needs special arrangements)",
        )
    enrolled = record.enrolled_on
    if pmt and record.route is Route.research_only and (enrolled is None or enrolled > day):
        raise CommandRejected(
            "performed_on",
            "no research enrolment on or before this date (NICE HTG516 1.1: PMT for DVT "
            "not reaching the common femoral vein is research-only)",
        )


def _check_thrombolysis_criteria(command: RecordProcedure, record: PathwayRecord, policy: Policy) -> None:
    """A thrombolytic technique when an NG158 criterion fails on the day needs a written rationale."""
    if command.technique not in THROMBOLYTIC_TECHNIQUES or command.outside_criteria_rationale:
        return
    failures = thrombolysis_criteria_failures(record, command.performed_on, policy)
    if failures:
        raise CommandRejected(
            "outside_criteria_rationale",
            f"is required for {command.technique.value} on {command.performed_on}: a thrombolysis criterion "
            f"is not met (NICE NG158): {'; '.join(failures)}",
        )


def _check_filter(command: RecordProcedure, policy: Policy) -> None:
    """R9: every filter needs an indication; R10: a temporary one a removal date within the FDA window."""
    if command.ivc_filter is IvcFilter.none:
        return
    if command.filter_indication is None:
        raise CommandRejected("filter_indication", f"is required for a {command.ivc_filter.value} IVC filter (R9)")
    if command.ivc_filter is IvcFilter.temporary:
        _check_planned(
            "filter_removal_planned_on",
            command.filter_removal_planned_on,
            ("performed_on", command.performed_on),
            policy.n("filter_retrieval_end_days"),
            "a temporary IVC filter needs a planned removal",
            "R10; FDA 2014",
        )


def _check_planned(
    field: str, planned: date | None, start: tuple[str, date], days: int, rule: str, source: str
) -> None:
    """A plan that must be recorded and fall from an event's date to `days` after it, inclusive."""
    name, first = start
    # An event dated at the calendar's end (refused on its own field) leaves no later day: no upper bound.
    latest = first + timedelta(days=days) if first <= date.max - timedelta(days=days) else date.max
    if planned is None or not first <= planned <= latest:
        raise CommandRejected(field, f"{rule} from {name} to {days} days after it ({first} to {latest}) ({source})")


def _check_registered_before_closing(record: PathwayRecord) -> None:
    if record.pmt_done and record.registry_submitted_on is None:
        raise CommandRejected(
            "pathway",
            "a PMT was done and no registry submission is recorded: record submit_registry before closing "
            "(NICE HTG516 1.3: every patient who has the procedure is registered, a death or transfer too)",
        )


def _check_after_procedure(field: str, day: date, record: PathwayRecord, what: str) -> None:
    performed = record.performed_on
    if performed is None:
        raise CommandRejected("pathway", f"no procedure is recorded; a {what} follows the procedure")
    if day < performed:
        raise CommandRejected(field, f"must not be before the procedure ({performed})")


def _check_follow_up(command: RecordFollowUp, record: PathwayRecord) -> None:
    if command.visit in record.follow_ups:
        raise CommandRejected(
            "visit", f"{command.visit.value} is already recorded (seen {record.follow_ups[command.visit]})"
        )
    if command.visit in PROCEDURAL_VISITS:
        _check_after_procedure("seen_on", command.seen_on, record, f"{command.visit.value} visit")


def _check_filter_outcome(command: RecordFilterOutcome, record: PathwayRecord) -> None:
    if not record.any_filter_placed:
        raise CommandRejected("pathway", "no IVC filter was placed at a recorded procedure")
    _check_after_procedure("decided_on", command.decided_on, record, "filter outcome")
