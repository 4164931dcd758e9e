"""The kpis domain."""
