"""Simulator of Meta's Messenger Platform (Graph API and signed webhooks): a real HTTP server on 127.0.0.1."""
