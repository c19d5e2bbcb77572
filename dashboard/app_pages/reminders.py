"""Reminders: the most recent notifications and those that failed (issue 3's reminder sweep)."""

import streamlit as st

from dashboard import auth, components, deps

COLUMNS = [
    "created_at",
    "pathway",
    "site",
    "code",
    "severity",
    "kind",
    "recipient_role",
    "channel",
    "status",
    "attempts",
    "sent_at",
    "last_error",
]

actor = auth.require_actor()
st.title("Reminders")

recent = deps.notifications(actor, "recent")
failed = deps.notifications(actor, "failed")
if recent is None or failed is None:
    st.info(
        "Reminders not configured: the reminder service (pathway.views.notifications) is not available, "
        "so there are no notifications to show."
    )
    st.stop()

for title, rows, key in (("Failed notifications", failed, "failed"), ("Recent notifications", recent, "recent")):
    st.subheader(f"{title} ({len(rows)})")
    if not rows:
        st.markdown("None.")
        continue
    table = components.frame(rows)
    table = table[[c for c in COLUMNS if c in table.columns]]
    table.insert(3, "flag", [components.words(code) for code in table["code"]])
    st.dataframe(table, hide_index=True, key=f"reminders_{key}")
    components.download(table, f"notifications-{key}", key=f"reminders_{key}_csv")
