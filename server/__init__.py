"""The server: the HTTP API (one package per feature), persistence, the field side and the `gridwatch` command."""
