"""Operator commands (`flask --app service ...`): serve, db, purge, content sign-off, audio build
and check, and the outbox's sender. The top layer: may import any package."""
