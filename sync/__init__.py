"""Messaging: the MQTT topic scheme, strict payload codecs, the ingest worker, the outbox relay, the
embedded broker, broker logins and ACLs, and the field simulator."""
