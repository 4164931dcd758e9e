"""Migrations of the payment links table (core/payments/links.py)."""
