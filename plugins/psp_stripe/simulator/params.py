"""What each simulated endpoint accepts, and typed readers that answer bad values as Stripe does."""

from __future__ import annotations

from collections.abc import Mapping

from plugins.psp_stripe.simulator.wire import FormValue, Params, invalid_request

# Both generations of the API are accepted: `payment_method_types` (up to 2025 versions) and
# `allowed_payment_method_types` / `excluded_payment_method_types` (stripe-python 16's pinned
# version), so a plugin typed against either passes; unknown names are still refused.
CONFIRM_PARAMS = frozenset(
    {
        "allowed_payment_method_types",
        "amount_details",
        "amount_to_confirm",
        "capture_method",
        "confirmation_token",
        "error_on_requires_action",
        "excluded_payment_method_types",
        "expand",
        "hooks",
        "mandate",
        "mandate_data",
        "off_session",
        "payment_details",
        "payment_method",
        "payment_method_data",
        "payment_method_options",
        "payment_method_types",
        "radar_options",
        "receipt_email",
        "return_url",
        "setup_future_usage",
        "shipping",
        "use_stripe_sdk",
    }
)
UPDATE_PARAMS = frozenset(
    {
        "allowed_payment_method_types",
        "amount",
        "amount_details",
        "application_fee_amount",
        "capture_method",
        "currency",
        "customer",
        "customer_account",
        "description",
        "excluded_payment_method_types",
        "expand",
        "hooks",
        "metadata",
        "payment_details",
        "payment_method",
        "payment_method_configuration",
        "payment_method_data",
        "payment_method_options",
        "payment_method_types",
        "receipt_email",
        "setup_future_usage",
        "shipping",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_data",
        "transfer_group",
    }
)
CREATE_PARAMS = (
    CONFIRM_PARAMS
    | UPDATE_PARAMS
    | {
        "automatic_payment_methods",
        "confirm",
        "confirmation_method",
        "on_behalf_of",
    }
)
CAPTURE_PARAMS = frozenset(
    {
        "amount_details",
        "amount_to_capture",
        "application_fee_amount",
        "expand",
        "final_capture",
        "hooks",
        "metadata",
        "payment_details",
        "statement_descriptor",
        "statement_descriptor_suffix",
        "transfer_data",
    }
)
CANCEL_PARAMS = frozenset({"cancellation_reason", "expand"})
REFUND_PARAMS = frozenset(
    {
        "amount",
        "charge",
        "currency",
        "customer",
        "expand",
        "instructions_email",
        "metadata",
        "origin",
        "payment_intent",
        "reason",
        "refund_application_fee",
        "reverse_transfer",
    }
)
RETRIEVE_PARAMS = frozenset({"expand"})


def reject_unknown(params: Params, allowed: frozenset[str]) -> None:
    """Stripe refuses parameters an endpoint does not know; plugins must not rely on leniency."""
    for name in params:
        if name not in allowed:
            raise invalid_request(f"Received unknown parameter: {name}", param=name, code="parameter_unknown")


def read_str(params: Mapping[str, FormValue], name: str, *, required: bool = False) -> str | None:
    value = params.get(name)
    if value is None or value == "":
        if required:
            raise invalid_request(f"Missing required param: {name}.", param=name, code="parameter_missing")
        return None
    if not isinstance(value, str):
        raise invalid_request(f"Invalid string: {name}", param=name, code="parameter_invalid_string")
    return value


def read_int(
    params: Mapping[str, FormValue],
    name: str,
    *,
    required: bool = False,
    minimum: int | None = None,
) -> int | None:
    text = read_str(params, name, required=required)
    if text is None:
        return None
    if not (text.isdigit() or (text.startswith("-") and text[1:].isdigit())):
        raise invalid_request(f"Invalid integer: {text}", param=name, code="parameter_invalid_integer")
    value = int(text)
    if minimum is not None and value < minimum:
        raise invalid_request(
            f"This value must be greater than or equal to {minimum}.",
            param=name,
            code="parameter_invalid_integer",
        )
    return value


def read_bool(params: Mapping[str, FormValue], name: str) -> bool | None:
    text = read_str(params, name)
    if text is None:
        return None
    if text not in ("true", "false"):
        raise invalid_request(f"Invalid boolean: {text}", param=name)
    return text == "true"


def read_choice(params: Mapping[str, FormValue], name: str, choices: tuple[str, ...]) -> str | None:
    value = read_str(params, name)
    if value is not None and value not in choices:
        listed = ", ".join(choices[:-1]) + f", or {choices[-1]}"
        raise invalid_request(f"Invalid {name}: must be one of {listed}", param=name)
    return value


def read_hash(params: Mapping[str, FormValue], name: str) -> dict[str, FormValue] | None:
    value = params.get(name)
    if value is None or value == "":
        return None
    if not isinstance(value, dict):
        raise invalid_request(f"Invalid object: {name}", param=name)
    return value


def read_str_list(params: Mapping[str, FormValue], name: str) -> list[str] | None:
    value = params.get(name)
    if value is None:
        return None
    if isinstance(value, str):  # Stripe accepts a lone value where an array is expected
        return [value]
    if isinstance(value, dict) or not all(isinstance(v, str) for v in value):
        raise invalid_request(f"Invalid array: {name}", param=name)
    return [v for v in value if isinstance(v, str)]


def apply_metadata(current: dict[str, str], params: Mapping[str, FormValue]) -> dict[str, str]:
    """Merge `metadata[...]` like Stripe: `metadata=` clears all, `metadata[k]=` deletes one key."""
    if "metadata" not in params:
        return current
    value = params["metadata"]
    if value == "":
        return {}
    if not isinstance(value, dict):
        raise invalid_request("Invalid object: metadata", param="metadata")
    merged = dict(current)
    for key, item in value.items():
        if not isinstance(item, str):
            raise invalid_request(f"Invalid string: metadata[{key}]", param=f"metadata[{key}]")
        if item == "":
            merged.pop(key, None)
        else:
            merged[key] = item
    return merged


def read_expand(params: Params) -> frozenset[str]:
    return frozenset(read_str_list(params, "expand") or ())
