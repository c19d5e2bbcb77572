"""Opening and preparing the database for the adapters: they name a URL, never an engine or a session."""

from datetime import datetime

from sqlmodel import select

from pathway.domain.roles import Actor
from pathway.services.commands import replan_under_policy
from pathway.store.db import SessionFactory, make_engine, make_session_factory, migrate
from pathway.store.models import Pathway


def prepare_database(url: str) -> SessionFactory:
    """Create or migrate the database at `url` (idempotent) and return its session factory."""
    engine = make_engine(url)
    migrate(engine)
    return make_session_factory(engine)


def init_database(url: str, actor: Actor, *, recorded_at: datetime) -> int:
    """Migrate, then re-plan the open pathways planned under another policy version; how many were."""
    return replan_under_policy(prepare_database(url), actor, recorded_at=recorded_at)


def holds_no_pathway(session_factory: SessionFactory) -> bool:
    with session_factory() as session:
        return session.exec(select(Pathway.id).limit(1)).first() is None
