"""SP side: upstream channels (and, next, the gateway)."""
