"""The duty officers' Textual console; it talks to the server over HTTP and WebSocket only (issue 5)."""
