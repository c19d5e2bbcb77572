"""The database becoming unreachable during a dashboard session: a clear message, no traceback, still
signed in, nothing half-written, and the pages working again once the database is back.

SQLite: the database file is swapped for one that is not a database (its WAL files moved aside),
and the connections the dashboard holds are closed, as a failing disk would leave them; then the
file is put back. PostgreSQL: the dashboard connects through a TCP forwarder that is switched off
(connections cut, the port refusing) and on again on the same port, or that cuts the connection
when the COMMIT of a save goes by.
"""

import asyncio
import json
import logging
import sqlite3
import threading
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from dashboard import deps
from dashboard.outage import MESSAGE, NOT_RECORDED, SIGN_IN
from pathway.services.accounts import add_user
from pathway.store.db import SessionFactory, make_session_factory
from pathway.store.models import Pathway
from pathway.store.schema import metadata
from tests.conftest import _empty_postgres
from tests.dashboard.conftest import ACCOUNTS, CHEAP_HASH, NHS, PASSWORD, app, seed, texts, today
from tests.support.sites import list_sites

IDENTIFIERS = (*NHS, "Ada Testcase", "Bo Sample", "1970-03-04", "H1")


def key(command: str, field: str) -> str:
    return f"record_{command}_{field}"


def errors(at: AppTest) -> list[str]:
    return [str(e.value) for e in at.error]


def database_path() -> Path:
    url = deps.session_factory().kw["bind"].url  # type: ignore[attr-defined]
    return Path(url.database)


@contextmanager
def sqlite_down(path: Path) -> Iterator[None]:
    """The database file unreadable until the block ends (then exactly as it was)."""
    deps.reset_connections()  # the connections a failing disk would break
    aside = path.parent / "aside"
    aside.mkdir()
    moved = [p for p in (path, Path(f"{path}-wal"), Path(f"{path}-shm")) if p.exists()]
    for p in moved:
        p.rename(aside / p.name)
    path.write_bytes(b"not a database\n" * 512)
    try:
        yield
    finally:
        path.unlink()
        for p in moved:
            (aside / p.name).rename(p)
        aside.rmdir()


def snapshot(factory: SessionFactory) -> dict[str, Any]:
    """Every table's row count and every pathway's version: what a half-written save would change."""
    with factory() as session:
        counts = {
            t.name: session.execute(select(func.count()).select_from(t)).scalar_one() for t in metadata.tables.values()
        }
        versions = dict(session.execute(select(Pathway.ref, Pathway.version)).tuples().all())
    return {"rows": counts, "versions": versions}


def sign_in(at: AppTest, name: str, password: str = PASSWORD) -> AppTest:
    fields = {w.label: w for w in at.text_input}
    fields["Username"].input(name)
    fields["Password"].input(password)
    return at.form_submit_button[0].click().run()


def consent_form(user: str = "clin") -> AppTest:
    """Signed in through the app, on the Recording page, the consent form for P-CONSENT filled in."""
    at = app(user)
    at.session_state["patient_selected"] = "P-CONSENT"
    at.switch_page("app_pages/record.py").run()
    at = at.selectbox(key="command").set_value("record_consent").run()
    assert "you are recording against version" in texts(at)
    at.date_input(key=key("record_consent", "consented_on")).set_value(today() - timedelta(days=1))
    at.text_input(key=key("record_consent", "information_leaflet")).input("PIL-PMT v1.0")
    at.checkbox(key=key("record_consent", "uncertainties_discussed")).check()
    return at


def save(at: AppTest) -> AppTest:
    return at.button(key="FormSubmitter:record_form_record_consent-Save").click().run()


def assert_entries_kept(at: AppTest) -> None:
    assert at.text_input(key=key("record_consent", "information_leaflet")).value == "PIL-PMT v1.0"
    assert at.checkbox(key=key("record_consent", "uncertainties_discussed")).value is True
    assert at.date_input(key=key("record_consent", "consented_on")).value == today() - timedelta(days=1)


def assert_outage_shown(at: AppTest, user: str) -> None:
    assert not at.exception
    assert MESSAGE in errors(at)
    assert at.session_state["auth_user"] == user  # still signed in
    page = texts(at)
    assert "Traceback" not in page and "sqlite3" not in page and "psycopg" not in page
    assert "P-CONSENT" not in page and "P-MISSED" not in page  # nothing read before the outage shown as current


def assert_worklist_works(at: AppTest) -> None:
    assert not at.exception
    assert errors(at) == []
    assert at.title[0].value == "Worklist"
    assert "P-MISSED" in at.dataframe[0].value["pathway"].tolist()


