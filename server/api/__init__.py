"""HTTP plumbing every feature shares: the application, dependencies, problem documents, security,
shared schema types and listings."""
