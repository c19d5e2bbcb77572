"""Patient: one pathway's timeline, record, standing flags, reminders sent and audit history."""

import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no pandas-stubs in the lock
import streamlit as st

from dashboard import auth, charts, components, deps, forms
from pathway import COMMANDS, build_timeline, may_run, policy_in_force
from pathway.errors import NotFound

RECORD_KINDS = {
    "mdts": "MDT meetings",
    "anticoagulation": "Anticoagulation",
    "enrolments": "Research enrolment",
    "consents": "Consent",
    "schedules": "Procedure scheduled",
    "procedures": "Procedures",
    "registry": "Registry submissions",
    "follow_ups": "Follow-up visits",
    "reviews": "Anticoagulation reviews",
    "filter_outcomes": "IVC filter outcomes",
    "safety_checks": "Pre-procedure safety checks",
}


def _record(query: dict[str, str]) -> None:
    """The recording page on this pathway, the form in `query` chosen."""
    st.session_state[components.SELECTED] = query["pathway"]
    st.switch_page("app_pages/record.py", query_params=query)


actor = auth.require_actor()
components.remember_worklist()  # the way back to the worklist as it was, even after a reload
st.title("Patient pathway")

ref = components.pathway_in_url("patient_ref_input")
if not ref:
    st.info("Choose a pathway on the worklist (select its row) or type its reference above.")
    st.stop()

as_of = deps.today()
try:
    detail = deps.open_record(actor, ref, as_of, page="patient")
except NotFound:
    st.error(f"No pathway has the reference {components.plain(ref)}.")
    st.stop()
data = detail.as_dict(identifiers=actor.sees_identifiers)
if not actor.sees_identifiers:
    data = components.without_identifiers(data)

st.subheader(f"Pathway {components.plain(data['pathway'])}")
# The identity line is plain text (st.text: no markdown), the NHS number first (components.identity_line).
st.text(components.identity_line(detail, as_of, identifiers=actor.sees_identifiers))
records = any(may_run(actor.role, name) for name in COMMANDS)
if records and data["status"] == "open":
    # Near the top: the recording page for this pathway, its next step's form chosen.
    next_command = forms.STEP_COMMANDS.get(detail.pathway.next_step or "")
    # A bound selectbox carries its option's label in the URL (readable links: ?command=Record+consent).
    query = forms.record_link(ref, next_command) if next_command else {"pathway": ref}
    if st.button("Record for this pathway", key="patient_record", type="primary"):
        _record(query)
st.caption(
    f"{data['leg'].capitalize()} leg, {data['extent']} DVT · route **{components.words(data['route'])}** "
    f"(NICE HTG516 1.1) · presented {components.uk_date(detail.pathway.presented_on)}"
)
timeline = build_timeline(detail.pathway.presented_on, detail.steps, as_of)
treated_on = next((row.done_on for row in timeline.rows if row.code == "procedure"), None)
left = data["window_days_left"]
if treated_on is not None:
    window = f"treated on day {(treated_on - detail.pathway.presented_on).days}"
elif left is None:
    window = "no procedure planned"
else:
    window = components.window_words(left)
cards = st.container(horizontal=True)  # cards wrap onto a new line at 800 px instead of truncating
cards.metric("Status", data["status"], border=True, width=160)
cards.metric("Stage", components.stage_words(data["stage"]), border=True, width=380)
cards.metric("MDT decision", components.words(data["decision"]) or "not yet", border=True, width=220)
cards.metric(f"{policy_in_force().n('treatment_window_days')}-day window", window, border=True, width=360)

st.markdown("#### Standing flags")
if detail.flags:
    for flag in detail.flags:
        # Beside each flag, for those who record: the form that clears it, this pathway filled in.
        beside = st.container(horizontal=True, vertical_alignment="center")
        beside.markdown(f"- {components.flag_text(flag)}, due {components.uk_date(flag.due_on)}", width="content")
        command = forms.flag_command(flag.code)
        offered = records and data["status"] == "open" and command is not None and may_run(actor.role, command)
        if (
            offered
            and command
            and beside.button(
                forms.COMMAND_TITLES[command],
                key=f"patient_record_{flag.code}",
                icon=":material/edit_note:",
                help=f"Opens the recording page on pathway {components.plain(ref)} with this form chosen",
            )
        ):
            _record(forms.record_link(ref, command))
