"""Counting the SQL statements a piece of work sends (SQLAlchemy's `before_cursor_execute` event)."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine, event


class Statements:
    def __init__(self) -> None:
        self.sent: list[str] = []

    def __len__(self) -> int:
        return len(self.sent)

    def _seen(self, _conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        self.sent.append(" ".join(statement.split()))


@contextmanager
def counting(engine: Engine) -> Iterator[Statements]:
    statements = Statements()
    event.listen(engine, "before_cursor_execute", statements._seen)
    try:
        yield statements
    finally:
        event.remove(engine, "before_cursor_execute", statements._seen)
