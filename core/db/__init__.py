"""Persistence: Piccolo tables, engine choice, migrations."""
