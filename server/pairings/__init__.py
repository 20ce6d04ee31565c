"""Pairing phones (docs/field-app.md#pairing): a one-time code a phone exchanges for its own token,
and `GET /me`, which tells any token who it is."""
