"""Downloads that carry patient identifiers, audited like a record opening (the service decides, never
the page): one pathway as a FHIR bundle holds the NHS number, name and date of birth."""

from datetime import date, datetime
from typing import TYPE_CHECKING

from pathway.domain.roles import Actor
from pathway.services.commands import audit_read
from pathway.store.db import SessionFactory

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

    audit_read(session_factory, actor, ref, command=FHIR_EXPORT, allowed=actor.sees_identifiers, at=recorded_at)
    with session_factory() as session:
        return export_pathway(session, ref, as_of)
