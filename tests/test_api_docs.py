"""docs/api.md is the API contract inside the repository: every endpoint the foundation's route
modules serve is written there (a new endpoint without its line fails here), and neither the
README nor the docs send readers outside the repository for it."""

from __future__ import annotations

import re
from pathlib import Path

from api.app import create_app
from core.runtime import Runtime

ROOT = Path(__file__).resolve().parent.parent
# The route modules whose endpoints api.md documents; the service pillar's are in service.md.
DOCUMENTED_IN_API_MD = frozenset(
    f"api.routes.{name}"
    for name in (
        "system",
        "access",
        "catalogue",
        "inventory",
        "customers",
        "orders",
        "kpis",
        "imports",
        "payments",
        "fulfilment",
        "returns",
        "ops",
    )
)
_PATH = re.compile(r"/[\w/{}\-.]*")


def normal(path: str) -> str:
    """`/v1/shipments/{shipment_id:str}/pack` and `/v1/shipments/{id}/pack` are the same path."""
    return re.sub(r"\{[^}]*\}", "{}", path).rstrip("/") or "/"


def documented_paths(text: str) -> set[str]:
    """Every path written in the text; `/v1/returns/{id}/approve, /decline` names both."""
    found: set[str] = set()
    for line in text.splitlines():
        previous: str | None = None
        for token in _PATH.findall(line):
            if previous is not None and token.count("/") == 1 and not token.startswith(("/v1", "/ops")):
                token = previous.rsplit("/", 1)[0] + token  # a sibling of the path before it
            found.add(normal(token))
            previous = token
    return found


def test_every_foundation_endpoint_is_in_docs_api_md(runtime: Runtime) -> None:
    documented = documented_paths((ROOT / "docs" / "api.md").read_text(encoding="utf-8"))
    served: dict[str, str] = {}
    for route in create_app(runtime).routes:
        for handler in getattr(route, "route_handlers", ()):
            module = getattr(handler.fn, "__module__", "")
            if module in DOCUMENTED_IN_API_MD:
                served[normal(route.path)] = module
    assert len(served) > 40  # the discovery found the routes (a broken one would find none)
    missing = sorted(f"{path} ({module})" for path, module in served.items() if path not in documented)
    assert not missing, "endpoints missing from docs/api.md: " + ", ".join(missing)


def test_the_docs_live_in_the_repository() -> None:
    for name in ("api", "product", "kpis", "integrations", "quality", "service"):
        text = (ROOT / "docs" / f"{name}.md").read_text(encoding="utf-8")
        assert text.startswith("> The product contract as decided"), name
    for path in [ROOT / "README.md", *(ROOT / "docs").glob("*.md")]:
        assert "shared/spec" not in path.read_text(encoding="utf-8"), path.name


def test_sibling_paths_are_read_as_written() -> None:
    text = "| POST | /v1/returns/{id}/approve, /decline | ops |\n`GET /health`, /v1/x?y=1"
    assert documented_paths(text) == {"/v1/returns/{}/approve", "/v1/returns/{}/decline", "/health", "/v1/x"}
