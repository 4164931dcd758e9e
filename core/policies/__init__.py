"""The policies domain."""
