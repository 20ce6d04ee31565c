"""The server side: HTTP API, persistence and the CLI composition root."""
