"""Single sign-on with OpenID Connect through Streamlit's own `st.login` (Authlib), as an alternative
to local passwords. Configured by environment (PATHWAY_OIDC_...), which dashboard/server.py turns into
Streamlit's `[auth]` secrets, or by `.streamlit/secrets.toml` `[auth]` directly.

An identity signs in as the named account linked to it (`pathway users sso NAME SUBJECT`): the role
and sites are the account's, or, with a claims mapping (`PATHWAY_SSO_...`), the claims' (applied by
pathway.services.accounts.sso_sign_in, to which the page passes the claims).

What Streamlit accepted is checked again here, because Authlib 1.9.10 accepted an ID token whose
`aud` was wrong when its `azp` matched: `aud` must hold our client id, and the login must be fresh
(issued within FRESH_LOGIN): Streamlit's own cookie lasts up to 30 days, so an old one opens nothing;
the session it opens is ours (pathway.services.accounts), with our time limits.
"""

import secrets
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import parse_qs

from pydantic_settings import BaseSettings, SettingsConfigDict

FRESH_LOGIN = timedelta(minutes=5)  # from the provider's `iat` to our session: the redirect, with clock skew

PROBLEMS = {
    "wrong_audience": "Single sign-on refused: the identity provider's token was not issued for this application.",
    "stale_login": "Your single sign-on has expired here. Sign out of single sign-on, then sign in again.",
    "no_subject": "Single sign-on refused: the identity provider sent no subject.",
    "unknown_identity": "Your single sign-on identity is not linked to an account here. Ask an administrator.",
}


class OidcSettings(BaseSettings):
    """The OpenID provider (env `PATHWAY_OIDC_...`); unset client id: no single sign-on from here."""

    model_config = SettingsConfigDict(env_prefix="PATHWAY_OIDC_", env_ignore_empty=True, extra="ignore", frozen=True)

    client_id: str | None = None
    client_secret: str | None = None
    server_metadata_url: str | None = None  # https://provider/.well-known/openid-configuration
    redirect_uri: str | None = None  # https://dashboard/oauth2callback (the address users open)
    cookie_secret: str | None = None  # signs Streamlit's login cookie: long and random

    def streamlit_secrets(self) -> dict[str, Any] | None:
        """Streamlit's `[auth]` secrets, or None when not configured here."""
        if not self.client_id:
            return None
        return {
            "auth": {
                "redirect_uri": self.redirect_uri,
                "cookie_secret": self.cookie_secret,
                "client_id": self.client_id,
                "client_secret": self.client_secret,
                "server_metadata_url": self.server_metadata_url,
            }
        }


def problem(claims: dict[str, Any], client_id: str | None, now: datetime) -> str | None:
    """Why a login Streamlit accepted must still be refused (a PROBLEMS key), or None."""
    audience = claims.get("aud")
    audiences = [audience] if isinstance(audience, str) else list(audience or [])
    if not client_id or client_id not in audiences:
        return "wrong_audience"
    if len(audiences) > 1 and claims.get("azp") != client_id:
        return "wrong_audience"
    issued = claims.get("iat")
    if not isinstance(issued, int | float) or not -60 <= now.timestamp() - issued <= FRESH_LOGIN.total_seconds():
        return "stale_login"
    if not isinstance(claims.get("sub"), str) or not claims["sub"]:
        return "no_subject"
    return None


FAILED_COOKIE = "pathway_sso_failed"
CALLBACK_FAILED = (
    "Single sign-on did not complete: the identity provider's answer was refused (a denied login, an "
    "expired token, or a token for another application). Try again, or ask an administrator."
)


class CallbackOutcome:
    """ASGI middleware around Streamlit's `/oauth2callback`: when a login answer (a `code` or an
    `error`) ends without Streamlit's login cookie, Streamlit just redirects to an anonymous page; this
    adds a short-lived cookie saying so, which the login page turns into a message and an audit row.
    The callback that ends a sign-out (no `code`, no `error`) is left alone."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not str(scope.get("path", "")).endswith("/oauth2callback"):
            await self.app(scope, receive, send)
            return
        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        attempted = "code" in query or "error" in query

        async def noting(message: Any) -> None:
            if attempted and message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                if not any(_logs_in(name, value) for name, value in headers):
                    # A nonce, so the page shows (and audits) this one failure once (session_cookie).
                    nonce = secrets.token_urlsafe(16)
                    flag = f"{FAILED_COOKIE}={nonce}; Max-Age=120; Path=/; HttpOnly; SameSite=Lax"
                    headers.append((b"set-cookie", flag.encode()))
                    message = dict(message, headers=headers)
            await send(message)

        await self.app(scope, receive, noting)


def _logs_in(name: bytes, value: bytes) -> bool:
    """A Set-Cookie that gives Streamlit's login cookie a value (not one that clears it)."""
    if name.lower() != b"set-cookie" or not value.startswith(b"_streamlit_user"):
        return False
    first = value.split(b";", 1)[0]
    return not first.endswith((b"=", b'=""')) and b"max-age=0" not in value.lower()
