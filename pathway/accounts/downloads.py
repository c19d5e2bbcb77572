"""Downloads that carry patients' identifiers or references (worklist CSV, registry file, FHIR bundle)
are audited when they are made: one `download` row per file handed out, saying what kind, for whom,
with which filters and how many rows, never the content."""

import csv
import io
from collections.abc import Callable
from datetime import datetime
from typing import Any

from sqlmodel import select

from pathway import audit
from pathway.db import WRITE_OPTION, SessionFactory
from pathway.errors import NotFound
from pathway.models import Pathway
from pathway.roles import Actor

KINDS = frozenset({"worklist_csv", "registry_csv", "registry_json", "fhir_bundle"})


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
    with factory() as session, session.begin():
        session.connection(execution_options={WRITE_OPTION: True})
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


def check_pathway_visible(factory: SessionFactory, actor: Actor, ref: str, *, at: datetime) -> None:
    """Before an export of one pathway: another site's pathway (per-site access) is refused exactly
    like an unknown reference (NotFound), and the attempt is audited (`download`, outcome denied)."""
    with factory() as session:
        site = session.exec(select(Pathway.site).where(Pathway.ref == ref)).first()
    if site is None or actor.sees_site(site):
        return  # unknown references are the exporter's own NotFound
    with factory() as session, session.begin():
        session.connection(execution_options={WRITE_OPTION: True})
        audit.append(
            session,
            at=at,
            actor=actor.name,
            role=actor.role.value,
            command="download",
            outcome="denied",
            pathway_ref=ref,
            after={"kind": "fhir_bundle", "reason": "other_site"},
        )
    raise NotFound("pathway", "no pathway has this reference")
