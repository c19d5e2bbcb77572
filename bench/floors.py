"""The SQL floor beside each query: the same rows from hand-written SQL on the same indexes, run as
plain text through the connection (no ORM, no expression building, rows as tuples).

`worklist_floor` is the query shape of `queries.worklist` for a page (windows in due order, red tier,
then amber, then pathways with nothing standing), written out by hand. `group_by_floor` is the
shape the worklist had before (one GROUP BY over every open pathway's standing windows), for
comparison. Both return pathway references in worklist order; the benchmark asserts they equal
the worklist's.
"""

from datetime import date
from typing import Any

from sqlalchemy import Date, bindparam, text
from sqlalchemy.engine import Connection

STANDING = "{t}.starts_on <= :d AND {t}.ends_on >= :d"

_FIRST_STANDING = f"""
NOT EXISTS (SELECT 1 FROM flag_window e WHERE e.pathway_id = w.pathway_id AND {STANDING.format(t="e")}
            AND (e.due_on < w.due_on OR (e.due_on = w.due_on AND e.id < w.id)))
AND EXISTS (SELECT 1 FROM pathway p WHERE p.id = w.pathway_id AND p.closed_on IS NULL)"""
_RED_STANDS = f"""EXISTS (SELECT 1 FROM flag_window x WHERE x.pathway_id = w.pathway_id AND {STANDING.format(t="x")}
            AND x.severity_rank = 2)"""

RED_TIER = f"""
SELECT w.pathway_id FROM flag_window w
WHERE {STANDING.format(t="w")} AND {_FIRST_STANDING} AND {_RED_STANDS}
ORDER BY w.due_on, (SELECT p.ref FROM pathway p WHERE p.id = w.pathway_id)
LIMIT :n"""

AMBER_TIER = f"""
SELECT w.pathway_id FROM flag_window w
WHERE {STANDING.format(t="w")} AND w.severity_rank = 1 AND {_FIRST_STANDING} AND NOT {_RED_STANDS}
ORDER BY w.due_on, (SELECT p.ref FROM pathway p WHERE p.id = w.pathway_id)
LIMIT :n"""

_QUIET = f"""
SELECT p.id FROM pathway p
WHERE p.closed_on IS NULL AND p.next_due_on IS {{null}}
  AND NOT EXISTS (SELECT 1 FROM flag_window x WHERE x.pathway_id = p.id AND {STANDING.format(t="x")})
ORDER BY {{order}}
LIMIT :n"""
QUIET_DATED = _QUIET.format(null="NOT NULL", order="p.next_due_on, p.ref")
QUIET_UNDATED = _QUIET.format(null="NULL", order="p.ref")

ROWS = """
SELECT p.id, p.ref, pt.ref, p.site, p.decision, p.route, p.extent, p.stage, p.presented_on, p.window_closes_on,
       p.next_step, p.next_due_on, p.version,
       (SELECT s.owner_role FROM step s WHERE s.pathway_id = p.id AND s.code = p.next_step AND s.done_on IS NULL
        ORDER BY s.id DESC LIMIT 1)
FROM pathway p JOIN patient pt ON pt.id = p.patient_id
WHERE p.id IN :ids"""

FLAGS = f"""
SELECT w.pathway_id, w.code, w.severity, w.due_on FROM flag_window w
WHERE w.pathway_id IN :ids AND {STANDING.format(t="w")}"""

GROUP_BY = f"""
SELECT p.ref FROM pathway p
{{join}} JOIN (SELECT pathway_id, max(severity_rank) AS worst, min(due_on) AS due FROM flag_window w
      WHERE {STANDING.format(t="w")} GROUP BY pathway_id) s ON s.pathway_id = p.id
WHERE p.closed_on IS NULL
ORDER BY coalesce(s.worst, 0) DESC, CASE WHEN s.due IS NOT NULL THEN s.due ELSE p.next_due_on END ASC NULLS LAST, p.ref
LIMIT :n"""


def _statement(sql: str) -> Any:
    statement = text(sql)
    if ":d" in sql:
        statement = statement.bindparams(bindparam("d", type_=Date))
    if ":ids" in sql:
        statement = statement.bindparams(bindparam("ids", expanding=True))
    return statement


def worklist_floor(connection: Connection, as_of: date, *, limit: int, flagged_only: bool) -> list[str]:
    """One page of the worklist (references in order), with its rows' columns and standing flags read too."""
    tiers = [RED_TIER, AMBER_TIER] + ([] if flagged_only else [QUIET_DATED, QUIET_UNDATED])
    ids: list[int] = []
    for tier in tiers:
        if len(ids) >= limit:
            break
        ids += [row[0] for row in connection.execute(_statement(tier), {"d": as_of, "n": limit - len(ids)})]
    if not ids:
        return []
    rows = {row[0]: row for row in connection.execute(_statement(ROWS), {"ids": ids})}
    flags: dict[int, list[tuple[Any, ...]]] = {}
    for row in connection.execute(_statement(FLAGS), {"ids": ids, "d": as_of}):
        flags.setdefault(row[0], []).append(tuple(row))
    return [rows[i][1] for i in ids]


def group_by_floor(connection: Connection, as_of: date, *, limit: int, flagged_only: bool) -> list[str]:
    """The worklist's earlier shape: every open pathway's standing windows grouped, sorted, cut."""
    sql = GROUP_BY.format(join="" if flagged_only else "LEFT")
    return [row[0] for row in connection.execute(_statement(sql), {"d": as_of, "n": limit})]


DETAIL = {
    "pathway": "SELECT * FROM pathway WHERE ref = :ref",
    "patient": "SELECT * FROM patient WHERE id = :patient_id",
    "governance": "SELECT min(notified_on) FROM governance_notice WHERE site = :site",
    "steps": "SELECT * FROM step WHERE pathway_id = :id ORDER BY id",
    "audit": "SELECT * FROM audit_event WHERE pathway_ref = :ref ORDER BY id",
}
RECORD_TABLES = (
    "mdt_meeting",
    "anticoagulation_event",
    "research_enrolment",
    "consent",
    "procedure_schedule",
    "procedure",
    "registry_submission",
    "follow_up_visit",
    "anticoagulation_review",
    "filter_outcome",
    "safety_check",
)


def detail_floor(connection: Connection, ref: str) -> str:
    """One patient's page: the pathway, the patient, every record table, the steps and the audit rows."""
    pathway = connection.execute(text(DETAIL["pathway"]), {"ref": ref}).mappings().one()
    connection.execute(text(DETAIL["patient"]), {"patient_id": pathway["patient_id"]}).one()
    connection.execute(text(DETAIL["governance"]), {"site": pathway["site"]}).all()
    for table in RECORD_TABLES:
        connection.execute(
            text(f'SELECT * FROM "{table}" WHERE pathway_id = :id ORDER BY id'), {"id": pathway["id"]}
        ).all()
    connection.execute(text(DETAIL["steps"]), {"id": pathway["id"]}).all()
    connection.execute(text(DETAIL["audit"]), {"ref": ref}).all()
    return str(pathway["ref"])
