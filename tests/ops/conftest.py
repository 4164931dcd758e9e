"""The browser fixtures of the ops web app's tests (tests/ops/browser.py)."""

from tests.ops.browser import driver, live_server

__all__ = ["driver", "live_server"]
