"""A misconfigured courier is the shop's to fix, not the customer's or the parcel's: the errors
the API answers with then (502 when the courier refused our credentials, 503 when nothing
answers where the settings point), each naming the setting to fix."""

from __future__ import annotations

from core.domain.errors import DomainError
from core.hookspecs.couriers import CourierMisconfigured


class CourierRefusedCredentials(DomainError):
    status = 502
    slug = "courier-misconfigured"
    title = "The courier refused the shop's credentials"


class CourierUnreachable(DomainError):
    status = 503
    slug = "courier-unreachable"
    title = "The courier is unreachable at the configured address"


def setup_error(exc: CourierMisconfigured, courier: str | None, *, outcome: str) -> DomainError:
    """The problem to answer with; `outcome` says what happened to the request (nothing, usually)."""
    kind: type[DomainError] = CourierUnreachable if exc.unreachable else CourierRefusedCredentials
    return kind(
        f"{exc}. This is the shop's configuration{f' of courier {courier}' if courier else ''}, "
        f"not the parcel's: fix {exc.setting}; {outcome}",
        setting=exc.setting,
        courier=courier,
    )
