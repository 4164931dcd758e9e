"""Simulator of the real API this plugin speaks: a real HTTP server on 127.0.0.1."""
