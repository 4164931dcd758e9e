"""The webhooks plugin's own schema migrations (registered through `register_migrations`)."""
