"""Real HTTP servers speaking the wire formats of the services Emporio talks to."""
