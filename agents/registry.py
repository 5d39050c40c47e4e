"""The one registry shape of every plugin kind (engine kinds, knowledge indexes, node
types, tools, channels, plaza presets).

A registry is filled in one place at start-up — the built-ins first, then what third
parties publish under its entry-point group — and is read-only once frozen. Nothing
registers itself at import: a module that offers something exports it, and the
composition root (``cluster/runtime.py``) or the registry's own ``default_*`` function
puts it in.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterable, Iterator
from importlib.metadata import entry_points
from typing import Generic, TypeVar

import structlog

log = structlog.get_logger(__name__)
K = TypeVar("K", bound=Hashable)
V = TypeVar("V")


class RegistryFrozenError(RuntimeError):
    """A registration after start-up (a programming error, never a user's)."""


class Registry(Generic[K, V]):
    """Keys to plugins of one ``kind`` (the word used in messages: "engine kind", ...)."""

    def __init__(self, kind: str, entry_point_group: str | None = None) -> None:
        self.kind = kind
        self.entry_point_group = entry_point_group
        self._items: dict[K, V] = {}
        self._frozen = False

    def register(self, key: K, item: V) -> None:
        """Add ``item`` under ``key``; a key registered twice is a ValueError."""
        if self._frozen:
            raise RegistryFrozenError(f"the {self.kind} registry is read-only after start-up")
        if key in self._items:
            raise ValueError(f"{self.kind} {key!r} is registered twice")
        self._items[key] = item

    def freeze(self) -> Registry[K, V]:
        self._frozen = True
        return self

    @property
    def frozen(self) -> bool:
        return self._frozen

    def find(self, key: K) -> V | None:
        return self._items.get(key)

    def get(self, key: K) -> V:
        """The plugin under ``key``; a LookupError naming the known keys otherwise."""
        item = self._items.get(key)
        if item is None:
            known = ", ".join(sorted(map(str, self._items))) or "none"
            raise LookupError(f"unknown {self.kind} {key!r} (known: {known})")
        return item

    def keys(self) -> list[K]:
        return list(self._items)

    def items(self) -> list[tuple[K, V]]:
        return list(self._items.items())

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[K]:
        return iter(list(self._items))

    def __len__(self) -> int:
        return len(self._items)

    def load_entry_points(self, adapt: Callable[[object], Iterable[tuple[K, V]]]) -> list[str]:
        """Register what each entry point of :attr:`entry_point_group` offers.

        ``adapt`` turns the loaded object into ``(key, plugin)`` pairs (a factory may
        need services, a class may carry its own key). A plugin that fails to load or
        to register is logged and skipped: a broken plugin never stops the server.
        Returns the names of the entry points that registered something.
        """
        if self.entry_point_group is None:
            return []
        loaded: list[str] = []
        for ep in entry_points(group=self.entry_point_group):
            try:
                pairs = list(adapt(ep.load()))
                for key, item in pairs:
                    self.register(key, item)
            except Exception as exc:  # noqa: BLE001 - a broken plugin must not stop the server
                log.warning("plugin_failed", kind=self.kind, entry_point=ep.name, error=repr(exc))
                continue
            if pairs:
                loaded.append(ep.name)
        return loaded
