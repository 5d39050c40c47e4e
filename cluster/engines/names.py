"""The names of the model deployments in a Chorus Serve application."""

from __future__ import annotations

#: The deployment that serves the embedding model.
EMBEDDING_DEPLOYMENT = "EmbeddingDeployment"


def deployment_name(model: str) -> str:
    """The engine deployment that serves ``model`` (a valid Serve deployment name)."""
    return "engine-" + "".join(c if c.isalnum() or c in "-_" else "-" for c in model)
