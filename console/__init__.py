"""The duty officers' Textual console; it talks to the server over HTTP and its SSE stream only."""
