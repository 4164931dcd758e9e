"""Payments: the PSP contract for each processor, the ledger, the API, webhooks, faults, KPIs."""
