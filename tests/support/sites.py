"""The sites the tests record at, put on the managed list (pathway.services.sites) before a test runs,
as `pathway sites add` would (directly, without audit rows, so tests counting audit rows are unchanged;
migration 0011 lists an existing database's sites the same way)."""

from collections.abc import Iterable

from pathway.domain.clock import utc_now
from pathway.domain.text import site_key, site_spelling
from pathway.services.demo import SITES as DEMO_SITES
from pathway.store.db import SessionFactory, make_engine, make_session_factory
from pathway.store.models import Site

TEST_SITES = (
    "North Vale",
    "Harbour Royal",
    "South Vale",
    "North Vale General",
    "St <Brigid> & Co",
    "Hostile Site",
    "Eastmoor",
    "Elsewhere",
    *DEMO_SITES[1:3],
)


def list_sites(factory: SessionFactory, names: Iterable[str] = TEST_SITES) -> None:
    with factory() as session:
        for name in names:
            session.add(Site(name=site_spelling(name), site_key=site_key(name), added_at=utc_now(), added_by="tests"))
        session.commit()


def list_sites_at(url: str, names: Iterable[str] = TEST_SITES) -> None:
    """The same, for a database known by its URL (a command-line test's, after `pathway init`)."""
    engine = make_engine(url)
    try:
        list_sites(make_session_factory(engine), names)
    finally:
        engine.dispose()
