"""The chat plugin's own schema migrations (registered through `register_migrations`)."""
