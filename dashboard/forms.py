"""One form per interface command, built from the command's model in pathway.domain.commands.

The widgets follow each field's type (dates, value lists, yes/no, numbers, lists), so a field
added to a command appears in its form. Every widget has an empty slot under it where the
service's rejection of that field is shown. The form never validates on its own: the service is
the one judge, and its message is shown as it gave it.
"""

import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from enum import Enum
from typing import Any

import streamlit as st
from annotated_types import MaxLen
from pydantic.fields import FieldInfo

from pathway import FLAG_BY_CODE, REQUIRED_MDT_ROLES, VILLALTA_ITEMS, policy_in_force
from pathway import commands as c

COMMAND_TITLES = {
    "register_patient": "Register a patient",
    "record_diagnosis": "Record the diagnosis (opens a pathway)",
    "start_anticoagulation": "Start anticoagulation",
    "stop_anticoagulation": "Stop anticoagulation",
    "record_mdt": "Record the MDT outcome",
    "notify_governance": "Record the governance notice (per site)",
    "enrol_research": "Record research enrolment",
    "record_consent": "Record consent",
    "schedule_procedure": "Schedule the procedure",
    "record_procedure": "Record the procedure",
    "submit_registry": "Record the registry submission",
    "record_follow_up": "Record a follow-up visit",
    "record_anticoagulation_review": "Record the anticoagulation review",
    "record_filter_outcome": "Record the IVC filter outcome",
    "close_pathway": "Close the pathway",
    "record_safety_check": "Record the pre-procedure safety check",
}
# The form that answers each step (pathway.stages), for "Record for this pathway".
STEP_COMMANDS = {
    "anticoagulation_start": "start_anticoagulation",
    "mdt": "record_mdt",
    "governance_notice": "notify_governance",
    "research_enrolment": "enrol_research",
    "consent": "record_consent",
    "procedure": "record_procedure",
    "registry_submission": "submit_registry",
    "follow_up_early": "record_follow_up",
    "follow_up_week6": "record_follow_up",
    "follow_up_month6": "record_follow_up",
    "follow_up_month12": "record_follow_up",
    "filter_retrieval": "record_filter_outcome",
    "anticoagulation_review": "record_anticoagulation_review",
}
# The form that clears each flag: its step's form, except the flags a safety check answers.
FLAG_COMMANDS = {
    "SAFETY_CHECK_OUTSTANDING": "record_safety_check",
    "SAFETY_CHECK_FAILED": "record_safety_check",
    "THROMBOLYSIS_CRITERIA_NOT_MET": "record_safety_check",  # the laboratory values are the check's
}
LABELS = {
    "by": "Clinician who did it (optional)",
    "nhs_number": "NHS number",
    "patient": "Patient reference (hospital number)",
    "pathway": "Pathway reference",
    "veins": "Vein segments involved",
    "information_leaflet": "Written information given (leaflet and version, e.g. PIL-PMT v2.0)",
    "uncertainties_discussed": "Uncertainties and alternatives discussed (NICE HTG516 1.2)",
    "thrombolysis": "Thrombolysis planned",
    "complications": "Complications (one per line; leave empty if none)",
    "stent": "Stent placed",
    "ivc_filter": "IVC filter",
    "lytic_dose_mg": "Lytic dose (mg)",
    "life_expectancy_ge_1y": "Life expectancy of a year or more",
    "baseline_vcss": "Baseline VCSS",
    "vcss": "VCSS",
    "ceap_c": "CEAP clinical class",
    "recurrent_vte": "Recurrent VTE",
    # Version 2: the safety net.
    "platelets": "Platelets (x10^9/L)",
    "inr": "INR",
    "haemoglobin": "Haemoglobin (g/L)",
    "egfr": "eGFR (mL/min/1.73m2)",
    "contraindications": "Contraindications to fibrinolysis",
    "pregnancy_test": "Pregnancy test",
    "pregnant": "Pregnant (NICE NG158 does not cover pregnancy)",
    "outside_scope_plan": "Specialist plan for a patient outside NICE NG158 (under 18 or pregnant)",
    "outside_criteria_rationale": "Why thrombolysis goes ahead although an NG158 criterion is not met",
    "filter_indication": "IVC filter indication (required with a filter)",
    "filter_removal_planned_on": "Planned filter removal (temporary filter: within 54 days)",
    "restart_planned_on": "Planned restart (required for a procedure hold)",
    "plan_approved_by": "Haematologist who approved the hold plan (required for a procedure hold)",
}
# Optional fields that a rule can make required: shown beside the required ones, not folded away.
PROMOTED: dict[str, tuple[str, ...]] = {
    "record_diagnosis": ("pregnant",),
    "record_mdt": ("outside_scope_plan",),
    "record_procedure": ("device", "filter_indication", "filter_removal_planned_on", "outside_criteria_rationale"),
    "stop_anticoagulation": ("restart_planned_on", "plan_approved_by"),
}
# Number steps of laboratory values (INR is read to two decimals: 1.5 passes, 1.51 fails).
STEPS = {"inr": 0.01, "platelets": 1.0, "haemoglobin": 1.0, "egfr": 1.0}
ROLE_WORDS = {
    "vascular_surgeon": "Vascular surgeon",
    "interventional_radiologist": "Interventional radiologist",
    "haematologist": "Haematologist",
}
SKIPPED = {"command", "pathway"}  # the pathway is chosen above the form, with its version


