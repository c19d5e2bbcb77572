"""Dashboard fixtures: a seeded SQLite file per test (copied from one made per run), named accounts,
and AppTest helpers that start signed in or not.

Dates are relative to the real today, because the dashboard records at the real time.
"""

import logging
import shutil
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

# Pay the heavy imports once at collection, not inside AppTest's per-run timeout.
import altair  # noqa: F401
import pandas  # noqa: F401
import pytest
from streamlit.testing.v1 import AppTest

from pathway.domain.clock import london_today, utc_now
from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.services.accounts import add_user, start_session
from pathway.services.commands import execute
from pathway.settings import Settings
from pathway.store.db import SessionFactory, make_engine, make_session_factory, migrate
from tests.conftest import MDT_ATTENDEES
from tests.support.sites import list_sites

ROOT = Path(__file__).resolve().parents[2]
APP = ROOT / "dashboard" / "streamlit_app.py"
PAGES = ROOT / "dashboard" / "app_pages"
TIMEOUT = 30  # a first render imports pandas and altair: seconds on two busy cores
PASSWORD = "correct horse battery"
ACCOUNTS = {"coord": Role.coordinator, "clin": Role.clinician, "audit": Role.auditor, "boss": Role.admin}
SEEDER = Actor("seed", Role.admin)
# Cheap argon2 for tests only: the hash format is the same, the work factor is not.
CHEAP_HASH = {"PATHWAY_ARGON2_TIME_COST": "1", "PATHWAY_ARGON2_MEMORY_KIB": "64"}
NHS = ["9434765919", "9990000018", "9990000026", "9990000034", "9990000042"]


class _DropBareModeNoise(logging.Filter):
    """AppTest logs 'missing ScriptRunContext' when state is set before a run; harmless here."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        return "missing ScriptRunContext" not in message and "No runtime found" not in message


for _name in ("streamlit.runtime.scriptrunner_utils.script_run_context", "streamlit.runtime.caching.cache_data_api"):
    logging.getLogger(_name).addFilter(_DropBareModeNoise())


def day(offset: int) -> str:
    return (london_today() + timedelta(days=offset)).isoformat()


def seed(factory: SessionFactory) -> None:
    """Five pathways whose flags are known today; see each comment."""

    def run(payload: dict[str, Any]) -> None:
        execute(factory, SEEDER, payload, recorded_at=utc_now())

    run({"command": "notify_governance", "site": "North Vale", "notified_on": day(-100), "lead": "Dr Lead"})
    people = [
        ("H1", "North Vale", "Ada Testcase"),
        ("H2", "North Vale", "Bo Sample"),
        ("H3", "North Vale", "Cy Example"),
        ("H4", "North Vale", "Di Mockford"),
        ("H5", "Harbour Royal", "Ed Fictor"),
    ]
    for (patient, site, name), nhs in zip(people, NHS, strict=True):
        run(
            {
                "command": "register_patient",
                "patient": patient,
                "nhs_number": nhs,
                "date_of_birth": "1970-03-04",
                "sex": "female",
                "site": site,
                "name": name,
            }
        )

    def diagnose(pathway: str, patient: str, presented: int, veins: list[str]) -> None:
        run(
            {
                "command": "record_diagnosis",
                "patient": patient,
                "pathway": pathway,
                "presented_on": day(presented),
                "symptom_onset_on": day(presented),
                "referred_on": day(presented),
                "leg": "left",
                "veins": veins,
                "imaging": "duplex",
            }
        )

    def anticoagulate(pathway: str, on: int) -> None:
        run({"command": "start_anticoagulation", "pathway": pathway, "agent": "apixaban", "started_on": day(on)})

    def mdt(pathway: str, on: int) -> None:
        run(
            {
                "command": "record_mdt",
                "pathway": pathway,
                "held_on": day(on),
                "attendees": MDT_ATTENDEES,
                "decision": "pmt",
                "thrombolysis": False,
                "rationale": "Iliofemoral DVT, good functional status.",
            }
        )

    iliofemoral = ["common_femoral", "femoral"]
    # P-CONSENT: PMT chosen, consent outstanding (amber); 9 days left in the window.
    diagnose("P-CONSENT", "H1", -5, iliofemoral)
    anticoagulate("P-CONSENT", -5)
    mdt("P-CONSENT", -4)
    # P-MISSED: no MDT, no anticoagulation, window missed (red).
    diagnose("P-MISSED", "H2", -20, iliofemoral)
    # P-TREATED: PMT 35 days ago, registry entry overdue (red).
    diagnose("P-TREATED", "H3", -40, iliofemoral)
    anticoagulate("P-TREATED", -40)
    mdt("P-TREATED", -39)
    run(
        {
            "command": "record_consent",
            "pathway": "P-TREATED",
            "consented_on": day(-38),
            "information_leaflet": "PIL-PMT v1.0",
            "uncertainties_discussed": True,
        }
    )
    run(
        {
            "command": "record_procedure",
            "pathway": "P-TREATED",
            "performed_on": day(-35),
            "technique": "pmt",
            "device": "Synthetic catheter",
            "access_vein": "popliteal",
            "ivc_filter": "none",
            "stent": False,
            "clot_removal": "grade_3",
            "complications": ["access-site haematoma"],
        }
    )
    # P-QUIET: presented yesterday, anticoagulated: nothing standing yet.
    diagnose("P-QUIET", "H4", -1, iliofemoral)
    anticoagulate("P-QUIET", -1)
    # P-HARBOUR: another site, femoropopliteal (research-only route if PMT is chosen).
    diagnose("P-HARBOUR", "H5", -2, ["femoral", "popliteal"])
    anticoagulate("P-HARBOUR", -2)


@pytest.fixture(scope="session")
def seeded_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated, seeded database file per run; each test gets its own copy."""
    path = tmp_path_factory.mktemp("template") / "pathway.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate(engine)
    factory = make_session_factory(engine)
    with pytest.MonkeyPatch.context() as patch:
        for key, value in CHEAP_HASH.items():
            patch.setenv(key, value)
        list_sites(factory)  # the sites on the managed list, as an admin would add them
        seed(factory)
        for name, role in ACCOUNTS.items():
            add_user(factory, name, role, PASSWORD)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture
