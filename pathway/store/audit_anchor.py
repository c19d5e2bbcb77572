"""The audit trail's anchor outside the database: its row count and head hash, signed.

The chain in the database proves only that what is left links up: someone with rights on the database
can delete its last rows, or alter a row and recompute every later hash. Each `pathway audit verify`
(and the weekly governance digest, and a restore) that finds everything in order appends an anchor
line to a file outside the database (`$PATHWAY_HOME/audit-anchors.jsonl` by default):

    {"database": ..., "at": ..., "source": "verify", "rows": 1234, "head": "9f2c...",
     "patients_up_to": 87, "identifiers": "...", "mac": "..."}

and every later verify checks the chain against every anchor of its database since the last restore:
fewer rows than anchored is a deleted tail; a different hash at an anchored row is a rewritten chain.
`identifiers` digests the patients' names, NHS numbers and dates of birth (ids up to `patients_up_to`),
which the audit trail never holds, so a later change to them shows too.

`mac` is an HMAC-SHA256 of the line with PATHWAY_AUDIT_KEY, a key held in the settings (environment,
or a key file), never in the database: without the key, an anchor cannot be forged or edited to match
an altered chain. With no key configured, anchors are written unsigned and still checked (a change made
in the database alone is caught), but someone who can also write the anchor file could hide one; verify
says so on every run. With a key, an unsigned line is still compared (it can only raise an alarm), and
a line whose MAC does not match is reported as an altered anchor.
"""

import hashlib
import hmac
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from sqlmodel import Session

from pathway.settings import Settings
from pathway.store.models import Patient
from pathway.store.repository import table_of

RESTORE = "restore"  # the source of the anchor a restore writes: earlier anchors were of another database


@dataclass(frozen=True)
class AnchorStore:
    path: Path
    key: bytes | None
    database: str  # the database's identity (pathway.store.audit_anchor.database_identity)


@dataclass(frozen=True)
class Anchor:
    database: str
    at: str  # UTC, ISO 8601
    source: str  # verify | digest | restore
    rows: int
    head: str | None
    patients_up_to: int
    identifiers: str
    mac: str | None = None

    def payload(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k != "mac"}


def store_for(settings: Settings, url: str) -> AnchorStore:
    """The anchor store the settings name for the database at `url`."""
    return AnchorStore(settings.resolved_anchor_file(), settings.resolved_audit_key(), database_identity(url))


def database_identity(url: str) -> str:
    """Which database anchors belong to: its URL without the password, hashed."""
    shown = make_url(url).set(password=None).render_as_string(hide_password=True)
    return hashlib.sha256(shown.encode()).hexdigest()[:16]


def _mac(key: bytes, payload: dict[str, Any]) -> str:
    text = json.dumps(payload, sort_keys=True, separators=(",", ":"))
    return hmac.new(key, text.encode(), hashlib.sha256).hexdigest()


def signed(store: AnchorStore, anchor: Anchor) -> Anchor:
    mac = _mac(store.key, anchor.payload()) if store.key else None
    return Anchor(**anchor.payload(), mac=mac)


def read_anchors(store: AnchorStore) -> tuple[list[tuple[int, Anchor]], list[str]]:
    """This database's anchors since its last restore, with their line numbers, and the problems with
    the file (an unreadable line, a MAC that does not match)."""
    if not store.path.exists():
        return [], []
    found: list[tuple[int, Anchor]] = []
    problems = []
    for number, line in enumerate(store.path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            anchor = Anchor(**json.loads(line))
        except (ValueError, TypeError):
            problems.append(f"anchor file {store.path} line {number} is not an anchor (altered?)")
            continue
        if anchor.database != store.database:
            continue
        if anchor.mac is not None and (
            store.key is None or not hmac.compare_digest(anchor.mac, _mac(store.key, anchor.payload()))
        ):
            problems.append(
                f"anchor file {store.path} line {number} was altered, or signed with another key "
                "(its MAC does not match PATHWAY_AUDIT_KEY)"
                if store.key
                else f"anchor file {store.path} line {number} is signed, but no PATHWAY_AUDIT_KEY is set to check it"
            )
            continue
        if anchor.source == RESTORE and (anchor.mac is not None or store.key is None):
            found = []  # what came before belongs to the database the restore replaced
        found.append((number, anchor))
    return found, problems


def append(store: AnchorStore, anchor: Anchor) -> Anchor:
    written = signed(store, anchor)
    store.path.parent.mkdir(parents=True, exist_ok=True)
    with store.path.open("a", encoding="utf-8") as file:
        file.write(json.dumps(asdict(written), sort_keys=True) + "\n")
    return written


def identifiers_digest(session: Session, up_to: int, key: bytes | None) -> str:
    """A digest of every patient's identifiers (ids up to `up_to`, in id order), keyed when a key is set."""
    table = table_of(Patient)
    digest = hmac.new(key, digestmod=hashlib.sha256) if key else hashlib.sha256()
    last = 0
    while True:
        rows = session.execute(
            select(table.c.id, table.c.nhs_number, table.c.name, table.c.date_of_birth)
            .where(table.c.id > last, table.c.id <= up_to)
            .order_by(table.c.id)
            .limit(5000)
        ).all()
        if not rows:
            return digest.hexdigest()
        for row_id, nhs, name, born in rows:
            digest.update(json.dumps([row_id, nhs, name, str(born)]).encode("utf-8", "surrogatepass") + b"\n")
        last = rows[-1][0]


def highest_patient(session: Session) -> int:
    table = table_of(Patient)
    highest: int = session.execute(select(func.coalesce(func.max(table.c.id), 0))).scalar_one()
    return highest
