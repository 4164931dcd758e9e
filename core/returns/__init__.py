"""The returns domain."""
