"""The FHIR download (NHS number, name, date of birth) is an audited read decided by the service: one
`export_fhir` row per download, and a refusal (auditor role, unknown reference) audited and shaped like
an unknown reference."""

from datetime import date

import pytest
from sqlmodel import col, select

from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.errors import NotFound
from pathway.services.downloads import export_fhir
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from tests.conftest import RECORDED_AT, treated_pathway

DAY = date(2026, 6, 15)


def _trail(factory: SessionFactory) -> list[tuple[str, str, str, str | None]]:
    with factory() as session:
        rows = session.exec(select(AuditEvent).where(AuditEvent.command == "export_fhir").order_by(col(AuditEvent.id)))
        return [(r.actor, r.role, r.outcome, r.pathway_ref) for r in rows]


def test_a_clinicians_download_is_audited(sqlite_factory: SessionFactory) -> None:
    treated_pathway(sqlite_factory)
    bundle = export_fhir(sqlite_factory, Actor("dr-a", Role.clinician), "P1", as_of=DAY, recorded_at=RECORDED_AT)
    assert bundle.entry
    assert _trail(sqlite_factory) == [("dr-a", "clinician", "read", "P1")]


@pytest.mark.parametrize(("role", "ref"), [(Role.auditor, "P1"), (Role.clinician, "NOPE")])
def test_a_refused_download_is_audited_and_looks_like_an_unknown_reference(
    sqlite_factory: SessionFactory, role: Role, ref: str
) -> None:
    treated_pathway(sqlite_factory)
    with pytest.raises(NotFound):
        export_fhir(sqlite_factory, Actor("someone", role), ref, as_of=DAY, recorded_at=RECORDED_AT)
    expected_ref = "P1" if ref == "P1" else None
    assert _trail(sqlite_factory) == [("someone", role.value, "denied", expected_ref)]
