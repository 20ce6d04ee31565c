"""The Litestar application: thin controllers over the services, msgspec schemas, problem details."""
