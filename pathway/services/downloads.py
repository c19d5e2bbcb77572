"""Downloads that carry patient identifiers, audited like a record opening (the service decides, never
the page): one pathway as a FHIR bundle holds the NHS number, name and date of birth."""

from datetime import date, datetime
from typing import TYPE_CHECKING

from sqlmodel import select

from pathway.domain.roles import Actor
from pathway.errors import NotFound
from pathway.store import audit
from pathway.store.db import SessionFactory
from pathway.store.models import Pathway
from pathway.store.unit_of_work import writing

if TYPE_CHECKING:
    from fhir.resources.R4B.bundle import Bundle

FHIR_EXPORT = "export_fhir"


def export_fhir(
    session_factory: SessionFactory, actor: Actor, ref: str, *, as_of: date, recorded_at: datetime
) -> "Bundle":
    """One pathway as a FHIR R4B bundle for a person, auditing the download (one `export_fhir` row).

    A role that may not see identifiers (the auditor) gets the same NotFound as an unknown reference,
    and the refusal is audited all the same.
    """
    from pathway.exports.fhir import export_pathway  # fhir.resources takes seconds to import

    allowed = actor.sees_identifiers
    with writing(session_factory) as session:
        found = session.exec(select(Pathway.id).where(Pathway.ref == ref)).first() is not None
        audit.append(
            session,
            at=recorded_at,
            actor=actor.name,
            role=actor.role.value,
            command=FHIR_EXPORT,
            outcome="read" if allowed and found else "denied",
            pathway_ref=ref if found else None,
        )
    if not (allowed and found):
        raise NotFound("pathway", "no pathway has this reference")
    with session_factory() as session:
        return export_pathway(session, ref, as_of)
