"""Knowledge indexes: where chunks and vectors live, by ``ChorusSettings.knowledge_index``.

One registry, filled once by :func:`knowledge_indexes` (LanceDB and Weaviate, then the
``chorus.knowledge_indexes`` entry points: each a ``(name, factory)`` pair whose
factory takes the settings), read-only after. Every index implements
:class:`agents.knowledge.index.KnowledgeIndexProtocol` and runs the same contract suite.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache

from agents.knowledge.index import KnowledgeIndexProtocol
from agents.registry import Registry
from cluster.settings import ChorusSettings

ENTRY_POINT_GROUP = "chorus.knowledge_indexes"
IndexFactory = Callable[[ChorusSettings], KnowledgeIndexProtocol]


def _lancedb(settings: ChorusSettings) -> KnowledgeIndexProtocol:
    from cluster.knowledge.lancedb_index import LanceDbIndex

    return LanceDbIndex(settings.data_dir / "lancedb")


def _weaviate(settings: ChorusSettings) -> KnowledgeIndexProtocol:
    from cluster.knowledge.weaviate_index import WeaviateIndex

    return WeaviateIndex(
        settings.weaviate_host, settings.weaviate_port, settings.weaviate_grpc_port
    )


def _adapt(plugin: object) -> list[tuple[str, IndexFactory]]:
    if not (isinstance(plugin, tuple) and len(plugin) == 2 and callable(plugin[1])):
        raise TypeError(f"a {ENTRY_POINT_GROUP} entry point must be a (name, factory) pair")
    name, factory = plugin
    return [(str(name), factory)]


@cache
def knowledge_indexes() -> Registry[str, IndexFactory]:
    """The knowledge index kinds: the built-ins, then third parties' (read-only)."""
    registry: Registry[str, IndexFactory] = Registry("knowledge index", ENTRY_POINT_GROUP)
    registry.register("lancedb", _lancedb)
    registry.register("weaviate", _weaviate)
    registry.load_entry_points(_adapt)
    return registry.freeze()


def open_index(settings: ChorusSettings) -> KnowledgeIndexProtocol:
    """The index the settings name."""
    return knowledge_indexes().get(settings.knowledge_index)(settings)
