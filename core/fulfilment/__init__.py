"""The fulfilment domain."""
