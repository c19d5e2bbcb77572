"""Invisible and look-alike characters (hazard H7): a reference or a site that looks like another one.

New references are NFKC-normalised and made of Latin letters, digits and - _ / . only; format
characters (Unicode Cf) are refused in every text field; sites are one site whatever their
compatibility forms, white space or case (pathway.domain.text), on both databases, through the services, the
bulk loader and a database made before the site key existed (migration 0008).
"""

import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from alembic import command as alembic_command
from pydantic import ValidationError
from sqlalchemy import Engine, select, text

from pathway.domain.commands import COMMANDS
from pathway.domain.text import site_key
from pathway.errors import CommandRejected, NotFound
from pathway.services.bulk_load import load_cohort
from pathway.services.demo import SITES as DEMO_SITES
from pathway.store.db import SessionFactory, alembic_config, make_engine, make_session_factory, migrate
from pathway.store.models import AuditEvent, GovernanceNotice, Pathway, Patient
from pathway.views import queries, reports
from tests.conftest import (
    ADMIN,
    POSTGRES_URL,
    consent,
    diagnose,
    governance,
    mdt,
    open_pathway,
    procedure,
    register,
    run,
    start_anticoagulation,
)
from tests.support.commands import OTHER_NHS, assert_rejected

TODAY = date(2026, 6, 15)


# --- references ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("reference", "found"),
    [
        ("P\u200d1", "U+200D ZERO WIDTH JOINER"),
        ("H1\u200b00", "U+200B ZERO WIDTH SPACE"),
        ("\u202eH200", "U+202E RIGHT-TO-LEFT OVERRIDE"),
    ],
)
def test_a_reference_with_an_invisible_character_is_refused(
    factory: SessionFactory, reference: str, found: str
) -> None:
    open_pathway(factory)
    assert_rejected(factory, register(patient=reference, nhs=OTHER_NHS), field="patient", says=("invisible", found))
    assert_rejected(factory, diagnose(pathway=reference), field="pathway", says=("invisible", found))


def test_a_fullwidth_reference_is_the_reference_it_looks_like(factory: SessionFactory) -> None:
    open_pathway(factory)  # H100 with P1
    assert_rejected(factory, diagnose(pathway="Ｐ1"), field="pathway", says=("already exists",))
    assert_rejected(factory, register(patient="Ｈ１００", nhs=OTHER_NHS), field="patient", says=("already registered",))
    # Naming an existing record in fullwidth forms finds it: the command lands on P1.
    outcome = run(factory, start_anticoagulation(pathway="Ｐ１"))
    assert outcome.pathway == "P1"
    outcome = run(factory, diagnose(pathway="P2", patient="Ｈ100"))
    with factory() as session:
        assert session.execute(select(Pathway.ref).order_by(Pathway.ref)).scalars().all() == ["P1", "P2"]


@pytest.mark.parametrize(
    ("reference", "found"),
    [
        ("Н100", "U+041D CYRILLIC CAPITAL LETTER EN"),  # looks like H100
        ("P1\u0441", "U+0441 CYRILLIC SMALL LETTER ES"),
        ("Ρ2", "U+03A1 GREEK CAPITAL LETTER RHO"),
        ("P 1", "U+0020 SPACE"),
        ("P1é", "U+00E9 LATIN SMALL LETTER E WITH ACUTE"),
    ],
)
def test_a_new_reference_outside_latin_letters_digits_and_separators_is_refused(
    factory: SessionFactory, reference: str, found: str
) -> None:
    open_pathway(factory)
    says = ("Latin letters A-Z, digits 0-9 and - _ / . only", found)
    assert_rejected(factory, register(patient=reference, nhs=OTHER_NHS), field="patient", says=says)
    assert_rejected(factory, diagnose(pathway=reference), field="pathway", says=says)


def test_an_unknown_look_alike_reference_is_not_found_never_matched(factory: SessionFactory) -> None:
    open_pathway(factory)
    assert_rejected(factory, start_anticoagulation(pathway="Р1"), field="pathway", says=("no pathway",), error=NotFound)


def test_references_keep_latin_letters_digits_and_separators(factory: SessionFactory) -> None:
    run(factory, register(patient="RX-00/12.a_b"))
    run(factory, diagnose(pathway="DVT-0000042", patient="RX-00/12.a_b"))


# --- free text ----------------------------------------------------------------------------------


@pytest.mark.parametrize("character", ["\u200b", "\u200d", "\u202e", "\u2066", "\u00ad", "\ufeff"])
@pytest.mark.parametrize(
    ("name", "field"),
    [("register_patient", "name"), ("register_patient", "site"), ("record_mdt", "rationale"), ("record_mdt", "by")],
)
def test_every_text_field_refuses_format_characters(
    factory: SessionFactory, character: str, name: str, field: str
) -> None:
    open_pathway(factory)
    payload = register(patient="H200", nhs=OTHER_NHS, name="Ada Testcase") if name == "register_patient" else mdt()
    payload[field] = f"Dr{character} Example"
    assert_rejected(factory, payload, field=field, says=("invisible format characters", "found U+"))


