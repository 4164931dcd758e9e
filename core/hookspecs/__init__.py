"""The hook specifications: Emporio's public contract for plugins, one module per extension point.

Hook-name families (few, on purpose):
- `register_*` contribute a capability through a `register` callback; the host validates it,
  stamps the plugin's name, refuses duplicates and builds a typed registry.
- `on_*` are notifications; results are ignored; implementations may be coroutines.
- `resolve_*` ask a question; the first non-None answer wins.
- `evaluate_*` apply a policy; the first non-None decision wins.
"""

from __future__ import annotations

import pluggy

PROJECT_NAME = "emporio"

hookspec = pluggy.HookspecMarker(PROJECT_NAME)
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)

SPEC_MODULES = (
    "core.hookspecs.app",
    "core.hookspecs.payments",
    "core.hookspecs.couriers",
    "core.hookspecs.channels",
    "core.hookspecs.routing",
    "core.hookspecs.packaging",
    "core.hookspecs.returns",
    "core.hookspecs.contact",
    "core.hookspecs.customers",
    "core.hookspecs.cli",
)

__all__ = ["PROJECT_NAME", "SPEC_MODULES", "hookimpl", "hookspec"]
