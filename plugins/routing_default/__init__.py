"""The default order-routing plugin: ranks allocation plans (fewest shipments, click-and-collect
store, nearest, priority, stock depth) and explains its choice."""
