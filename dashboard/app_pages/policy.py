"""Policy: the numbers the rules use, their version and the source of each; and the session rules."""

import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no pandas-stubs in the lock
import streamlit as st

from dashboard import auth, components
from pathway import LIMITS, policy_in_force
from pathway.services.accounts import account_policy

auth.require_actor()
st.title("Policy in force")

policy = policy_in_force()
st.markdown(f"Version **{policy.version}**. Every pathway records the version its plan was computed with.")
numbers = pd.DataFrame(
    [
        {
            "setting": name,
            "value": number.value,
            "unit": number.unit,
            "allowed": LIMITS[name].words(),
            "source": number.source,
        }
        for name, number in policy.numbers
    ]
)
st.dataframe(
    numbers,
    hide_index=True,
    key="policy_numbers",
    column_config={
        "setting": st.column_config.TextColumn("Setting", pinned=True),
        "value": st.column_config.NumberColumn("Value"),
        "unit": st.column_config.TextColumn("Unit"),
        "allowed": st.column_config.TextColumn("Allowed range", help="A policy file outside it is refused"),
        "source": st.column_config.TextColumn("Source", width="large"),
    },
)
components.download(numbers, f"policy-{policy.version}", key="policy_csv")

st.subheader("Contraindications to fibrinolysis (pre-procedure safety check)")
lists = policy.contraindications
st.caption(lists.source)
st.dataframe(
    pd.DataFrame(
        [{"class": "absolute", "code": code, "words": words} for code, words in lists.absolute.items()]
        + [{"class": "relative", "code": code, "words": words} for code, words in lists.relative.items()]
    ),
    hide_index=True,
    key="policy_contraindications",
)

st.subheader("Sign-in and sessions")
accounts = account_policy()
st.dataframe(
    pd.DataFrame(
        [
            {"setting": "lockout after failed attempts", "value": accounts.lockout_attempts, "unit": "attempts"},
            {"setting": "lockout lasts", "value": accounts.lockout_minutes, "unit": "minutes"},
            {"setting": "inactivity timeout", "value": accounts.session_inactivity_minutes, "unit": "minutes"},
            {"setting": "absolute session limit", "value": accounts.session_absolute_hours, "unit": "hours"},
        ]
    ),
    hide_index=True,
    key="policy_sessions",
)
