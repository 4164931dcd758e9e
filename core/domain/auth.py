"""API-key scopes and the authenticated caller."""

from __future__ import annotations

import enum

import msgspec


class Scope(enum.StrEnum):
    STOREFRONT = "storefront"
    AGENT = "agent"
    OPS = "ops"
    ADMIN = "admin"


class PrincipalKind(enum.StrEnum):
    """Who is calling: a shop's server or staff with an API key (or a dashboard session standing in
    for one), or one customer's browser or app with a customer token."""

    KEY = "key"
    CUSTOMER = "customer"


class Principal(msgspec.Struct, frozen=True, kw_only=True):
    key_id: str  # the API key's id, or the customer token's id
    name: str
    scopes: frozenset[Scope]
    kind: PrincipalKind = PrincipalKind.KEY
    customer_id: str | None = None  # set for a customer token: the only customer it may see

    @property
    def is_customer(self) -> bool:
        return self.kind is PrincipalKind.CUSTOMER

    def allows(self, needed: tuple[Scope, ...]) -> bool:
        """Admin implies every scope; otherwise any one of `needed` suffices. A customer token has
        no scope: only endpoints that admit customers (and check ownership) let it through."""
        return Scope.ADMIN in self.scopes or any(s in self.scopes for s in needed)
