"""The read filters defined once: "a flag window stands at D", "an open pathway", the worklist's filters,
and "the windows standing at D on open pathways" (the sweep's and the digest's selection). The worklist's
page and its count, the reports, the sweep and the digest all build their WHERE clauses from here, so
"page N of M" cannot drift from the page (docs/rules.md: a flag stands from its start to its end date)."""

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Select, Table, and_
from sqlalchemy import select as sa_select

from pathway.domain.text import site_key
from pathway.store.models import FlagWindowRow, Pathway
from pathway.store.repository import table_of


def standing(window: Any, as_of: Any) -> Any:
    """The window stands at `as_of` (a date or a bound parameter): starts_on <= D <= ends_on."""
    return and_(window.c.starts_on <= as_of, window.c.ends_on >= as_of)


def is_open(pathway: Any) -> Any:
    return pathway.c.closed_on.is_(None)


@dataclass(frozen=True)
class WorklistFilter:
    """The worklist's filters: on the pathway row (site, stage, route) and on its standing flags."""

    site: str | None = None
    flag: str | None = None
    stage: str | None = None
    route: str | None = None
    flagged_only: bool = False

    def values(self) -> dict[str, str]:
        """The pathway-row filters in use, by column name (a site by its key: any spelling matches)."""
        given = {"site_key": site_key(self.site) if self.site else None, "stage": self.stage, "route": self.route}
        return {name: value for name, value in given.items() if value}

    def conditions(self, pathway: Any) -> list[Any]:
        """Open, and each pathway-row filter in use."""
        return [is_open(pathway), *(pathway.c[name] == value for name, value in self.values().items())]

    def needs_a_standing_flag(self) -> bool:
        return self.flagged_only or self.flag is not None

    def flagged(self, as_of: date) -> Select[Any]:
        """Ids of the pathways with a standing flag at `as_of` (this flag, when one is chosen)."""
        window = table_of(FlagWindowRow)
        query = sa_select(window.c.pathway_id).where(standing(window, as_of))
        return query.where(window.c.code == self.flag) if self.flag else query


def standing_on_open(as_of: date, *columns: Any) -> Select[Any]:
    """`columns` of the flag windows standing at `as_of` on open pathways (the sweep and the digest)."""
    window, pathway = flag_windows(), table_of(Pathway)
    return (
        sa_select(*columns)
        .join(pathway, pathway.c.id == window.c.pathway_id)
        .where(is_open(pathway), standing(window, as_of))
    )


def flag_windows() -> Table:
    return table_of(FlagWindowRow)