else:
    st.markdown("No flags standing.")

st.markdown("#### Safety net")
safety, assessment = data["safety"], data["pts"]
lines = []
if safety["outside_guidance_scope"]:
    scope = "; ".join(safety["outside_guidance_scope"])
    plan = safety["outside_scope_plan"]
    lines.append(f"Outside NICE NG158 ({scope}): " + ("specialist plan recorded" if plan else "no specialist plan yet"))
check = safety["latest_safety_check"]
if check:
    failures = "; ".join(check["failures"]) or "passed"
    lines.append(f"Latest safety check {components.shown_date(check['checked_on'])}: {failures}")
if safety["thrombolysis_criteria"] and safety["thrombolysis_criteria"]["failures"]:
    criteria = safety["thrombolysis_criteria"]
    lines.append(
        f"NG158 thrombolysis criteria not met on {components.shown_date(criteria['on'])}: "
        + "; ".join(criteria["failures"])
    )
if safety["anticoagulation_hold"]:
    hold = safety["anticoagulation_hold"]
    restart = components.shown_date(hold["restart_planned_on"]) or "not recorded"
    lines.append(
        f"Anticoagulation held since {components.shown_date(hold['stopped_on'])}; restart planned {restart}"
        f" (plan approved by {hold['plan_approved_by'] or 'nobody recorded'})"
    )
basis = components.uk_dates_in(assessment["basis"])
lines.append(f"Post-thrombotic syndrome: {components.words(assessment['status'])} ({basis})")
for line in lines:
    st.text(line)  # recorded text (plans, rationales, names) is shown as text, never as markdown
for given in safety["outside_criteria_rationale"]:
    st.text(
        f"Thrombolysis outside NG158 criteria on {components.shown_date(given['performed_on'])}: {given['rationale']}"
    )

st.markdown("#### Timeline")
st.caption("Bars run from when a step may start to when it is due; diamonds mark when it was done.")
st.altair_chart(charts.timeline_chart(timeline), width="stretch", key="patient_timeline")
steps = pd.DataFrame(
    [
        {
            "Stage": row.stage,
            "Step": row.step,
            "Owner": row.owner_role,
            "From": components.uk_date(row.warn_on),
            "Due": components.uk_date(row.due_on),
            "Done": components.uk_date(row.done_on),
            "Status": charts.STATUS_WORDS[row.status],
        }
        for row in timeline.rows
    ]
)
st.dataframe(steps, hide_index=True, key="patient_steps")

st.markdown("#### The record")
diagnosis = {
    "Presented": components.shown_date(data["presented_on"]),
    "Symptom onset": components.shown_date(data["symptom_onset_on"]),
    "Referred": components.shown_date(data["referred_on"]),
    "Leg": data["leg"],
    "Veins": ", ".join(components.words(v) for v in data["veins"]),
    "Imaging": components.words(data["imaging"]),
    "Extent": data["extent"],
    "Governance notice for the site": components.shown_date(data["governance_notified_on"]) or "none on file",
    "Policy version": data["policy_version"],
}
st.dataframe(pd.DataFrame([diagnosis]), hide_index=True, key="patient_diagnosis")
for kind, title in RECORD_KINDS.items():
    facts = data["record"][kind]
    if facts:
        with st.expander(f"{title} ({len(facts)})"):
            st.dataframe(components.shown_values(facts), hide_index=True)  # UK dates, blank not "None"

st.markdown("#### Reminders sent")
mine = deps.pathway_notifications(actor, ref)
if mine is None:
    st.info("Reminders not configured: the reminder service (pathway.reminders) is not installed here.")
elif mine:
    st.dataframe(components.frame(mine), hide_index=True, key="patient_reminders")
else:
    st.markdown("None sent for this pathway.")

st.markdown("#### Audit history")
audit = components.shown_values(data["audit"])
audit["at"] = [components.london_time(event.at) for event in detail.audit]  # Europe/London, to the minute
st.dataframe(audit, hide_index=True, key="patient_audit")
