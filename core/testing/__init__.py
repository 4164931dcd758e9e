"""Contract suites and pytest fixtures for Emporio and its plugins, and `core.testing.asgi`: the
ASGI plumbing shared by the API simulators that plugins ship beside their code."""
