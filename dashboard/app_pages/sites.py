"""Sites: the managed list of sites (admins only). Patients, governance notices and accounts name a
site from this list; adding or retiring one is a service call (pathway.services.sites), one audit row
each; the service refuses anyone but an admin whatever this page shows."""

from collections.abc import Callable
from typing import Any

import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no pandas-stubs in the lock
import streamlit as st

from dashboard import auth, components, deps
from pathway import Role
from pathway.errors import AccessDenied, CommandRejected
from pathway.services.sites import add_site, retire_site
from pathway.views.sites import SiteView

actor = auth.require_actor()
st.title("Sites")
if actor.role is not Role.admin:
    st.info("Only an admin manages the list of sites.")
    st.stop()
if done := st.session_state.pop("sites_done", None):
    st.success(done)

sites = deps.site_list(retired=True)
st.caption(
    "Registrations, governance notices and accounts choose a site from this list. A retired site takes "
    "no new records; what was recorded there stays."
)
table = pd.DataFrame(
    [
        {
            "Site": site.name,
            "Status": "active" if site.active else "retired",
            "Added": components.london_time(site.added_at),
            "Added by": site.added_by,
            "Retired": components.london_time(site.retired_at) if site.retired_at else "",
        }
        for site in sites
    ],
    columns=["Site", "Status", "Added", "Added by", "Retired"],
)
st.dataframe(table, hide_index=True, key="sites_table")


def change(act: Callable[..., SiteView], name: str, slot: Any, refused_as: str, done_as: str) -> None:
    """One change to the list through the service; a refusal is shown in `slot` (nothing written)."""
    try:
        site = act(deps.session_factory(), actor, name, at=deps.now())
    except (CommandRejected, AccessDenied) as refused:
        slot.error(f"{refused_as}: {components.plain(refused)}")
        return
    deps.clear_sites()
    st.session_state["sites_done"] = f"{done_as} {site.name}."
    st.rerun()


left, right = st.columns(2)
with left.form("sites_add_form", clear_on_submit=True):
    name = st.text_input("New site", key="sites_new", max_chars=80)
    add = st.form_submit_button("Add site", type="primary")
add_slot = left.empty()
if add:
    change(add_site, name, add_slot, "Not added", "Added")

active = [site.name for site in sites if site.active]
with right.form("sites_retire_form"):
    chosen = st.selectbox("Site to retire", active, index=None, key="sites_retire", placeholder="Choose")
    retire = st.form_submit_button("Retire site")
retire_slot = right.empty()
if retire:
    if chosen is None:
        retire_slot.error("Site to retire: choose a site.")
    else:
        change(retire_site, chosen, retire_slot, "Not retired", "Retired")