def test_no_command_text_field_escapes_the_format_character_rule() -> None:
    """Every text field of every command goes through the shared text validators (pathway.domain.commands)."""
    checked = 0
    for name, model in COMMANDS.items():
        for field, info in model.model_fields.items():
            annotation = str(info.annotation)
            if (
                field in ("command", "nhs_number")
                or not re.search(r"\bstr\b", annotation)
                or "Literal" in annotation
                or "Attendee" in annotation
            ):
                continue
            value: Any = ["x\u200dy"] if annotation.startswith("list") else "x\u200dy"
            with pytest.raises(ValidationError) as caught:
                model.model_validate({"command": name, field: value})
            mine = [e for e in caught.value.errors() if e["loc"][0] == field]
            assert mine and "invisible format characters" in mine[0]["msg"], (name, field, mine)
            checked += 1
    assert checked >= 40


def test_a_made_up_field_name_is_quoted_in_the_rejection_never_echoed_raw() -> None:
    from pathway.domain.commands import parse_command

    payload = register() | {"\x1b[31mred\u202e": 1}
    with pytest.raises(CommandRejected) as caught:
        parse_command(payload)
    assert "\x1b" not in str(caught.value) and "\u202e" not in str(caught.value)
    assert caught.value.field == repr("\x1b[31mred\u202e")
    with pytest.raises(CommandRejected) as unknown:
        parse_command({"command": "\x1b[2J" + "x" * 100})
    assert "\x1b" not in str(unknown.value) and len(unknown.value.rule) < 400


# --- sites --------------------------------------------------------------------------------------


def test_site_spellings_are_one_site_the_first_spelling_kept(factory: SessionFactory) -> None:
    run(factory, governance(site="North Vale"))
    run(factory, register(patient="H1", nhs="9990000018", site="north\u00a0 vale"))
    run(factory, register(patient="H2", nhs="9990000026", site="NORTH VALE "))
    run(factory, register(patient="H3", nhs="9990000034", site="Ｎorth Vale"))
    with factory() as session:
        assert session.execute(select(Patient.site).distinct()).scalars().all() == ["North Vale"]
        query = select(AuditEvent).where(AuditEvent.command == "register_patient")
        registered = list(session.execute(query).scalars())
        # The audit row keeps the spelling typed when another was stored (NFKC and white space aside).
        assert [e.after.get("site_as_typed") for e in registered] == ["north vale", "NORTH VALE", None]
        assert {e.after["site"] for e in registered} == {"North Vale"}


def test_a_governance_notice_under_another_spelling_answers_the_sites_pmt(factory: SessionFactory) -> None:
    run(factory, register(site="north vale"))
    run(factory, diagnose())
    run(factory, start_anticoagulation())
    run(factory, mdt())
    run(factory, consent())
    with factory() as session:
        flags = {f.code for f in queries.pathway_detail(session, "P1", TODAY).flags}
    assert "GOVERNANCE_NOTICE_OUTSTANDING" in flags
    run(factory, governance(site="North\u00a0Vale"))
    with factory() as session:
        flags = {f.code for f in queries.pathway_detail(session, "P1", TODAY).flags}
        assert session.execute(select(GovernanceNotice.site)).scalars().all() == ["North Vale"]  # the list's spelling
    assert "GOVERNANCE_NOTICE_OUTSTANDING" not in flags
    run(factory, procedure())  # special arrangements: the notice is on file for the site


def test_the_worklist_and_reports_filter_a_site_by_any_of_its_spellings(factory: SessionFactory) -> None:
    run(factory, register(patient="H1", nhs="9990000018", site="North Vale"))
    run(factory, register(patient="H2", nhs="9990000026", site="Harbour Royal"))
    run(factory, diagnose(pathway="P1", patient="H1"))
    run(factory, diagnose(pathway="P2", patient="H2"))
    with factory() as session:
        for spelling in ("North Vale", "north\u00a0vale", "NORTH  VALE", "Ｎｏｒｔｈ Vale"):
            assert [r.pathway for r in queries.worklist(session, TODAY, site=spelling)] == ["P1"]
            assert [r.pathway for r in queries.worklist(session, TODAY, site=spelling, limit=10)] == ["P1"]
            assert reports.count_worklist(session, TODAY, site=spelling) == 1
            assert sum(queries.count_open(session, TODAY, site=spelling).values()) == 1
        assert reports.sites(session) == ["Harbour Royal", "North Vale"]


