"""One routes module per domain; each is a plugin contributing its handlers via register_routes."""
