"""Contract suites, API simulators and pytest fixtures for Emporio and its plugins."""
