"""Use cases: each module owns one domain word (orders, inventory, customers, kpis, …)."""
