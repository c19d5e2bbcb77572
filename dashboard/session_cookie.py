"""How a local account's sign-in survives a reload: an HttpOnly cookie holding the server-side
session's token (pathway.services.accounts), set by a route of our own next to Streamlit's.

Streamlit's scripts cannot set cookies (`st.context.cookies` is read-only), and a token in the URL
would leak through links, history and logs. So the sign-in hands the browser a one-time code (random,
kept in this process's memory for 30 seconds, usable once), and a line of JavaScript posts it to
`POST /api/session/claim`, whose answer sets the cookie: HttpOnly (page scripts cannot read it),
SameSite=Strict, Secure over HTTPS, Path=/, and a life no longer than the absolute session limit.
On the next websocket connection (a reload, a new tab) Streamlit passes the cookie to the script,
which resumes the session on the server: still ended by sign-out, a disabled account, a password reset
and the inactivity and absolute limits, because the token only names a row on the server.

The routes need Streamlit's ASGI server (`st.App`, dashboard/server.py). Limits are in docs/security.md.
"""

import json
import secrets
import threading
import time
from collections.abc import Sequence

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

COOKIE = "pathway_session"
SSO_FAILED_COOKIE = "pathway_sso_failed"  # dashboard.sso.CallbackOutcome's note of a failed login
CLAIM_PATH = "/api/session/claim"
CLEAR_PATH = "/api/session/clear"
HANDOFF_SECONDS = 30.0

_lock = threading.Lock()
_handoffs: dict[str, tuple[str, float, int]] = {}  # code: (token, monotonic deadline, cookie max-age)


def offer(token: str, max_age_seconds: int) -> str:
    """A one-time code that the claim route exchanges for the session's cookie (within 30 s)."""
    code = secrets.token_urlsafe(32)
    now = time.monotonic()
    with _lock:
        for stale in [key for key, (_, deadline, _) in _handoffs.items() if deadline < now]:
            del _handoffs[stale]
        _handoffs[code] = (token, now + HANDOFF_SECONDS, max_age_seconds)
    return code


def claim(code: str) -> tuple[str, int] | None:
    """The token and cookie life for a code not yet used and not expired, else None (used up either way)."""
    with _lock:
        found = _handoffs.pop(code, None)
    if found is None or found[1] < time.monotonic():
        return None
    return found[0], found[2]


_noted_failures: dict[str, float] = {}  # a failed single sign-on's note: its nonce, when first shown
FAILURE_NOTE_SECONDS = 120.0  # the note cookie's own life


def first_sight_of_failure(nonce: str) -> bool:
    """True once per failed single sign-on note (its cookie's nonce): a reload made before the page had
    the cookie dropped must not show the message, nor audit the refusal, a second time."""
    now = time.monotonic()
    with _lock:
        for stale in [key for key, seen in _noted_failures.items() if seen + FAILURE_NOTE_SECONDS < now]:
            del _noted_failures[stale]
        if nonce in _noted_failures:
            return False
        _noted_failures[nonce] = now
        return True


def _secure(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "") == "https"


async def _claim(request: Request) -> Response:
    try:
        code = json.loads(await request.body()).get("code")
    except (ValueError, AttributeError):
        code = None
    found = claim(code) if isinstance(code, str) else None
    if found is None:
        return Response(status_code=403, headers={"Cache-Control": "no-store"})
    token, max_age = found
    answer = Response(status_code=204, headers={"Cache-Control": "no-store"})
    answer.set_cookie(
        COOKIE, token, max_age=max_age, path="/", secure=_secure(request), httponly=True, samesite="strict"
    )
    return answer


async def _clear(request: Request) -> Response:
    """Forget the cookie (the session itself is ended on the server by the sign-out)."""
    answer = Response(status_code=204, headers={"Cache-Control": "no-store"})
    answer.delete_cookie(COOKIE, path="/", secure=_secure(request), httponly=True, samesite="strict")
    answer.delete_cookie(SSO_FAILED_COOKIE, path="/", httponly=True, samesite="lax")
    return answer


def routes() -> Sequence[BaseRoute]:
    return [Route(CLAIM_PATH, _claim, methods=["POST"]), Route(CLEAR_PATH, _clear, methods=["POST"])]


def claim_script(code: str) -> str:
    """The page's one line of JavaScript that trades the code for the cookie (the code is URL-safe)."""
    body = json.dumps({"code": code})
    return (
        f"<script>fetch({json.dumps(CLAIM_PATH)}, {{method: 'POST', credentials: 'same-origin', "
        f"headers: {{'Content-Type': 'application/json'}}, body: {json.dumps(body)}}});</script>"
    )


def clear_script() -> str:
    return f"<script>fetch({json.dumps(CLEAR_PATH)}, {{method: 'POST', credentials: 'same-origin'}});</script>"
