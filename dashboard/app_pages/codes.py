"""Codes and leaflets: search ICD-10, ICD-10-CM and the pathway's procedure codes, read a code's detail
and its similar codes, and print the patient information leaflet (HTML or PDF) a consent records."""

import pandas as pd  # type: ignore[import-untyped,unused-ignore]  # no pandas-stubs in the lock
import streamlit as st

from dashboard import auth, components
from pathway.codes import SYSTEMS, CodeDetail, CodeEntry, search_codes, show_code
from pathway.codes.models import SYSTEM_NAMES
from pathway.errors import UnknownCodeError
from pathway.leaflets import Leaflet, get_leaflet, list_leaflets, render_html, render_pdf

auth.require_actor()
st.title("Codes and leaflets")


@st.cache_data(max_entries=10, show_spinner=False)
def leaflet_pdf(key: str) -> bytes:
    """A leaflet's PDF, built once per leaflet version (the words are fixed per version)."""
    return render_pdf(get_leaflet(key))


def entries_frame(entries: tuple[CodeEntry, ...] | list[CodeEntry]) -> pd.DataFrame:
    return pd.DataFrame([e.to_dict() for e in entries], columns=["code", "system", "description"])


def show_detail(detail: CodeDetail) -> None:
    st.subheader(f"{detail.code} · {detail.description}")
    st.caption(f"{SYSTEM_NAMES[detail.system]} · {detail.kind}")
    if not detail.confirmed:
        st.warning("UNCONFIRMED in the pathway research: check this code before use.")
    if detail.parent:
        st.markdown(f"Within **{detail.parent.code}** {detail.parent.description}")
    if detail.includes:
        st.markdown("Includes: " + "; ".join(detail.includes))
    if detail.also_in:
        st.markdown("Also in: " + ", ".join(SYSTEM_NAMES[s] for s in detail.also_in))
    for note in detail.notes:
        st.info(note)
    for leaflet in list_leaflets():
        if leaflet.procedure_code == detail.code and detail.system == "procedure":
            st.markdown(f"Patient leaflet for this procedure: **{leaflet.label}** (below).")
    if detail.similar:
        st.markdown("**Similar codes**")
        st.dataframe(entries_frame(detail.similar), hide_index=True, key="codes_similar")
    if detail.children:
        st.markdown("**Codes within it**")
        st.dataframe(entries_frame(detail.children), hide_index=True, key="codes_children")
    for section in detail.about:
        with st.expander(section.heading):
            st.markdown("\n".join(f"- {point}" for point in section.points))


query = st.text_input("Search codes", key="codes_query", placeholder="femoral vein, I82.41, 37187 or DVT")
system = st.selectbox(
    "Code system",
    [None, *SYSTEMS],
    format_func=lambda s: "All three" if s is None else SYSTEM_NAMES[s],
    key="codes_system",
)
if query.strip():
    try:
        results = search_codes(query, system=system, limit=100)
    except ValueError as error:
        st.error(components.plain(error))
        results = []
    if not results:
        st.info(f"No code matches {components.plain(repr(query.strip()))}.")
    else:
        st.caption(f"{len(results)} codes (at most 100), exact code matches first.")
        st.dataframe(entries_frame(results), hide_index=True, key="codes_results")
        choice = st.selectbox(
            "Show a code",
            [f"{e.system}:{e.code}" for e in results],
            format_func=lambda v: f"{v.split(':', 1)[1]} ({v.split(':', 1)[0]})",
            key="codes_selected",
        )
        chosen_system, _, chosen_code = (choice or "").partition(":")
        try:
            show_detail(show_code(chosen_code, system=chosen_system))
        except UnknownCodeError as unknown:
            st.error(components.plain(unknown))

st.divider()
st.subheader("Patient information leaflets")
st.caption("One leaflet per procedure. A consent record stores the label of the version the patient was given.")
leaflets = {leaflet.key: leaflet for leaflet in list_leaflets()}
key = st.selectbox(
    "Leaflet",
    list(leaflets),
    format_func=lambda k: f"{leaflets[k].label} · {leaflets[k].title}",
    key="codes_leaflet",
)
leaflet: Leaflet = leaflets[key or "pmt"]
st.markdown(f"**{leaflet.title}** · label for the consent record: `{leaflet.label}`")
with st.expander("Read the leaflet"):
    for section in leaflet.sections:
        st.markdown(f"**{section.heading}**\n\n" + "\n".join(f"- {point}" for point in section.points))
name = leaflet.label.replace(" ", "-")
st.download_button(
    "Leaflet as HTML (print from the browser)",
    data=render_html(leaflet).encode("utf-8"),
    file_name=f"{name}.html",
    mime="text/html",
    key="codes_leaflet_html",
    on_click="ignore",
)
st.download_button(
    "Leaflet as PDF",
    data=leaflet_pdf(leaflet.key),
    file_name=f"{name}.pdf",
    mime="application/pdf",
    key="codes_leaflet_pdf",
    on_click="ignore",
)
