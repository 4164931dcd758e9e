"""API-key scopes and the authenticated caller."""

from __future__ import annotations

import enum

import msgspec


class Scope(enum.StrEnum):
    STOREFRONT = "storefront"
    AGENT = "agent"
    OPS = "ops"
    ADMIN = "admin"


class Principal(msgspec.Struct, frozen=True):
    key_id: str
    name: str
    scopes: frozenset[Scope]

    def allows(self, needed: tuple[Scope, ...]) -> bool:
        """Admin implies every scope; otherwise any one of `needed` suffices."""
        return Scope.ADMIN in self.scopes or any(s in self.scopes for s in needed)
