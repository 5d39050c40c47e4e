"""Custom tools on the server: the SQL store of imported OpenAPI providers (moving to
cluster/store)."""
