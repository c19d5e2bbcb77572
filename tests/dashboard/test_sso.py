"""dashboard.sso: what a login Streamlit accepted must still pass, and the callback's failure note."""

import asyncio
from datetime import UTC, datetime
from typing import Any

import pytest

from dashboard import session_cookie, sso

NOW = datetime(2026, 12, 6, 9, 0, tzinfo=UTC)
FRESH = int(NOW.timestamp()) - 10


@pytest.mark.parametrize(
    ("claims", "found"),
    [
        ({"aud": "dvt-pathway", "iat": FRESH, "sub": "a"}, None),
        ({"aud": ["dvt-pathway"], "iat": FRESH, "sub": "a"}, None),
        ({"aud": ["dvt-pathway", "other"], "azp": "dvt-pathway", "iat": FRESH, "sub": "a"}, None),
        # Authlib 1.9.10 let this one through because `azp` matched: refused here.
        ({"aud": "another-application", "azp": "dvt-pathway", "iat": FRESH, "sub": "a"}, "wrong_audience"),
        ({"aud": ["dvt-pathway", "other"], "iat": FRESH, "sub": "a"}, "wrong_audience"),
        ({"iat": FRESH, "sub": "a"}, "wrong_audience"),
        ({"aud": "dvt-pathway", "iat": FRESH - 6 * 60, "sub": "a"}, "stale_login"),  # a 30-day cookie's old login
        ({"aud": "dvt-pathway", "sub": "a"}, "stale_login"),
        ({"aud": "dvt-pathway", "iat": FRESH, "sub": ""}, "no_subject"),
    ],
)
def test_audience_freshness_and_subject_are_checked_again(claims: dict[str, Any], found: str | None) -> None:
    assert sso.problem(claims, "dvt-pathway", NOW) == found


def test_no_client_id_configured_refuses_everything() -> None:
    assert sso.problem({"aud": "", "iat": FRESH, "sub": "a"}, None, NOW) == "wrong_audience"


def _callback(query: bytes, cookies: list[bytes], path: str = "/oauth2callback") -> list[bytes]:
    """Set-Cookie headers of a callback answer passed through the middleware."""

    async def inner(scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"location", b"/")] + [(b"set-cookie", c) for c in cookies]
        await send({"type": "http.response.start", "status": 302, "headers": headers})
        await send({"type": "http.response.body", "body": b""})

    sent: list[Any] = []

    async def send(message: Any) -> None:
        sent.append(message)

    scope = {"type": "http", "path": path, "query_string": query}
    asyncio.run(sso.CallbackOutcome(inner)(scope, None, send))
    return [value for name, value in sent[0]["headers"] if name == b"set-cookie"]


def test_a_login_answer_without_streamlits_cookie_is_noted() -> None:
    refused = _notes(_callback(b"code=abc&state=x", [b'_streamlit_user=""; Max-Age=0; Path=/']))
    denied = _notes(_callback(b"error=access_denied", []))
    assert len(refused) == len(denied) == 1 and refused != denied  # each failure a nonce of its own
    nonce = refused[0]
    assert session_cookie.first_sight_of_failure(nonce)  # shown (and audited) once:
    assert not session_cookie.first_sight_of_failure(nonce)  # a reload before the note is dropped shows nothing


def _notes(cookies: list[bytes]) -> list[str]:
    """The nonces of the failure notes among the Set-Cookie headers (HttpOnly, two minutes)."""
    found = [c.decode() for c in cookies if c.startswith(b"pathway_sso_failed=")]
    assert all("Max-Age=120" in c and "HttpOnly" in c for c in found)
    return [c.split(";", 1)[0].split("=", 1)[1] for c in found]


def test_a_login_that_worked_and_a_sign_out_are_not_noted() -> None:
    worked = _callback(b"code=abc&state=x", [b"_streamlit_user=2|abc|signed; Max-Age=43200; Path=/; HttpOnly"])
    assert not any(c.startswith(b"pathway_sso_failed") for c in worked)
    assert _callback(b"", []) == []  # the end of a sign-out comes back through the callback too
    assert _callback(b"code=abc", [], path="/other") == []
