"""Messaging: MQTT topics, payload codecs, the ingest worker and down-messages (issue 4)."""
