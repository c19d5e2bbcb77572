"""Read side of the managed list of sites (pathway.services.sites changes it). Never writes."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from pathway.store.models import Site


@dataclass(frozen=True)
class SiteView:
    name: str
    added_at: datetime
    added_by: str
    retired_at: datetime | None
    retired_by: str | None

    @property
    def active(self) -> bool:
        return self.retired_at is None

    def as_dict(self) -> dict[str, Any]:
        return {
            "site": self.name,
            "status": "active" if self.active else "retired",
            "added_at": self.added_at.isoformat(),
            "added_by": self.added_by,
            "retired_at": self.retired_at.isoformat() if self.retired_at else None,
            "retired_by": self.retired_by,
        }


def view_of(row: Site) -> SiteView:
    return SiteView(row.name, row.added_at, row.added_by, row.retired_at, row.retired_by)


def site_list(session: Session, *, retired: bool = False) -> list[SiteView]:
    """The sites on the list by name (the active ones; with `retired`, the retired ones too)."""
    query = select(Site).order_by(col(Site.name))
    if not retired:
        query = query.where(col(Site.retired_at).is_(None))
    return [view_of(row) for row in session.exec(query).all()]


def active_site_names(session: Session) -> list[str]:
    """The names a form offers for a new record."""
    return [view.name for view in site_list(session)]
