"""How an adapter runs a view: in a read-only session of its own, closed when the view returns (the
adapters never open sessions; every view returns plain values, never rows bound to a session)."""

from collections.abc import Callable
from typing import Concatenate, ParamSpec, TypeVar

from sqlmodel import Session

from pathway.store.db import SessionFactory

P = ParamSpec("P")
T = TypeVar("T")


def read(
    session_factory: SessionFactory, view: Callable[Concatenate[Session, P], T], *args: P.args, **kwargs: P.kwargs
) -> T:
    """`view(session, *args, **kwargs)` in a session of its own."""
    with session_factory() as session:
        return view(session, *args, **kwargs)
