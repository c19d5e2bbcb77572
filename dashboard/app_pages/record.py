"""Recording: one form per interface command, only the commands the role may run.

Each save is one call to pathway.services.commands.execute with the pathway version the user read, so a
save that crosses someone else's is refused (ConflictError) with the user's entries kept.
"""

import streamlit as st

from dashboard import auth, components, deps, forms, outage
from pathway import COMMANDS, PathwayCommand, may_run
from pathway.errors import AccessDenied, CommandRejected, ConflictError, DatabaseBusy, NotFound
from pathway.services.commands import execute

actor = auth.require_actor()
components.remember_worklist()  # the way back to the worklist as it was, even after a reload
st.title("Recording")

allowed = [name for name in COMMANDS if may_run(actor.role, name)]
if not allowed:
    st.info(f"The {actor.role.value} role reads only: it records nothing.")
    st.stop()
if saved := st.session_state.pop("record_saved", None):
    st.success(saved)

# The form chosen is in the URL (?command=record_consent&pathway=REF): a reload or a link keeps it.
command = st.selectbox(
    "What to record", allowed, key="command", format_func=forms.COMMAND_TITLES.__getitem__, bind="query-params"
)
versions: dict[str, int] = st.session_state.setdefault("record_versions", {})
on_pathway = issubclass(COMMANDS[command], PathwayCommand)
ref = ""
if on_pathway:
    ref = components.pathway_in_url("record_pathway_input")
    pathway_slot = st.empty()
    if not ref:
        st.info("Type the pathway's reference, or open it from the Patient page.")
        st.stop()
    reload = st.button("Reload pathway", key="record_reload", help="Read the pathway again (after a conflict)")
    detail = None
    # A database outage here keeps the form (and what was typed in it) when the pathway was read
    # before: the save then says nothing was recorded, and saves against the version read then.
    with outage.reported("pathway read", stop=ref not in versions):
        try:
            detail = deps.open_record(actor, ref, deps.today(), page="record")
        except NotFound as missing:
            pathway_slot.error(components.plain(missing.rule))
            st.stop()
    if detail is not None:
        # Whose record this is, as plain text above the form (wrong-patient risk, hazard H7).
        st.text(components.identity_line(detail, deps.today(), identifiers=actor.sees_identifiers))
        if reload or ref not in versions:
            versions[ref] = detail.pathway.version
        flags = ", ".join(components.flag_text(f) for f in detail.flags) or "none"
        # Markdown, not a caption: a caption's faded text put the flag badges below 4.5:1 contrast.
        st.markdown(
            f"Stage **{components.stage_words(detail.pathway.stage)}** · next step "
            f"**{components.words(detail.pathway.next_step) or '—'}** · flags: {flags} · "
            f"you are recording against version {versions[ref]}"
        )
        if detail.pathway.version != versions[ref]:
            st.warning(
                f"Pathway {components.plain(ref)} has changed since you opened it "
                f"(now version {detail.pathway.version}). Press **Reload pathway** before saving."
            )

# The managed list's sites, only for a form that names a site (an admin adds sites on the Sites page).
known_sites = deps.listed_sites() if "site" in COMMANDS[command].model_fields else []
form = forms.command_form(command, deps.today(), known_sites)


def show_problems(problems: dict[str, str]) -> None:
    """Each broken rule beside its field (in plain words and UK dates), and how many in the form's foot."""
    for field_name, rule in problems.items():
        slot = form.slots.get(field_name) or (pathway_slot if on_pathway and field_name == "pathway" else form.general)
        slot.error(f"{forms.label(field_name)}: {components.plain(forms.plain_words(rule))}")
    form.general.error(
        f"Not saved: {len(problems)} {'entry needs' if len(problems) == 1 else 'entries need'} "
        "attention (shown beside each)."
    )


payload = form.payload | ({"pathway": ref} if on_pathway else {})
if form.submitted:
    # One command is one transaction (pathway.services.commands.execute): an outage before its commit leaves
    # nothing written, and the form keeps the entries for the next try.
    with outage.reported("save", message=outage.NOT_RECORDED, slot=form.general):
        try:
            outcome = execute(
                deps.session_factory(),
                actor,
                payload,
                recorded_at=deps.now(),
                expected_version=versions.get(ref) if on_pathway else None,
            )
        except DatabaseBusy:
            form.general.error(
                "Not saved: the pathway database was busy with other saves, so nothing was recorded. "
                "Your entries are kept: save again in a moment."
            )
        except ConflictError as conflict:
            if on_pathway:
                form.general.error(
                    f"Not saved: pathway {components.plain(ref)} was changed by someone else after you opened it. "
                    "Your entries are kept. Press **Reload pathway** to see the change, check your entries, "
                    "then save again."
                )
            else:
                form.general.error(
                    f"Not saved: {components.plain(conflict.subject)} was recorded by someone else at the same moment. "
                    "Your entries are kept: check them, then save again."
                )
        except CommandRejected as rejected:
            # The service names every broken rule at once (the form's shape and the clinical rules).
            found: dict[str, list[str]] = {}
            for field_name, rule in rejected.problems:
                found.setdefault(field_name.split(".")[0], []).append(rule)
            show_problems({field_name: "; ".join(rules) for field_name, rules in found.items()})
        except AccessDenied as denied:
            form.general.error(f"Not allowed: {components.plain(denied)}")
        else:
            deps.clear_reads(command)
            if outcome.pathway:
                versions[outcome.pathway] = outcome.version or 0
            where = f" for pathway {components.plain(outcome.pathway)}" if outcome.pathway else ""
            st.session_state["record_saved"] = f"Saved: {forms.COMMAND_TITLES[command].lower()}{where}."
            forms.clear_form(command)
            st.rerun()
