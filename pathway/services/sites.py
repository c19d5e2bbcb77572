"""Sites as a managed list (issue 14): admins add and retire sites (`pathway sites add/list/retire`,
the dashboard's Sites page), each change one transaction with one audit row; registrations, governance
notices and accounts must name a site on the list, so a typo ("Northvale Gen") is refused with the
sites on record listed instead of opening a new site.

A site is compared by its key (pathway.domain.text.site_key: `north vale` is `North Vale`) and stored
in the list's spelling. A retired site takes no new patient, notice or account; its records stay.
"""

import difflib
from collections.abc import Iterable
from datetime import datetime

from sqlmodel import Session, col, select

from pathway.domain.roles import Actor
from pathway.domain.text import invisible_character, site_key, site_spelling
from pathway.domain.vocabulary import Role
from pathway.errors import AccessDenied, CommandRejected, NotFound
from pathway.store import audit
from pathway.store.db import SessionFactory
from pathway.store.models import Site
from pathway.store.unit_of_work import writing
from pathway.views.sites import SiteView, view_of

MAX_LENGTH = 80


def add_site(factory: SessionFactory, actor: Actor, name: str, *, at: datetime) -> SiteView:
    """Put a site on the list (or back on it, if it was retired); admins only, audited (`add_site`)."""
    _admin_only(factory, actor, "add_site", name, at)
    spelt = _checked_name(name)
    with writing(factory) as session:
        row = session.exec(select(Site).where(Site.site_key == site_key(spelt))).first()
        if row is not None and row.retired_at is None:
            raise CommandRejected("site", f"{row.name} is already on the list of sites")
        if row is None:
            row = Site(name=spelt, site_key=site_key(spelt), added_at=at, added_by=actor.name)
        else:  # a retired site brought back, in its listed spelling
            row.retired_at, row.retired_by = None, None
        session.add(row)
        session.flush()
        _audit(session, actor, "add_site", row, at)
        return view_of(row)


def retire_site(factory: SessionFactory, actor: Actor, name: str, *, at: datetime) -> SiteView:
    """Take a site off the list for new records (its records stay); admins only, audited (`retire_site`)."""
    _admin_only(factory, actor, "retire_site", name, at)
    with writing(factory) as session:
        row = session.exec(select(Site).where(Site.site_key == site_key(name))).first()
        if row is None or row.retired_at is not None:
            raise NotFound("site", f"{site_spelling(name)} is not on the list of sites{_known(session)}")
        row.retired_at, row.retired_by = at, actor.name
        session.add(row)
        session.flush()
        _audit(session, actor, "retire_site", row, at)
        return view_of(row)


def listed_site(session: Session, typed: str, field: str = "site") -> str:
    """The listed spelling of a site named in a command or an account; raises CommandRejected naming
    the field, the site as typed and the sites on record (the nearest first, when one is close)."""
    row = session.exec(select(Site).where(Site.site_key == site_key(typed))).first()
    if row is not None and row.retired_at is None:
        return row.name
    spelt = site_spelling(typed)
    if row is not None:
        raise CommandRejected(field, f"{spelt} is retired: it takes no new records{_known(session)}")
    raise CommandRejected(field, f"{spelt} is not on the list of sites{_known(session, near=spelt)}")


def add_missing(session: Session, names: Iterable[str], *, actor: Actor, at: datetime) -> list[str]:
    """Inside the caller's transaction: list each of these sites not on the list yet (a synthetic
    cohort's sites), each with its audit row; returns those added."""
    added = []
    for name in names:
        if session.exec(select(Site.id).where(Site.site_key == site_key(name))).first() is None:
            row = Site(name=site_spelling(name), site_key=site_key(name), added_at=at, added_by=actor.name)
            session.add(row)
            session.flush()
            _audit(session, actor, "add_site", row, at)
            added.append(row.name)
    return added


def _known(session: Session, *, near: str | None = None) -> str:
    names = list(session.exec(select(Site.name).where(col(Site.retired_at).is_(None)).order_by(Site.name)).all())
    if not names:
        return "; no site is on the list yet (an admin adds one: pathway sites add, or the Sites page)"
    nearest = difflib.get_close_matches(near, names, n=1, cutoff=0.5) if near else []
    hint = f"; did you mean {nearest[0]}?" if nearest else ""
    return f"{hint}; known sites: {', '.join(names)}"


def _checked_name(name: str) -> str:
    spelt = site_spelling(name)
    if not spelt:
        raise CommandRejected("site", "must not be empty")
    if len(spelt) > MAX_LENGTH:
        raise CommandRejected("site", f"must be at most {MAX_LENGTH} characters")
    if problem := invisible_character(spelt):
        raise CommandRejected("site", f"must not contain invisible characters (found {problem})")
    return spelt


def _admin_only(factory: SessionFactory, actor: Actor, command: str, name: str, at: datetime) -> None:
    """Only an admin changes the list; a refusal is audited (outcome `denied`) and writes nothing else."""
    if actor.role is Role.admin:
        return
    with writing(factory) as session:
        audit.append(
            session, at=at, actor=actor.name, role=actor.role.value, command=command, outcome="denied", site=name[:80]
        )
    raise AccessDenied(f"sites: only an admin may change the list of sites ({actor.role.value})")


def _audit(session: Session, actor: Actor, command: str, row: Site, at: datetime) -> None:
    audit.append(
        session,
        at=at,
        actor=actor.name,
        role=actor.role.value,
        command=command,
        site=row.name,
        after={"site": row.name, "retired": row.retired_at is not None},
    )
