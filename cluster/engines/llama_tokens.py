"""Exact prompt token counts for the ``llamacpp`` kind, in the caller's process.

The GGUF's own chat template (:mod:`.chat_template`) renders the messages and llama.cpp's
tokenizer (:mod:`.llama_vocab`) counts the prompt, so a count equals llama-server's
``usage.prompt_tokens`` without a round trip to the replica. The vocabulary is loaded on
the first count, not when the kind is read.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable
from typing import TYPE_CHECKING

import structlog

from agents.engine import ChatMessage
from cluster.engines.chat_template import ChatTemplate
from cluster.engines.llama_build import LlamaBuildError, installed_shim
from cluster.engines.llama_vocab import LlamaVocab

if TYPE_CHECKING:
    from agents.tokens import LocalTokenCounter
    from cluster.settings import EngineSettings

log = structlog.get_logger(__name__)


class LlamaTokenCounter:
    """Counts with the model's vocabulary and template; the last :data:`CACHED`
    conversations' counts are kept (the memory window counts one message at a time)."""

    exact = True
    CACHED = 4096

    def __init__(self, load: Callable[[], LlamaVocab]) -> None:
        self._load = load
        self._loaded: tuple[LlamaVocab, ChatTemplate] | None = None
        self._load_lock = threading.Lock()
        self._cache: OrderedDict[tuple[str, ...], int] = OrderedDict()

    def _ready(self) -> tuple[LlamaVocab, ChatTemplate]:
        loaded = self._loaded
        if loaded is None:
            with self._load_lock:
                if self._loaded is None:
                    vocab = self._load()
                    template = ChatTemplate(
                        vocab.chat_template(),
                        bos_token=vocab.bos_token,
                        eos_token=vocab.eos_token,
                        adds_bos=vocab.adds_bos,
                        adds_eos=vocab.adds_eos,
                    )
                    log.info("llama_vocab_loaded", gguf=str(vocab.gguf))
                    self._loaded = (vocab, template)
                loaded = self._loaded
        return loaded

    def count(self, messages: list[ChatMessage]) -> int:
        key = tuple(m.model_dump_json(exclude_none=True) for m in messages)
        cached = self._cache.get(key)
        if cached is not None:
            return cached
        vocab, template = self._ready()
        tokens = vocab.count(template.render(messages))
        self._cache[key] = tokens
        if len(self._cache) > self.CACHED:
            self._cache.popitem(last=False)
        return tokens

    def observe(self, messages: list[ChatMessage], reported: int) -> None:
        """Exact counts learn nothing."""


def llamacpp_token_counter(settings: EngineSettings) -> LocalTokenCounter | None:
    """The exact counter for a llamacpp engine, or ``None`` (the replica is asked, as
    before) with a warning when this machine has no vocabulary shim or no GGUF for it.
    A ``hf:`` model is resolved by the replica, so it is counted there too."""
    from cluster.engines.llama_server import model_path

    if settings.model.startswith("hf:"):
        log.info("token_counter_remote", model=settings.name, reason="hf model")
        return None
    try:
        shim = installed_shim()
        gguf = model_path(settings.model)
    except (LlamaBuildError, FileNotFoundError) as exc:
        log.warning("token_counter_remote", model=settings.name, reason=str(exc))
        return None
    return LlamaTokenCounter(lambda: LlamaVocab(shim, gguf))
