"""Outbound webhooks (Standard Webhooks): endpoints an admin registers, one signed delivery per
subscribed domain event, retried from the database until it is received, failed or three days
old. How a receiver verifies them, and the retry schedule: docs/webhooks.md."""
