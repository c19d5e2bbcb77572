"""A patient whose recorded text is hostile markdown, HTML and Streamlit directives (shared by the
dashboard's plain-text tests, AppTest and browser)."""

from typing import Any

from pathway.domain.clock import utc_now
from pathway.services.commands import execute
from pathway.store.db import SessionFactory
from tests.conftest import MDT_ATTENDEES
from tests.dashboard.conftest import SEEDER, day
from tests.support.sites import list_sites

IMAGE = "![px](http://127.0.0.1:8699/p.png)"
NAME = ":red[Jane] · NHS 9999999999"
RATIONALE = "<img src=x onerror=alert(1)> $x^2$ [link](http://127.0.0.1:8699/l) **bold** :material/home: -> :smile:"
CLINICIAN = "__Dr Under__ `code` # heading"
HOSTILE = (IMAGE, NAME, RATIONALE, CLINICIAN)
# What markdown would act on, in any of them: none may reach a markdown element as it was typed.
ACTIVE = ("![px](", ":red[Jane", "<img", "$x^2$", "[link](", "**bold**", ":material/home", ":smile:", "__Dr", "`code`")
HOSTILE_NHS = "9990000050"


def record_hostile_patient(factory: SessionFactory, *, site: str = IMAGE, rationale: str = RATIONALE) -> None:
    def run(payload: dict[str, Any]) -> None:
        execute(factory, SEEDER, payload, recorded_at=utc_now())

    list_sites(factory, [site])  # an admin may well have put a hostile name on the list of sites

    run(
        {
            "command": "register_patient",
            "patient": "H-HOSTILE",
            "nhs_number": HOSTILE_NHS,
            "date_of_birth": "1970-03-04",
            "sex": "female",
            "site": site,
            "name": NAME,
        }
    )
    run(
        {
            "command": "record_diagnosis",
            "patient": "H-HOSTILE",
            "pathway": "P-HOSTILE",
            "presented_on": day(-3),
            "symptom_onset_on": day(-3),
            "referred_on": day(-3),
            "leg": "left",
            "veins": ["common_femoral"],
            "imaging": "duplex",
        }
    )
    attendees = [*MDT_ATTENDEES, {"name": CLINICIAN, "role": "nurse"}]
    run(
        {
            "command": "record_mdt",
            "pathway": "P-HOSTILE",
            "held_on": day(-2),
            "attendees": attendees,
            "decision": "pmt",
            "thrombolysis": False,
            "rationale": rationale,
            "by": CLINICIAN,
        }
    )
