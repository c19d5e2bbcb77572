"""The session cookie's routes (dashboard.session_cookie): a one-time code, an HttpOnly cookie."""

import asyncio
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from dashboard import session_cookie
from dashboard.session_cookie import CLAIM_PATH, CLEAR_PATH, COOKIE


class Client:
    """The routes served in-process over ASGI (httpx), as the browser would reach them over HTTPS."""

    def __init__(self) -> None:
        self.app = Starlette(routes=list(session_cookie.routes()))

    def _call(self, method: str, path: str, **kw: Any) -> httpx.Response:
        async def go() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app)
            async with httpx.AsyncClient(transport=transport, base_url="https://dashboard.test") as client:
                return await client.request(method, path, **kw)

        return asyncio.run(go())

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self._call("POST", path, **kw)

    def get(self, path: str) -> httpx.Response:
        return self._call("GET", path)


@pytest.fixture
def client() -> Client:
    return Client()


def test_a_code_is_traded_once_for_an_http_only_strict_cookie(client: Client) -> None:
    code = session_cookie.offer("the-token", 12 * 3600)
    answer = client.post(CLAIM_PATH, json={"code": code})
    assert answer.status_code == 204
    header = answer.headers["set-cookie"]
    assert header.startswith(f"{COOKIE}=the-token;")
    for part in ("HttpOnly", "SameSite=strict", "Secure", "Path=/", "Max-Age=43200"):
        assert part.lower() in header.lower(), part
    assert answer.headers["cache-control"] == "no-store"
    assert client.post(CLAIM_PATH, json={"code": code}).status_code == 403  # used up


@pytest.mark.parametrize("body", [b"", b"not json", b'{"code": 5}', b'{"code": "guessed"}', b"[]"])
def test_anything_but_a_live_code_sets_no_cookie(client: Client, body: bytes) -> None:
    answer = client.post(CLAIM_PATH, content=body)
    assert answer.status_code == 403 and "set-cookie" not in answer.headers


def test_an_expired_code_is_refused(client: Client, monkeypatch: pytest.MonkeyPatch) -> None:
    code = session_cookie.offer("the-token", 60)
    later = session_cookie.time.monotonic() + session_cookie.HANDOFF_SECONDS + 1
    monkeypatch.setattr(session_cookie.time, "monotonic", lambda: later)
    assert client.post(CLAIM_PATH, json={"code": code}).status_code == 403


def test_clear_drops_the_cookie_and_claims_need_post(client: Client) -> None:
    answer = client.post(CLEAR_PATH)
    assert answer.status_code == 204 and answer.headers["set-cookie"].startswith(f'{COOKIE}="";')
    assert client.get(CLAIM_PATH).status_code == 405