@dataclass
class CommandForm:
    submitted: bool
    payload: dict[str, Any]
    slots: dict[str, Any]  # field -> the empty slot under its widget
    general: Any  # for a rejection that names no field of the form


def flag_command(code: str) -> str | None:
    """The form that records the step a flag waits for (None: no form answers it)."""
    if code in FLAG_COMMANDS:
        return FLAG_COMMANDS[code]
    flag = FLAG_BY_CODE.get(code)
    return STEP_COMMANDS.get(flag.step) if flag else None


def record_link(ref: str, command: str) -> dict[str, str]:
    """The recording page's query parameters for this pathway and form (the form by its label, as links carry)."""
    return {"pathway": ref, "command": COMMAND_TITLES[command]}


def widget_key(command: str, field: str) -> str:
    return f"record_{command}_{field}"


def label(field: str) -> str:
    return LABELS.get(field, field.replace("_", " ").capitalize())


def words(value: Any) -> str:
    return "—" if value is None else str(value).replace("_", " ")


def _unwrap(annotation: Any) -> tuple[Any, bool]:
    """(the inner type, whether None is allowed) of a field's annotation, Annotated stripped."""
    optional = False
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        optional = len(args) < len(typing.get_args(annotation))
        annotation = args[0]
    while typing.get_origin(annotation) is typing.Annotated:
        annotation = typing.get_args(annotation)[0]
    return annotation, optional


def _choices(kind: Any) -> list[str] | None:
    if isinstance(kind, type) and issubclass(kind, Enum):
        return [str(e.value) for e in kind]
    if typing.get_origin(kind) is typing.Literal:
        return [str(v) for v in typing.get_args(kind)]
    return None


def _max_length(info: FieldInfo, annotation: Any) -> int:
    found = [m.max_length for m in info.metadata if isinstance(m, MaxLen)]
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        for arg in typing.get_args(annotation):
            for meta in getattr(arg, "__metadata__", ()):
                found += [m.max_length for m in getattr(meta, "metadata", []) if isinstance(m, MaxLen)]
    return found[0] if found else 120


# Dates that may lie ahead (a plan); every other date records an event and cannot be after today.
PLANNED_DATES = {"scheduled_on", "restart_planned_on", "filter_removal_planned_on"}
# A yes/no a clinician must tick to go on (the service refuses "no"): a checkbox, not a choice.
ATTESTATIONS = {"uncertainties_discussed"}
EARLIEST = date(1900, 1, 1)  # st.date_input's own floor is ten years back: too late for a birth date
UK_DATE = "DD/MM/YYYY"  # UK order; the calendar's first day is the browser language's (Monday in en-GB)


def _widget(command: str, field: str, info: FieldInfo, today: date) -> Any:
    """Draw the field's widget; returns its value as the command wants it (None when left empty).

    Nothing that records a clinical fact is chosen for the user: choices, yes/no answers and dates
    start empty, and the service names every one left empty (no silent default saved untouched).
    """
    key = widget_key(command, field)
    kind, _ = _unwrap(info.annotation)
    text = label(field)
    choices = _choices(kind)
    if kind is date:
        latest = None if field in PLANNED_DATES else today  # Europe/London's today (deps.today)
        return st.date_input(text, value=None, min_value=EARLIEST, max_value=latest, key=key, format=UK_DATE)
    if choices is not None:
        return st.selectbox(text, choices, index=None, key=key, format_func=words, placeholder="Choose")
    if kind is bool:
        if field in ATTESTATIONS:
            return st.checkbox(text, key=key)
        answer = st.radio(text, ["yes", "no"], index=None, key=key, horizontal=True)
        return None if answer is None else answer == "yes"
    if kind is int or kind is float:
        step = STEPS.get(field, 1 if kind is int else 0.5)
        number = st.number_input(text, value=None, step=step, key=key, format="%.2f" if field == "inr" else None)
        return None if number is None else kind(number)
    if field == "contraindications":
        return _contraindications(command)
    if typing.get_origin(kind) is list:
        item, _ = _unwrap(typing.get_args(kind)[0])
        if item is c.Attendee:
            return _attendees(command)
        item_choices = _choices(item)
        if item_choices is not None:
            return st.multiselect(text, item_choices, key=key, format_func=words) or None
        lines = st.text_area(text, key=key, height=80)
        return [line.strip() for line in lines.splitlines() if line.strip()]
    if kind is c.Villalta:
        return _villalta(command)
    if _max_length(info, info.annotation) > 200:
        return st.text_area(text, key=key, height=100).strip() or None
    return st.text_input(text, key=key).strip() or None


