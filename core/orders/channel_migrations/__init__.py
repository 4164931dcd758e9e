"""Schema migrations of the channel orders table (a migration set of the orders domain, so it
needs no number in the core's sequence)."""
