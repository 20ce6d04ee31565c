"""The field side: the MQTT ingest worker's wiring, its roster and rejects, and its health endpoint."""
