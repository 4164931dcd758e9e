"""The HTTP API (Litestar): app factory, auth and scopes, problem+json, per-domain routes."""