def assert_logged_without_identifiers(caplog: pytest.LogCaptureFixture) -> None:
    lines = [json.loads(r.getMessage()) for r in caplog.records if r.name == "dashboard.outage"]  # JSON off a terminal
    assert lines and all(line["event"] == "pathway database unreachable" for line in lines)
    logged = "\n".join(r.getMessage() + str(r.exc_info) for r in caplog.records)
    assert not any(identifier in logged for identifier in IDENTIFIERS)
    assert "[parameters" not in logged and "SELECT" not in logged and "INSERT" not in logged


# SQLite


def test_pages_show_the_outage_and_work_again_once_the_database_is_back(
    database: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="dashboard.outage")
    at = app("coord")
    assert_worklist_works(at)
    with sqlite_down(database_path()):
        at.run()
        assert_outage_shown(at, "coord")
        assert len(at.dataframe) == 0
        assert at.session_state["outage_retry_armed"] is True  # the retry under the message tries at its next tick
        at.switch_page("app_pages/patient.py")
        at.session_state["patient_selected"] = "P-CONSENT"
        at.run()
        assert_outage_shown(at, "coord")
        at.switch_page("app_pages/policy.py").run()  # needs no database: still works
        assert not at.exception and errors(at) == [] and at.title[0].value == "Policy in force"
        at.switch_page("app_pages/worklist.py").run()
        assert_outage_shown(at, "coord")
    at.run()  # the database is back: no restart, the same session
    assert_worklist_works(at)
    at.switch_page("app_pages/patient.py").run()
    assert not at.exception and errors(at) == [] and at.subheader[0].value == "Pathway P-CONSENT"
    assert_logged_without_identifiers(caplog)


def test_a_save_during_the_outage_records_nothing_and_keeps_the_entries(
    database: SessionFactory, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="dashboard.outage")
    at = consent_form()
    before = snapshot(database)
    with sqlite_down(database_path()):
        at = save(at)
        assert not at.exception
        assert NOT_RECORDED in errors(at)
        assert at.session_state["auth_user"] == "clin"
        assert len(at.success) == 0
        assert_entries_kept(at)
    assert snapshot(database) == before  # no audit row, no consent, the pathway's version unchanged
    at = save(at)  # the same entries, saved once the database is back
    assert not at.exception
    assert [s.value for s in at.success] == ["Saved: record consent for pathway P-CONSENT."]
    after = snapshot(database)
    assert after["rows"]["consent"] == before["rows"]["consent"] + 1
    assert after["rows"]["audit_event"] == before["rows"]["audit_event"] + 1
    assert_logged_without_identifiers(caplog)


