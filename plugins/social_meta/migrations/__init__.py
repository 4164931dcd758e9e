"""The Meta channel's migrations (`MigrationSet("social_meta", …)`)."""
