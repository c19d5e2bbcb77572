"""Downloads that carry patient identifiers or references, audited by the service, never the page.

One pathway as a FHIR bundle holds the NHS number, name and date of birth: `export_fhir` audits it like
a record opening (one `export_fhir` row; a role that may not see identifiers, or an account limited to
other sites, gets the same NotFound as an unknown reference, and the refusal is audited too). Files made
from many rows (the worklist CSV, the registry file) are audited when they are made: one `download` row
per file handed out, saying what kind, for whom, with which filters and how many rows, never the content.
"""

import csv
import io
from collections.abc import Callable
from datetime import date, datetime
from typing import TYPE_CHECKING, Any

from pathway.domain.roles import Actor
from pathway.services.commands import audit_read
from pathway.store import audit
from pathway.store.db import SessionFactory
from pathway.store.unit_of_work import writing

if TYPE_CHECKING:
    from fhir.resources.R4B.bundle import Bundle

FHIR_EXPORT = "export_fhir"
# The FHIR bundle is not among these: it goes through export_fhir, the one audited path for it.
KINDS = frozenset({"worklist_csv", "registry_csv", "registry_json"})


def export_fhir(
    session_factory: SessionFactory, actor: Actor, ref: str, *, as_of: date, recorded_at: datetime
) -> "Bundle":
    """One pathway as a FHIR R4B bundle for a person, auditing the download (one `export_fhir` row).

    A role that may not see identifiers (the auditor), or an account whose sites do not include the
    pathway's, gets the same NotFound as an unknown reference, and the refusal is audited all the same.
    """
    from pathway.exports.fhir import export_pathway  # fhir.resources takes seconds to import

    audit_read(session_factory, actor, ref, command=FHIR_EXPORT, allowed=actor.sees_identifiers, at=recorded_at)
    with session_factory() as session:
        return export_pathway(session, ref, as_of)


def record_download(
    factory: SessionFactory,
    actor: Actor,
    kind: str,
    *,
    at: datetime,
    rows: int | None = None,
    pathway: str | None = None,
    site: str | None = None,
    filters: dict[str, Any] | None = None,
) -> None:
    """One audit row for one file handed out (one transaction)."""
    if kind not in KINDS:
        raise ValueError(f"kind: must be one of {', '.join(sorted(KINDS))}")
    after: dict[str, Any] = {"kind": kind, "identifiers": actor.sees_identifiers}
    if rows is not None:
        after["rows"] = rows
    if filters:
        after["filters"] = {key: value for key, value in filters.items() if value not in (None, "", False)}
    with writing(factory) as session:
        audit.append(
            session,
            at=at,
            actor=actor.name,
            role=actor.role.value,
            command="download",
            outcome="read",
            pathway_ref=pathway,
            site=site,
            after=after,
        )


def audited(
    factory: SessionFactory,
    actor: Actor,
    kind: str,
    make: Callable[[], str],
    *,
    clock: Callable[[], datetime],
    rows: Callable[[str], int] | None = None,
    pathway: str | None = None,
    site: str | None = None,
    filters: dict[str, Any] | None = None,
) -> Callable[[], str]:
    """A file maker that audits each file it makes (for a download button that makes its file on the
    click: drawing the button is not a download). The row is written after the file is made, so a
    failure to make it leaves none; `rows` counts the file's rows for the audit."""

    def make_and_record() -> str:
        content = make()
        record_download(
            factory,
            actor,
            kind,
            at=clock(),
            rows=rows(content) if rows else None,
            pathway=pathway,
            site=site,
            filters=filters,
        )
        return content

    return make_and_record


def csv_rows(content: str) -> int:
    """Data rows of a CSV file (its records less the header; a quoted cell may hold a line break)."""
    return max(sum(1 for _ in csv.reader(io.StringIO(content))) - 1, 0)