def database(seeded_template: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[SessionFactory]:
    """This test's copy of the seeded database, with the dashboard pointed at it by environment."""
    path = tmp_path / "pathway.db"
    shutil.copy(seeded_template, path)
    url = f"sqlite:///{path}"
    monkeypatch.setenv("PATHWAY_DATABASE_URL", url)
    monkeypatch.setenv("PATHWAY_HOME", str(tmp_path))
    for key, value in CHEAP_HASH.items():
        monkeypatch.setenv(key, value)
    _clear_streamlit_caches()
    engine = make_engine(url)
    yield make_session_factory(engine)
    engine.dispose()
    _clear_streamlit_caches()


def _clear_streamlit_caches() -> None:
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()


def signed_in(at: AppTest, name: str) -> AppTest:
    """Start an AppTest with `name` signed in a moment ago (as the login form would leave it): a real
    server-side session in the database the dashboard reads (PATHWAY_DATABASE_URL)."""
    now = utc_now()
    engine = make_engine(Settings().resolved_database_url())
    try:
        at.session_state["auth_token"] = start_session(
            make_session_factory(engine), Actor(name, ACCOUNTS[name]), now, kind="test"
        )
    finally:
        engine.dispose()
    at.session_state["auth_user"] = name
    at.session_state["auth_role"] = ACCOUNTS[name].value
    at.session_state["auth_signed_in_at"] = now
    at.session_state["auth_last_active_at"] = now
    return at


def page(name: str, user: str | None = None, **state: Any) -> AppTest:
    """One page file run on its own, signed in as `user`, with extra session state preset."""
    at = AppTest.from_file(str(PAGES / f"{name}.py"), default_timeout=TIMEOUT)
    if user:
        signed_in(at, user)
    for key, value in state.items():
        at.session_state[key] = value
    return at.run()


def app(user: str | None = None) -> AppTest:
    at = AppTest.from_file(str(APP), default_timeout=TIMEOUT)
    if user:
        signed_in(at, user)
    return at.run()


def texts(at: AppTest) -> str:
    """Every text the run put on the page (markdown, captions, alerts, metrics, tables), for searching."""
    parts: list[str] = []
    for kind in ("title", "subheader", "markdown", "caption", "text", "info", "success", "warning", "error"):
        parts += [str(element.value) for element in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [frame.value.to_csv() for frame in at.dataframe]
    return "\n".join(parts)


def today() -> date:
    return london_today()


def tree(at: AppTest) -> list[Any]:
    """Every element of the main area in page order (blocks opened)."""
    from streamlit.testing.v1.element_tree import Block

    found: list[Any] = []

    def walk(node: Any) -> None:
        for child in node.children.values():
            found.append(child)
            if isinstance(child, Block):
                walk(child)

    walk(at.main)
    return found


def element_after(at: AppTest, key: str) -> Any:
    """The element drawn right after the widget with this key (where a field's error goes)."""
    elements = tree(at)
    index = next(i for i, e in enumerate(elements) if getattr(e, "key", None) == key)
    return elements[index + 1]


@pytest.fixture(autouse=True)
def _fail_on_streamlit_deprecations(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Streamlit logs its deprecations instead of warning, so filterwarnings=error misses them."""
    logger = logging.getLogger("streamlit.deprecation_util")
    logger.addHandler(caplog.handler)
    try:
        yield
    finally:
        logger.removeHandler(caplog.handler)
    deprecations = [r.getMessage() for r in caplog.records if r.name == "streamlit.deprecation_util"]
    assert not deprecations, deprecations
