"""`pathway audit verify` in full: the chain, the clinical rows against it, and the anchors outside it.

    check = check_audit(factory, store, at=utc_now(), source="verify")
    check.intact, check.problems, check.rows, check.head, check.anchor

1. the hash chain (pathway.store.audit.verify), keeping the hashes at every anchored row count;
2. the clinical tables against the fingerprints the chain recorded (pathway.store.audit_rows);
3. the anchors of this database since its last restore (pathway.store.audit_anchor): no fewer rows than
   anchored, the same hash at each anchored row, the same patients' identifiers as at the last anchor;
4. if all is in order and a store is given, a new anchor (this is how each verify and each weekly
   digest extends the evidence outside the database).
"""

from dataclasses import dataclass, field
from datetime import datetime

from pathway.store import audit
from pathway.store.audit_anchor import Anchor, AnchorStore, append, highest_patient, identifiers_digest, read_anchors
from pathway.store.audit_rows import Expected, check_rows
from pathway.store.db import SessionFactory


@dataclass(frozen=True)
class AuditCheck:
    rows: int  # audit rows
    head: str | None  # the last row's hash
    clinical_rows: int  # clinical rows compared with the trail
    problems: list[str] = field(default_factory=list)
    anchors_checked: int = 0
    anchor: Anchor | None = None  # the anchor written by this check

    @property
    def intact(self) -> bool:
        return not self.problems


def check_audit(
    factory: SessionFactory,
    store: AnchorStore | None,
    *,
    at: datetime,
    source: str,
    compare_anchors: bool = True,
) -> AuditCheck:
    """Check everything (module docstring); anchor the result if it is in order and `store` is given.
    `compare_anchors=False` (a restore) checks the database on its own and starts its anchors afresh."""
    anchors, problems = read_anchors(store) if store and compare_anchors else ([], [])
    expected = Expected()
    with factory() as session:
        chain = audit.verify(session, on_row=expected.add, hashes_at={a.rows for _, a in anchors})
        if not chain.intact:
            problems.append(f"row {chain.first_bad_id}: {chain.reason}")
            return AuditCheck(chain.rows, None, 0, problems)
        clinical, row_problems = check_rows(session, expected)
        problems += row_problems
        for number, anchor in anchors:
            problems += _against(anchor, number, chain)
        if anchors:
            _, last = anchors[-1]
            if identifiers_digest(session, last.patients_up_to, store.key if store else None) != last.identifiers:
                problems.append(
                    f"a patient's name, NHS number or date of birth was changed in the database since the "
                    f"anchor of {last.at} (patients 1 to {last.patients_up_to})"
                )
        if problems or store is None:
            return AuditCheck(chain.rows, chain.head, clinical, problems, len(anchors))
        patients = highest_patient(session)
        anchor = Anchor(
            database=store.database,
            at=at.isoformat(timespec="seconds"),
            source=source,
            rows=chain.rows,
            head=chain.head,
            patients_up_to=patients,
            identifiers=identifiers_digest(session, patients, store.key),
        )
    return AuditCheck(chain.rows, chain.head, clinical, [], len(anchors), append(store, anchor))


def _against(anchor: Anchor, line: int, chain: audit.ChainReport) -> list[str]:
    when = f"anchored on {anchor.at} ({anchor.source}, line {line})"
    if chain.rows < anchor.rows:
        return [f"the audit trail has {chain.rows} rows but was anchored at {anchor.rows} rows, {when}: rows deleted"]
    if anchor.rows and chain.hashes.get(anchor.rows) != anchor.head:
        return [f"row {anchor.rows} is not the row {when}: the chain was rewritten up to it"]
    return []
