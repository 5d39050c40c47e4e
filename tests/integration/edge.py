"""An authenticating edge for tests that mount one router on a bare FastAPI app.

Routes resolve their caller through ``app.state.edge`` (as the gateway sets it up);
``keyed`` installs one over an in-memory account service, creates the named
workspaces, and gives each a workspace key with every scope, as headers.
"""

from __future__ import annotations

import secrets

from fastapi import FastAPI

from agents.accounts.records import KEY_SCOPES
from agents.accounts.secrets import AccessTokenSigner
from agents.accounts.service import AccountService
from agents.accounts.store import InMemoryAccountStore
from channels.auth import Edge


async def keyed(app: FastAPI, *workspaces: str) -> dict[str, dict[str, str]]:
    """Authorization headers, by workspace id, for a caller with every scope there."""
    accounts = AccountService(InMemoryAccountStore(), AccessTokenSigner(secrets.token_bytes(32)))
    app.state.edge = Edge(accounts)
    owner = await accounts.create_user("owner@example.com", "a long enough password")
    headers: dict[str, dict[str, str]] = {}
    for workspace_id in workspaces:
        await accounts.create_workspace(workspace_id, owner.id, workspace_id=workspace_id)
        made = await accounts.create_key(workspace_id, "test", scopes=list(KEY_SCOPES))
        headers[workspace_id] = {"Authorization": f"Bearer {made.secret}"}
    return headers