def test_a_commit_that_fails_leaves_nothing_half_written(
    database: SessionFactory, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """The save's rows are all inserted and its plan stored; then the commit itself fails (disk I/O)."""
    caplog.set_level(logging.WARNING, logger="dashboard.outage")
    at = consent_form()
    before = snapshot(database)
    dialect = deps.session_factory().kw["bind"].dialect  # type: ignore[attr-defined]
    attempts: list[int] = []

    def failing_commit(dbapi_connection: Any) -> None:
        in_transaction = dbapi_connection.in_transaction
        attempts.append(dbapi_connection.total_changes)
        assert in_transaction  # the consent, plan and audit rows are written but not committed
        raise sqlite3.OperationalError("disk I/O error")

    monkeypatch.setattr(dialect, "do_commit", failing_commit)
    at = save(at)
    monkeypatch.undo()
    assert len(attempts) == 1 and attempts[0] > 0  # it failed after writing rows, before the commit
    assert not at.exception
    assert NOT_RECORDED in errors(at)
    assert_entries_kept(at)
    assert snapshot(database) == before  # rolled back whole: no consent, no plan change, no audit row
    at = save(at)
    assert [s.value for s in at.success] == ["Saved: record consent for pathway P-CONSENT."]
    assert_logged_without_identifiers(caplog)


def test_signing_in_while_the_database_is_down_says_so(database: SessionFactory) -> None:
    at = app()
    with sqlite_down(database_path()):
        at = sign_in(at, "coord")
        assert not at.exception
        assert errors(at) == [SIGN_IN]
        assert "auth_user" not in at.session_state
        assert [w.label for w in at.text_input] == ["Username", "Password"]
        assert at.text_input[0].value == "coord"
    at = sign_in(at, "coord")
    assert_worklist_works(at)


# PostgreSQL


class Forwarder:
    """A TCP forwarder to PostgreSQL that can be switched off (connections cut, port refusing) and on
    again on the same port, or told to cut the connection that sends a given statement."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.port = 0
        self.cut_on: bytes | None = None
        self.cut = 0
        self._server: asyncio.Server | None = None
        self._transports: set[asyncio.BaseTransport] = set()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()

    def _call(self, coroutine: Coroutine[Any, Any, None]) -> None:
        asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def on(self) -> None:
        self._call(self._on())

    def off(self) -> None:
        self._call(self._off())

    def close(self) -> None:
        self.off()
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=30)
        self._loop.close()

    async def _on(self) -> None:
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", self.port, reuse_address=True)
        self.port = self._server.sockets[0].getsockname()[1]

    async def _off(self) -> None:
        if self._server is not None:
            self._server.close()
            self._server = None
        for transport in list(self._transports):
            transport.abort()
        self._transports.clear()

    async def _serve(self, client_in: asyncio.StreamReader, client_out: asyncio.StreamWriter) -> None:
        try:
            server_in, server_out = await asyncio.open_connection(*self.upstream)
        except OSError:
            client_out.transport.abort()
            return
        pair = {client_out.transport, server_out.transport}
        self._transports |= pair

        async def pump(source: asyncio.StreamReader, sink: asyncio.StreamWriter, watch: bool) -> None:
            try:
                while data := await source.read(65536):
                    if watch and self.cut_on is not None and self.cut_on in data:
                        self.cut_on = None
                        self.cut += 1
                        break  # the statement never reaches the server
                    sink.write(data)
                    await sink.drain()
            except OSError:
                pass  # the other side closed or was cut: this direction ends with it
            for transport in pair:
                transport.abort()
            self._transports -= pair

        await asyncio.gather(pump(client_in, server_out, True), pump(server_in, client_out, False))


@pytest.fixture
def postgres_behind_forwarder(
    postgres_database: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> Iterator[tuple[SessionFactory, Forwarder]]:
    """The seeded PostgreSQL database; the dashboard reaches it only through the forwarder."""
    for name, value in CHEAP_HASH.items():
        monkeypatch.setenv(name, value)
    direct = _empty_postgres(postgres_database)
    factory = make_session_factory(direct)
    list_sites(factory)
    seed(factory)
    for name, role in ACCOUNTS.items():
        add_user(factory, name, role, PASSWORD)
    url = make_url(postgres_database)
    forwarder = Forwarder(url.host or "127.0.0.1", url.port or 5432)
    forwarder.on()
    monkeypatch.setenv("PATHWAY_DATABASE_URL", url.set(port=forwarder.port).render_as_string(hide_password=False))
    monkeypatch.setenv("PATHWAY_HOME", str(tmp_path))
    import streamlit as st

    st.cache_data.clear()
    st.cache_resource.clear()
    yield factory, forwarder
    deps.reset_connections()
    st.cache_data.clear()
    st.cache_resource.clear()
    forwarder.close()
    direct.dispose()


@pytest.mark.postgres
def test_postgres_unreachable_mid_session_then_back(
    postgres_behind_forwarder: tuple[SessionFactory, Forwarder], caplog: pytest.LogCaptureFixture
) -> None:
    factory, forwarder = postgres_behind_forwarder
    caplog.set_level(logging.WARNING, logger="dashboard.outage")
    at = app("coord")
    assert_worklist_works(at)
    forwarder.off()  # the server goes away: open connections cut, new ones refused
    at.run()
    assert_outage_shown(at, "coord")
    forwarder.on()
    at.run()
    assert_worklist_works(at)

    at = consent_form()
    before = snapshot(factory)
    forwarder.off()
    at = save(at)
    assert not at.exception and NOT_RECORDED in errors(at)
    assert at.session_state["auth_user"] == "clin"
    assert_entries_kept(at)
    forwarder.on()
    assert snapshot(factory) == before
    signed_out = app()
    forwarder.off()
    signed_out = sign_in(signed_out, "coord")
    assert not signed_out.exception and errors(signed_out) == [SIGN_IN]
    forwarder.on()
    assert_logged_without_identifiers(caplog)


@pytest.mark.postgres
def test_postgres_connection_lost_at_the_commit_leaves_nothing_half_written(
    postgres_behind_forwarder: tuple[SessionFactory, Forwarder],
) -> None:
    factory, forwarder = postgres_behind_forwarder
    at = consent_form()
    before = snapshot(factory)
    forwarder.cut_on = b"COMMIT"  # every row of the save sent, then the line drops
    at = save(at)
    assert forwarder.cut == 1
    assert not at.exception and NOT_RECORDED in errors(at)
    assert_entries_kept(at)
    assert snapshot(factory) == before
    at = save(at)
    assert [s.value for s in at.success] == ["Saved: record consent for pathway P-CONSENT."]
    assert snapshot(factory)["rows"]["consent"] == before["rows"]["consent"] + 1
