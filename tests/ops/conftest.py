"""The browser fixtures of the ops web app's tests (tests/ops/browser.py)."""

from tests.ops.browser import driver, live_server, serve_flags

__all__ = ["driver", "live_server", "serve_flags"]
