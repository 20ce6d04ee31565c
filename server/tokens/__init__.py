"""Tokens: the admin API over the bearer tokens that server.auth makes and checks."""
