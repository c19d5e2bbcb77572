"""Single sign-on roles and sites from the identity provider's claims (issue 14 item 3), optional.

Configured by environment (`PATHWAY_SSO_...`). Unset `PATHWAY_SSO_ROLE_CLAIM`: no mapping, an identity
signs in only as the account linked to it (`pathway users sso NAME SUBJECT`), with that account's role
and sites. Set: each sign-in takes the role (and, with `PATHWAY_SSO_SITES_CLAIM`, the sites) from the ID
token's claims (pathway.services.accounts.sso_sign_in applies them). This module only reads claims: a
pure mapping from claims to what they ask for; checking sites against the managed list and writing the
account is the accounts service's work.
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from pathway.domain.text import site_key, site_spelling
from pathway.domain.vocabulary import Role
from pathway.errors import SsoRefused

_NOT_IN_NAMES = re.compile(r"[^a-z0-9._-]+")
NAME_CLAIMS = ("preferred_username", "email")  # what a provisioned account is named after, in this order
REGIONAL_ROLES = (Role.admin, Role.auditor)  # they see every site whatever the claims say

REFUSALS = {
    "no_role": "Single sign-on refused: your identity provider gives you no role in this application "
    "(claim {claim}). Ask an administrator.",
    "several_roles": "Single sign-on refused: your identity provider gives you more than one role in this "
    "application ({roles}). Ask an administrator to leave you one.",
    "no_sites": "Single sign-on refused: your identity provider gives you no site here, and a {role} sees "
    "only the sites given. Ask an administrator.",
    "unknown_site": "Single sign-on refused: the site {site} that your identity provider gives is not on "
    "this dashboard's list of sites. Ask an administrator.",
    "no_name": "Single sign-on refused: your identity provider gives no username or email to name your "
    "account here. Ask an administrator.",
    "name_taken": "Single sign-on refused: the name {name} belongs to another account here. Ask an "
    "administrator to link your identity to it, or to give you another name.",
}


def refusal(reason: str, **details: str) -> SsoRefused:
    """The refusal `reason` with its message (REFUSALS) and the details it names."""
    return SsoRefused(reason, REFUSALS[reason].format(**details), detail=", ".join(details.values()) or None)


class ClaimsMapping(BaseSettings):
    """How the provider's claims become a role and sites (env `PATHWAY_SSO_...`; unset role claim: off).

    `roles` maps the provider's values of the role claim (group or role names) to ours, as JSON,
    e.g. `{"dvt-coordinators": "coordinator", "dvt-clinicians": "clinician"}`; empty, the claim must hold
    our role names themselves. The sites claim holds site names as on the managed list (any case), or
    `all_sites` for every site (regional roles). Values of the role claim that map to nothing are
    ignored (a `groups` claim holds many unrelated groups).
    """

    model_config = SettingsConfigDict(env_prefix="PATHWAY_SSO_", env_ignore_empty=True, extra="ignore", frozen=True)

    role_claim: str | None = None  # e.g. "groups" or "roles"
    roles: dict[str, Role] = Field(default_factory=dict)
    sites_claim: str | None = None  # e.g. "pathway_sites"
    all_sites: str = "all"

    @property
    def enabled(self) -> bool:
        return bool(self.role_claim)


def claims_mapping() -> ClaimsMapping:
    return ClaimsMapping()


@dataclass(frozen=True)
class Claimed:
    """What one sign-in's claims ask for. `sites`: site names as the claims spell them (None: every
    site); `sites_given` False when no sites claim is configured (a linked account keeps its sites)."""

    role: Role
    sites: list[str] | None
    sites_given: bool
    names: list[str]  # for a provisioned account: from preferred_username, else email


def _values(claims: Mapping[str, Any], claim: str) -> list[str]:
    """A claim as a list of strings: a string, or a list of them (anything else counts as absent)."""
    found = claims.get(claim)
    if isinstance(found, str):
        found = [found]
    if not isinstance(found, list):
        return []
    return [value.strip() for value in found if isinstance(value, str) and value.strip()]


def claimed_role(claims: Mapping[str, Any], mapping: ClaimsMapping) -> Role:
    claim = mapping.role_claim or ""
    table = mapping.roles or {role.value: role for role in Role}
    roles = {table[value] for value in _values(claims, claim) if value in table}
    if not roles:
        raise refusal("no_role", claim=claim)
    if len(roles) > 1:
        raise refusal("several_roles", roles=", ".join(sorted(role.value for role in roles)))
    return roles.pop()


def claimed_sites(claims: Mapping[str, Any], mapping: ClaimsMapping, role: Role) -> list[str] | None:
    """The sites named in the claims (unchecked against the list), or None for every site."""
    claim = mapping.sites_claim or ""
    values = _values(claims, claim)
    if any(site_key(value) == site_key(mapping.all_sites) for value in values):
        return None
    if values:
        return sorted({site_spelling(value) for value in values}, key=site_key)
    if role in REGIONAL_ROLES:
        return None
    raise refusal("no_sites", role=role.value)


def claimed_names(claims: Mapping[str, Any]) -> list[str]:
    """Names for an account from preferred_username, then email (lower case; characters an account
    name cannot hold become '-'); the accounts service takes the first that is a valid name."""
    names = [
        _NOT_IN_NAMES.sub("-", value.lower()).strip("-._")[:80]
        for claim in NAME_CLAIMS
        for value in _values(claims, claim)
    ]
    return [name for name in names if name]


def read_claims(claims: Mapping[str, Any], mapping: ClaimsMapping) -> Claimed:
    """What the claims ask for; raises SsoRefused (no role, several roles, no sites)."""
    role = claimed_role(claims, mapping)
    if not mapping.sites_claim:
        return Claimed(role, None, False, claimed_names(claims))
    return Claimed(role, claimed_sites(claims, mapping, role), True, claimed_names(claims))
