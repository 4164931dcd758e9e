"""Built-in plugins that ship with Emporio (loaded like third-party ones)."""
