"""The plugin kit: `emporio plugin new psp|courier|channel NAME` writes a package an integrator
starts from — a working plugin against a simulator of the provider's API, and tests that run
Emporio's contract suite against it (`core.testing.pytest_plugin`). See docs/plugins.md."""
