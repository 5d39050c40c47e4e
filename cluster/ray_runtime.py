"""Starting or joining Ray the way Chorus needs it: local clusters stay on loopback."""

from __future__ import annotations

import os

LOOPBACK = "127.0.0.1"


def loopback_env() -> dict[str, str]:
    """Environment for a local Ray cluster: traffic on 127.0.0.1, no usage reporting,
    token authentication."""
    return {
        "RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER": "0",
        "RAY_USAGE_STATS_ENABLED": "0",
        # Ray 2.60's default for new clusters, made explicit so drivers that join
        # later (jobs, tests, tools) present the token in ~/.ray/auth_token too.
        "RAY_AUTH_MODE": "token",
    }


def apply_loopback_env() -> None:
    """Call before ``import ray``: Ray reads these when its constants module loads."""
    for key, value in loopback_env().items():
        os.environ.setdefault(key, value)


def init_local(namespace: str) -> None:
    """Join ``RAY_ADDRESS`` if set, else start a single-node Ray on loopback (nothing
    when this process is connected already); ``ray.get_runtime_context()`` tells where."""
    import ray

    apply_loopback_env()
    if ray.is_initialized():
        return
    if os.environ.get("RAY_ADDRESS"):
        ray.init(address=os.environ["RAY_ADDRESS"], namespace=namespace)
        return
    ray.init(namespace=namespace, _node_ip_address=LOOPBACK, include_dashboard=False)
