"""Single sign-on roles and sites from the provider's claims (issue 14 item 3), on SQLite and PostgreSQL:
a linked account follows its claims, an unknown identity with good claims gets an account, and claims
that give no role or an unlisted site are refused with a message and one audit row, writing nothing else."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlmodel import col, select

from pathway.domain.roles import Actor
from pathway.domain.vocabulary import Role
from pathway.errors import AuthenticationFailed, SsoRefused
from pathway.services.accounts import (
    add_user,
    disable_user,
    link_sso,
    list_users,
    resume_session,
    sign_in,
    sso_sign_in,
)
from pathway.services.sso_claims import ClaimsMapping, claims_mapping
from pathway.store.db import SessionFactory
from pathway.store.models import AuditEvent
from tests.dashboard.conftest import CHEAP_HASH

AT = datetime(2026, 6, 15, 9, 0, tzinfo=UTC)
PASSWORD = "correct horse battery"
ADMIN = Actor("boss", Role.admin)
MAPPING = ClaimsMapping(
    role_claim="groups",
    roles={"dvt-coordinators": Role.coordinator, "dvt-clinicians": Role.clinician, "dvt-audit": Role.auditor},
    sites_claim="pathway_sites",
)


@pytest.fixture(autouse=True)
def _cheap_hash(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in CHEAP_HASH.items():
        monkeypatch.setenv(key, value)


def _rows(factory: SessionFactory) -> list[tuple[str, str, str, dict[str, Any] | None, dict[str, Any] | None]]:
    with factory() as session:
        found = session.exec(select(AuditEvent).order_by(col(AuditEvent.id))).all()
        return [(r.command, r.actor, r.outcome, r.before, r.after) for r in found]


def _account(factory: SessionFactory, name: str) -> tuple[str, list[str] | None, bool] | None:
    found = [(a.role, a.sites, a.disabled) for a in list_users(factory) if a.name == name]
    return found[0] if found else None


def _claims(sub: str, **more: Any) -> dict[str, Any]:
    return {"sub": sub, "aud": "dvt-pathway", "iat": int(AT.timestamp())} | more


def test_an_unknown_identity_with_mapped_claims_gets_a_named_account(factory: SessionFactory) -> None:
    claims = _claims(
        "idp-77",
        preferred_username="Ward.Nurse",
        email="w.nurse@trust.example",
        groups=["staff", "dvt-clinicians"],  # other groups are ignored
        pathway_sites=["north vale", "Harbour Royal"],  # any case: the listed spelling is kept
    )
    signed = sso_sign_in(factory, "idp-77", AT, claims=claims, mapping=MAPPING)
    assert signed.actor.name == "ward.nurse"
    assert signed.actor.role is Role.clinician
    assert signed.actor.sites == frozenset({"north vale", "harbour royal"})
    assert _account(factory, "ward.nurse") == ("clinician", ["Harbour Royal", "North Vale"], False)
    assert resume_session(factory, signed.token, AT + timedelta(minutes=1)).name == "ward.nurse"
    rows = _rows(factory)
    assert [(c, a, o) for c, a, o, _, _ in rows] == [
        ("sso_add_user", "system", "accepted"),
        ("sign_in", "ward.nurse", "accepted"),
    ]
    assert rows[0][4] == {
        "account": "ward.nurse",
        "role": "clinician",
        "disabled": False,
        "sites": ["Harbour Royal", "North Vale"],
        "via": "sso",
    }
    # The same claims next time: the same account, nothing changed, no account row.
    again = sso_sign_in(factory, "idp-77", AT + timedelta(hours=1), claims=claims, mapping=MAPPING)
    assert again.actor == signed.actor
    assert [c for c, *_ in _rows(factory)][2:] == ["sign_in"]
    # No password opens it: it signs in through single sign-on only.
    with pytest.raises(AuthenticationFailed):
        sign_in(factory, "ward.nurse", "", AT + timedelta(hours=2))


def test_a_linked_account_takes_the_role_and_sites_its_claims_give(factory: SessionFactory) -> None:
    add_user(factory, "dr.smith", Role.coordinator, PASSWORD, at=AT, by=ADMIN, sites=["North Vale"])
    link_sso(factory, "dr.smith", "idp-1", at=AT, by=ADMIN)
    start = len(_rows(factory))
    claims = _claims("idp-1", groups="dvt-clinicians", pathway_sites="South Vale")  # a string claim counts
    signed = sso_sign_in(factory, "idp-1", AT, claims=claims, mapping=MAPPING)
    assert signed.actor == Actor("dr.smith", Role.clinician, frozenset({"south vale"}))
    assert _account(factory, "dr.smith") == ("clinician", ["South Vale"], False)
    changed = _rows(factory)[start:]
    assert [(c, a) for c, a, *_ in changed] == [("sso_update_user", "system"), ("sign_in", "dr.smith")]
    _, _, _, before, after = changed[0]
    assert (before or {})["role"] == "coordinator" and (before or {})["sites"] == ["North Vale"]
    assert (after or {})["role"] == "clinician" and (after or {})["sites"] == ["South Vale"]
    # An auditor's claims with "all": every site.
    claims = _claims("idp-1", groups=["dvt-audit"], pathway_sites=["ALL"])
    assert sso_sign_in(factory, "idp-1", AT, claims=claims, mapping=MAPPING).actor.sites is None
    assert _account(factory, "dr.smith") == ("auditor", None, False)


def test_without_a_sites_claim_a_linked_account_keeps_its_sites(factory: SessionFactory) -> None:
    roles_only = ClaimsMapping(role_claim="roles")  # no table: the claim holds our role names
    add_user(factory, "dr.smith", Role.coordinator, PASSWORD, at=AT, by=ADMIN, sites=["North Vale"])
    link_sso(factory, "dr.smith", "idp-1", at=AT, by=ADMIN)
    signed = sso_sign_in(factory, "idp-1", AT, claims=_claims("idp-1", roles=["clinician"]), mapping=roles_only)
    assert signed.actor == Actor("dr.smith", Role.clinician, frozenset({"north vale"}))
    # A new clinician would see every site: refused rather than given every site by default.
    with pytest.raises(SsoRefused, match="a clinician sees only the sites given") as refused:
        sso_sign_in(
            factory, "idp-2", AT, claims=_claims("idp-2", roles="clinician", email="a@b.example"), mapping=roles_only
        )
    assert refused.value.reason == "no_sites"
    # A regional role needs none.
    auditor = sso_sign_in(
        factory, "idp-3", AT, claims=_claims("idp-3", roles="auditor", email="Aud.It@b.example"), mapping=roles_only
    )
    assert (auditor.actor.name, auditor.actor.sites) == ("aud.it-b.example", None)


@pytest.mark.parametrize(
    ("claims", "reason", "message", "detail"),
    [
        ({"groups": ["staff"], "pathway_sites": ["North Vale"]}, "no_role", "gives you no role", "groups"),
        ({"pathway_sites": ["North Vale"]}, "no_role", "gives you no role", "groups"),
        (
            {"groups": ["dvt-clinicians", "dvt-coordinators"], "pathway_sites": ["North Vale"]},
            "several_roles",
            "more than one role in this application \\(clinician, coordinator\\)",
            "clinician, coordinator",
        ),
        (
            {"groups": ["dvt-clinicians"], "pathway_sites": ["North Vale", "Northvale Gen"]},
            "unknown_site",
            "the site Northvale Gen that your identity provider gives is not on",
            "Northvale Gen",
        ),
        ({"groups": ["dvt-clinicians"], "pathway_sites": []}, "no_sites", "gives you no site", "clinician"),
        (
            {"groups": ["dvt-clinicians"], "pathway_sites": ["North Vale"], "preferred_username": "!!"},
            "no_name",
            "no username or email",
            None,
        ),
        (
            {"groups": ["dvt-clinicians"], "pathway_sites": ["North Vale"], "preferred_username": "Boss"},
            "name_taken",
            "the name boss belongs to another account here",
            "boss",
        ),
    ],
)
def test_claims_that_cannot_sign_in_are_refused_audited_and_write_nothing_else(
    factory: SessionFactory, claims: dict[str, Any], reason: str, message: str, detail: str | None
) -> None:
    add_user(factory, "boss", Role.admin, PASSWORD, at=AT, by=ADMIN)
    start = len(_rows(factory))
    with pytest.raises(SsoRefused, match=message) as refused:
        sso_sign_in(factory, "idp-9", AT, claims=_claims("idp-9", **claims), mapping=MAPPING)
    assert refused.value.reason == reason
    assert [a.name for a in list_users(factory)] == ["boss"]  # no account made, boss untouched
    assert _account(factory, "boss") == ("admin", None, False)
    after = {"reason": reason, "via": "sso"} | ({"detail": detail} if detail else {})
    assert _rows(factory)[start:] == [("sign_in_failed", "(unknown)", "denied", None, after)]


def test_a_linked_accounts_refused_claims_leave_it_as_it_was(factory: SessionFactory) -> None:
    add_user(factory, "dr.smith", Role.coordinator, PASSWORD, at=AT, by=ADMIN, sites=["North Vale"])
    link_sso(factory, "dr.smith", "idp-1", at=AT, by=ADMIN)
    start = len(_rows(factory))
    with pytest.raises(SsoRefused, match="no role"):
        sso_sign_in(factory, "idp-1", AT, claims=_claims("idp-1", groups=["staff"]), mapping=MAPPING)
    assert _account(factory, "dr.smith") == ("coordinator", ["North Vale"], False)
    assert [(c, a, (after or {}).get("reason")) for c, a, _, _, after in _rows(factory)[start:]] == [
        ("sign_in_failed", "dr.smith", "no_role")
    ]


def test_a_disabled_account_stays_disabled_whatever_the_claims_say(factory: SessionFactory) -> None:
    add_user(factory, "dr.smith", Role.coordinator, PASSWORD, at=AT, by=ADMIN, sites=["North Vale"])
    link_sso(factory, "dr.smith", "idp-1", at=AT, by=ADMIN)
    disable_user(factory, "dr.smith", at=AT, by=ADMIN)
    start = len(_rows(factory))
    claims = _claims("idp-1", groups=["dvt-audit"], pathway_sites=["all"])
    with pytest.raises(SsoRefused, match="disabled") as refused:
        sso_sign_in(factory, "idp-1", AT, claims=claims, mapping=MAPPING)
    assert refused.value.reason == "disabled"
    assert _account(factory, "dr.smith") == ("coordinator", ["North Vale"], True)
    assert [(c, a, (after or {}).get("reason")) for c, a, _, _, after in _rows(factory)[start:]] == [
        ("sign_in_failed", "dr.smith", "disabled")
    ]


def test_without_the_setting_claims_change_nothing(factory: SessionFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("PATHWAY_SSO_ROLE_CLAIM", raising=False)
    add_user(factory, "dr.smith", Role.coordinator, PASSWORD, at=AT, by=ADMIN, sites=["North Vale"])
    link_sso(factory, "dr.smith", "idp-1", at=AT, by=ADMIN)
    claims = _claims("idp-1", groups=["dvt-audit"], roles=["admin"], pathway_sites=["all"])
    signed = sso_sign_in(factory, "idp-1", AT, claims=claims)
    assert signed.actor == Actor("dr.smith", Role.coordinator, frozenset({"north vale"}))
    with pytest.raises(AuthenticationFailed) as refused:
        sso_sign_in(factory, "idp-2", AT, claims=_claims("idp-2", roles=["admin"], email="x@y.example"))
    assert not isinstance(refused.value, SsoRefused)  # linked to no account: refused as before
    assert _account(factory, "x-y.example") is None


def test_the_mapping_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATHWAY_SSO_ROLE_CLAIM", "groups")
    monkeypatch.setenv("PATHWAY_SSO_ROLES", '{"dvt-clinicians": "clinician", "dvt-admins": "admin"}')
    monkeypatch.setenv("PATHWAY_SSO_SITES_CLAIM", "pathway_sites")
    found = claims_mapping()
    assert found.enabled
    assert found.roles == {"dvt-clinicians": Role.clinician, "dvt-admins": Role.admin}
    assert (found.sites_claim, found.all_sites) == ("pathway_sites", "all")
    monkeypatch.setenv("PATHWAY_SSO_ROLES", '{"dvt-clinicians": "surgeon"}')
    with pytest.raises(ValueError, match="roles"):
        claims_mapping()
