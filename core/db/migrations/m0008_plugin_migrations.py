"""The ledger of plugins' own migrations (`register_migrations`): one row per migration set
(keyed by the set's name, not the plugin's, so renaming an entry point re-runs nothing) and
version."""

NAME = "plugin_migrations"

STATEMENTS = [
    """CREATE TABLE plugin_migrations (
        id TEXT PRIMARY KEY, migration_set TEXT NOT NULL, version INTEGER NOT NULL, name TEXT NOT NULL,
        plugin TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)""",
    "CREATE UNIQUE INDEX plugin_migrations_version ON plugin_migrations (migration_set, version)",
]