def test_the_site_filter_offers_sites_with_a_pathway_in_the_lists_spelling(factory: SessionFactory) -> None:
    run(factory, register(patient="H1", nhs="9990000018", site="north vale"))
    run(factory, register(patient="H2", nhs="9990000026", site="Harbour Royal"))
    run(factory, diagnose(pathway="P1", patient="H1"))
    with factory() as session:
        # Harbour Royal is listed and has a patient, but no pathway yet: not offered.
        assert reports.sites(session) == ["North Vale"]
    run(factory, diagnose(pathway="P2", patient="H2"))
    with factory() as session:
        # A site written around the services and never listed: offered in its first recorded spelling.
        session.execute(text("DELETE FROM site WHERE site_key = 'harbour royal'"))
        session.commit()
    with factory() as session:
        assert reports.sites(session) == ["Harbour Royal", "North Vale"]


def test_the_bulk_loader_parses_and_files_sites_as_the_services_do(factory: SessionFactory) -> None:
    run(factory, register(patient="H1", nhs="9434765919", site="north vale general"))
    load_cohort(factory, patients=12, seed=3, today=TODAY, actor=ADMIN)
    with factory() as session:
        spellings = set(session.execute(select(Patient.site)).scalars().all())
        assert spellings == set(DEMO_SITES)  # each site in its spelling on the managed list, whatever was typed
        assert all(p.site_key == site_key(p.site) for p in session.execute(select(Pathway)).scalars().all())
        assert reports.sites(session).count("North Vale General") == 1
        at_site = queries.worklist(session, TODAY, site="North Vale General")
    assert len(at_site) == 3  # every fourth generated patient, all filed under the list's spelling


# --- existing data --------------------------------------------------------------------------------


def _database_at_0006(tmp_path: Path, engine_url: str | None) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'old.db'}") if engine_url is None else make_engine(engine_url)
    alembic_command.upgrade(alembic_config(engine), "0006")
    return engine


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def test_sites_recorded_before_the_site_key_are_one_site_after_the_migration(
    tmp_path: Path, backend: str, request: pytest.FixtureRequest
) -> None:
    url = None
    if backend == "postgres":
        if not POSTGRES_URL:
            pytest.skip("needs PATHWAY_TEST_POSTGRES_URL")
        url = request.getfixturevalue("fresh_postgres")
    engine = _database_at_0006(tmp_path, url)
    now = "2026-06-15 11:00:00" if backend == "sqlite" else "2026-06-15 11:00:00+00"
    with engine.begin() as connection:
        for i, (ref, site) in enumerate([("H1", "North Vale"), ("H2", "north\u00a0vale "), ("H3", "Harbour Royal")]):
            connection.execute(
                text(
                    "INSERT INTO patient (id, ref, nhs_number, date_of_birth, sex, site, recorded_at, recorded_by)"
                    " VALUES (:id, :ref, :nhs, '1970-03-04', 'female', :site, :now, 'old')"
                ),
                {"id": i + 1, "ref": ref, "nhs": f"999000001{i}", "site": site, "now": now},
            )
        connection.execute(
            text(
                "INSERT INTO governance_notice (site, notified_on, lead, recorded_at, recorded_by)"
                " VALUES ('NORTH VALE', '2026-01-10', 'Dr Lead', :now, 'old')"
            ),
            {"now": now},
        )
    migrate(engine)
    factory = make_session_factory(engine)
    with factory() as session:
        keys = dict(session.execute(select(Patient.ref, Patient.site_key)).tuples().all())
        assert keys == {"H1": "north vale", "H2": "north vale", "H3": "harbour royal"}
        assert session.execute(select(GovernanceNotice.site_key)).scalars().all() == ["north vale"]
        # Recorded as they were: nothing a clinician entered is rewritten.
        assert session.execute(select(Patient.site).where(Patient.ref == "H2")).scalars().one() == "north\u00a0vale "
    run(factory, diagnose(pathway="P2", patient="H2"))
    with factory() as session:
        (pathway,) = session.execute(select(Pathway)).scalars().all()
        assert pathway.site_key == "north vale"
        assert [r.pathway for r in queries.worklist(session, TODAY, site="North Vale")] == ["P2"]
        assert queries.pathway_detail(session, "P2", TODAY).record.governance_notified_on == date(2026, 1, 10)
    engine.dispose()


@pytest.fixture
def fresh_postgres() -> Any:
    """An empty PostgreSQL database of its own (the migration starts from nothing), dropped after."""
    import uuid

    from sqlalchemy import create_engine
    from sqlalchemy.engine import make_url

    assert POSTGRES_URL
    server = create_engine(POSTGRES_URL, isolation_level="AUTOCOMMIT")
    name = f"pathway_sitekey_{uuid.uuid4().hex[:8]}"
    with server.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield make_url(POSTGRES_URL).set(database=name).render_as_string(hide_password=False)
    with server.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    server.dispose()
