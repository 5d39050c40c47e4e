"""A GGUF's vocabulary in this process, through llama.cpp's own tokenizer.

The C calls go through ``libchorus-vocab.so`` (``llama_vocab_shim.c``, built next to the
cached ``llama-server`` by :mod:`cluster.engines.llama_build`), which loads the model
with ``vocab_only``: the tokenizer and the GGUF metadata, no weights (SmolLM2's vocabulary
takes ~1 s and a few MB). Tokenizing is the code path llama-server's completions take, so
counts equal its ``usage.prompt_tokens`` for the same prompt text.
"""

from __future__ import annotations

import ctypes
import threading
from pathlib import Path

from cluster.engines.llama_build import BUILD_COMMAND, LlamaBuildError

_BOS, _EOS = 0, 1


class LlamaVocabError(LlamaBuildError):
    """The shim or the GGUF could not be loaded, or a text could not be tokenized."""


def _bind(path: Path) -> ctypes.CDLL:
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        raise LlamaVocabError(f"cannot load {path} ({exc}): run {BUILD_COMMAND}") from exc
    model, text, i32 = ctypes.c_void_p, ctypes.c_char_p, ctypes.c_int32
    lib.chorus_vocab_load.argtypes, lib.chorus_vocab_load.restype = [text], model
    lib.chorus_vocab_count.argtypes, lib.chorus_vocab_count.restype = [model, text, i32], i32
    lib.chorus_vocab_chat_template.argtypes = [model, text]
    lib.chorus_vocab_chat_template.restype = text
    lib.chorus_vocab_special.argtypes = [model, i32, text, i32]
    lib.chorus_vocab_special.restype = i32
    lib.chorus_vocab_adds.argtypes, lib.chorus_vocab_adds.restype = [model, i32], ctypes.c_bool
    lib.chorus_vocab_free.argtypes, lib.chorus_vocab_free.restype = [model], None
    return lib


class LlamaVocab:
    """One GGUF's vocabulary, loaded on construction (``vocab_only``) until :meth:`close`.

    Calls are serialized by a lock: llama.cpp does not document ``llama_tokenize`` on a
    shared vocabulary as thread-safe, and a count takes microseconds.
    """

    def __init__(self, shim: Path, gguf: Path) -> None:
        self._lib = _bind(shim)
        self._lock = threading.Lock()
        handle = self._lib.chorus_vocab_load(str(gguf).encode())
        if not handle:
            raise LlamaVocabError(f"llama.cpp could not load the vocabulary of {gguf}")
        self._model: int | None = handle
        self.gguf = gguf

    def _handle(self) -> int:
        if self._model is None:
            raise LlamaVocabError(f"the vocabulary of {self.gguf} is closed")
        return self._model

    def count(self, text: str) -> int:
        """Tokens of ``text`` with special tokens added (BOS if the model adds one) and
        parsed (``<|im_start|>`` is one token), as llama-server tokenizes a prompt."""
        data = text.encode()
        with self._lock:
            n = self._lib.chorus_vocab_count(self._handle(), data, len(data))
        if n < 0:
            raise LlamaVocabError(f"llama.cpp could not tokenize a {len(data)}-byte text")
        return int(n)

    def chat_template(self, name: str | None = None) -> str | None:
        """The GGUF's ``tokenizer.chat_template`` (or the named one), if it has one."""
        with self._lock:
            raw = self._lib.chorus_vocab_chat_template(
                self._handle(), name.encode() if name else None
            )
        return raw.decode() if raw is not None else None

    def _special(self, which: int) -> str:
        size = 64
        while True:
            buf = ctypes.create_string_buffer(size)
            with self._lock:
                n = self._lib.chorus_vocab_special(self._handle(), which, buf, size)
            if n == -1:
                return ""  # no such token: llama-server passes an empty string too
            if n >= 0:
                return buf.raw[:n].decode(errors="replace")
            size = -n

    @property
    def bos_token(self) -> str:
        return self._special(_BOS)

    @property
    def eos_token(self) -> str:
        return self._special(_EOS)

    @property
    def adds_bos(self) -> bool:
        with self._lock:
            return bool(self._lib.chorus_vocab_adds(self._handle(), _BOS))

    @property
    def adds_eos(self) -> bool:
        with self._lock:
            return bool(self._lib.chorus_vocab_adds(self._handle(), _EOS))

    def close(self) -> None:
        with self._lock:
            if self._model is not None:
                self._lib.chorus_vocab_free(self._model)
                self._model = None