def _attendees(command: str) -> list[dict[str, str]]:
    """The three specialties HTG516 3.8 requires, then anyone else (one 'name, role' per line)."""
    st.markdown("**MDT attendees**")
    found = []
    columns = st.columns(len(REQUIRED_MDT_ROLES))
    for column, role in zip(columns, REQUIRED_MDT_ROLES, strict=True):
        name = column.text_input(ROLE_WORDS[role], key=widget_key(command, f"attendee_{role}")).strip()
        if name:
            found.append({"name": name, "role": role})
    others = st.text_area(
        "Other attendees (one per line: name, role)", key=widget_key(command, "attendees_other"), height=68
    )
    for line in others.splitlines():
        name, _, role = line.partition(",")
        if name.strip():
            found.append({"name": name.strip(), "role": role.strip() or "other"})
    return found


def _contraindications(command: str) -> list[str]:
    """The policy's contraindications to fibrinolysis as checkboxes, absolute and relative apart."""
    lists = policy_in_force().contraindications
    st.markdown("**Contraindications to fibrinolysis** (tick every one that applies; none is a valid answer)")
    ticked = []
    columns = st.columns(2)
    for column, (group, codes) in zip(
        columns, (("Absolute", lists.absolute), ("Relative", lists.relative)), strict=True
    ):
        column.markdown(f"*{group}*")
        for code, words in codes.items():
            if column.checkbox(words, key=widget_key(command, f"contraindication_{code}")):
                ticked.append(code)
    st.caption(f"Lists from the policy file: {lists.source}")
    return ticked


def _villalta(command: str) -> dict[str, Any] | None:
    assessed = st.checkbox("Villalta score assessed at this visit", key=widget_key(command, "villalta_assessed"))
    columns = st.columns(4)
    items = [
        int(
            columns[i % 4].number_input(
                words(item), min_value=0, max_value=3, value=0, step=1, key=widget_key(command, f"villalta_{item}")
            )
        )
        for i, item in enumerate(VILLALTA_ITEMS)
    ]
    ulcer = st.checkbox("Venous ulcer present", key=widget_key(command, "villalta_ulcer"))
    return {"items": items, "ulcer": ulcer} if assessed else None


def command_form(command: str, today: date, known_sites: Sequence[str] = ()) -> CommandForm:
    """Draw the command's form; on submit, `payload` holds the command as the service wants it.

    Every field is in view: the required ones first, then the optional ones the registry and
    follow-up need (never folded away). A site is chosen from `known_sites`, the managed list's
    active sites (an admin adds one on the Sites page): a typo cannot open a new site.
    """
    model = c.COMMANDS[command]
    fields = {name: info for name, info in model.model_fields.items() if name not in SKIPPED}
    if command == "record_diagnosis":  # a new pathway is named in the form itself
        fields = {"pathway": model.model_fields["pathway"], **fields}
    promoted = PROMOTED.get(command, ())
    required = {n: i for n, i in fields.items() if (i.is_required() or n in promoted) and n != "by"}
    optional = {n: i for n, i in fields.items() if n not in required}
    payload: dict[str, Any] = {"command": command}
    slots: dict[str, Any] = {}
    with st.form(f"record_form_{command}", border=True):
        for group, heading in (
            (required, None),
            (optional, "Also recorded (optional: the registry and follow-up use them)"),
        ):
            if heading and group:
                st.markdown(f"**{heading}**")
            for name, info in group.items():
                if name == "site":  # from the managed list (pathway.services.sites): no typed site
                    value = st.selectbox(
                        label(name), known_sites, index=None, key=widget_key(command, name), placeholder="Choose"
                    )
                else:
                    value = _widget(command, name, info, today)
                slots[name] = st.empty()
                if value is not None:
                    payload[name] = value
        general = st.empty()
        submitted = st.form_submit_button("Save", type="primary")
    return CommandForm(submitted, payload, slots, general)


_ISO_DATE = re.compile(r"\b(\d{4})-(\d{2})-(\d{2})\b")
_CODE = re.compile(r"\b[a-z]+(?:_[a-z0-9]+)+\b")


def plain_words(message: str) -> str:
    """A rule's message in the words on screen: role and command labels for codes, UK dates."""

    def uk(match: re.Match[str]) -> str:
        try:
            day = date(int(match[1]), int(match[2]), int(match[3]))
        except ValueError:
            return match[0]
        return f"{day.day} {day:%b %Y}"

    def labelled(match: re.Match[str]) -> str:
        code = match[0]
        if code in ROLE_WORDS:
            return ROLE_WORDS[code].lower()
        if code in COMMAND_TITLES:
            return f"'{COMMAND_TITLES[code]}'"
        return code

    return _CODE.sub(labelled, _ISO_DATE.sub(uk, message))


def clear_form(command: str) -> None:
    """After a save: empty the form for the next entry (a rejected or conflicting save keeps it)."""
    prefix = widget_key(command, "")
    for key in [k for k in st.session_state if str(k).startswith(prefix)]:
        del st.session_state[key]
