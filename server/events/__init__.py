"""Events: the outbox written with each change, and the live stream read from it."""
