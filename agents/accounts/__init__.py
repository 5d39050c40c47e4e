"""Accounts: users, workspaces and their members, sessions (access and refresh tokens),
API keys, and the principal every request runs as (DESIGN decision 7)."""
