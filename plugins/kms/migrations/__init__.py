"""The knowledge base's own schema migrations (registered through `register_migrations`)."""
