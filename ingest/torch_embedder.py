"""The torch backend: a sentence-transformers model on CPU, loaded from local files only."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import numpy as np

from ingest.cpus import embedding_threads
from ingest.e5_model import MODEL_NAME
from ingest.errors import ModelUnavailable

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def _configure_torch_threads() -> None:
    """Leave one CPU to the rest of the process and the machine, unless the user chose
    (OMP_NUM_THREADS).

    torch's default is one thread per core. Measured on 2 CPUs: 2 threads embed a query in 19 ms
    on an idle machine (1 thread: 24 ms), but once another process keeps one core busy, the
    OpenMP threads fight over the other and a query takes 0.5-1.7 s (1 thread: ~50 ms).
    """
    import torch

    if "OMP_NUM_THREADS" not in os.environ:
        torch.set_num_threads(embedding_threads())


def _offline_fix(name: str) -> str:
    return (
        f"Cannot load the embedding model {name!r} from local files. Set RAG_EMBED_MODEL to the path "
        "of a local sentence-transformers model directory, or leave it unset for the bundled offline "
        f"model ({MODEL_NAME})."
    )


def prompt_names(prompts: dict[str, str | None]) -> tuple[str | None, str | None]:
    """The (query, passage) prompt names to use from a model's `prompts`, None for "no prompt".

    Queries use "query"; passages use "passage", else "document". Only non-empty prompts count:
    sentence-transformers 6 adds {"query": "", "document": ""} to every model, and its own
    `encode_document` would pick that empty "document" over e5's "passage: ".
    """
    usable = {name for name, text in prompts.items() if text}
    query = "query" if "query" in usable else None
    passage = next((name for name in ("passage", "document") if name in usable), None)
    return query, passage


class SentenceTransformerEmbedder:
    """A sentence-transformers model, on CPU in float32, never downloading.

    Prompts come from the model's own config (see `prompt_names`), so e5 ("query: " /
    "passage: ") and prompt-less models such as bge-m3 both work unchanged.
    """

    def __init__(
        self,
        model_name_or_path: str,
        batch_size: int = 32,
        device: str = "cpu",
        model_id: str | None = None,
    ) -> None:
        self.model_id = model_id or str(model_name_or_path)
        self.batch_size = batch_size
        self.model = _load(str(model_name_or_path), device)
        self.query_prompt_name, self.passage_prompt_name = prompt_names(self.model.prompts)
        dimension = self.model.get_embedding_dimension()
        if not dimension:  # some custom heads do not report it
            dimension = int(self.model.encode(["probe"], convert_to_numpy=True).shape[1])
        self.dimension = int(dimension)

    def _encode(self, texts: list[str], prompt_name: str | None, progress: bool) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(
            list(texts),
            # prompt "" (not None) when there is none, so a model's default_prompt_name cannot
            # put a query prompt on passages
            prompt_name=prompt_name,
            prompt=None if prompt_name else "",
            batch_size=self.batch_size,
            convert_to_numpy=True,
            normalize_embeddings=True,
            show_progress_bar=progress,
        )
        return np.ascontiguousarray(vectors, dtype=np.float32)

    def embed_queries(self, texts: list[str]) -> np.ndarray:
        """Embed search questions (with the model's query prompt, if it has one)."""
        return self._encode(texts, self.query_prompt_name, progress=False)

    def embed_passages(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Embed passages to index (with the model's passage or document prompt, if any)."""
        return self._encode(texts, self.passage_prompt_name, progress=progress)


def _load(name: str, device: str) -> SentenceTransformer:
    from ingest.e5_model import load_sentence_transformer

    _configure_torch_threads()
    try:
        # local_files_only (in load_sentence_transformer): a hub name resolves from the local
        # Hugging Face cache or fails at once; nothing is ever downloaded.
        return load_sentence_transformer(os.path.expanduser(name), device)
    except Exception as exc:  # hub, OS, config and weight errors all mean "cannot load it here"
        raise ModelUnavailable(f"{_offline_fix(name)} ({type(exc).__name__}: {exc})") from exc
