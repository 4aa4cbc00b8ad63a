"""ONNX Runtime backend for short texts (questions): the sentence-transformers model without torch.

Importing torch and sentence-transformers costs ~4 s on 2 cores; onnxruntime and `tokenizers`
~0.2 s. `export` writes the model's transformer (MiniLM) to `<cache>/<name>-<key>/model.onnx`
with torch — once, where torch is loaded anyway (at ingest) — and keeps it only when its
vectors match the sentence-transformers ones (cosine >= 1 - 1e-4 on `PROBES`). The key covers
the model folder and its weight and tokenizer files, so a changed model is exported again.
    export(SentenceTransformerEmbedder(), cache)   # at ingest; None when the model is unsupported
    OnnxEmbedder.load(model_dir, cache)            # at question time; None when not exported
Does not: pool token vectors for sentences (`_embed_spans_batch` falls back to embedding each
span alone; ingest uses sentence-transformers), or support models beyond Transformer -> mean
Pooling (-> Normalize).
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from embeddings.base import Embedder

MIN_COSINE = 1 - 1e-4
PROBES = (
    "Who leads ISKP?",
    "How many people did the Crocus City Hall attack kill?",
    "Ünïcode, numbers 1,234.5 and punctuation — “quoted”!",
    "The Taliban " * 200,  # longer than the model's window: truncation must match
)
INPUTS = ("input_ids", "attention_mask", "token_type_ids")


def _mean_pooling_stack(model_dir: Path) -> tuple[int, bool] | None:
    """(max_seq_length, normalize) for a Transformer -> mean Pooling (-> Normalize) folder."""
    try:
        modules = json.loads((model_dir / "modules.json").read_text())
        kinds = [m["type"].rsplit(".", 1)[-1] for m in modules]
        if kinds[:2] != ["Transformer", "Pooling"] or set(kinds[2:]) - {"Normalize"}:
            return None
        pool = json.loads((model_dir / modules[1]["path"] / "config.json").read_text())
        modes = {k for k, on in pool.items() if k.startswith("pooling_mode") and on is True}
        if modes != {"pooling_mode_mean_tokens"}:
            return None
        bert = json.loads((model_dir / "sentence_bert_config.json").read_text())
        if not (model_dir / "tokenizer.json").is_file():
            return None
        return int(bert["max_seq_length"]), "Normalize" in kinds
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None


def export_dir(model_dir: Path, cache: Path) -> Path:
    """Where the export of `model_dir` lives: the key changes with the model's files."""
    model_dir = model_dir.resolve()
    ident = [str(model_dir)]
    for name in sorted(os.listdir(model_dir)):
        if name.endswith((".safetensors", ".bin", ".json")):
            st = (model_dir / name).stat()
            ident.append(f"{name}|{st.st_size}|{st.st_mtime_ns}")
    key = hashlib.sha256("\n".join(ident).encode()).hexdigest()[:16]
    name = model_dir.parent.name if model_dir.name == "model" else model_dir.name
    return cache / f"{name}-{key}"


class OnnxEmbedder(Embedder):
    batch_size = 32

    def __init__(self, directory: Path, threads: int | None = None) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        meta = json.loads((directory / "export.json").read_text())
        self.model_id, self.dim = meta["model_id"], int(meta["dim"])  # the source model's
        self.tokenizer = Tokenizer.from_file(str(directory / "tokenizer.json"))
        self.tokenizer.enable_truncation(int(meta["max_seq_length"]))
        self.tokenizer.no_padding()
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads or os.cpu_count() or 1
        options.log_severity_level = 3
        self.session = ort.InferenceSession(
            str(directory / "model.onnx"), options, providers=["CPUExecutionProvider"]
        )

    @classmethod
    def load(cls, model_dir: Path, cache: Path) -> OnnxEmbedder | None:
        """The verified export of `model_dir` under `cache`, or None (not exported, or the
        runtime is not installed)."""
        directory = export_dir(model_dir, cache)
        if not (directory / "export.json").is_file():
            return None
        try:
            return cls(directory)
        except ImportError:
            return None

    def _embed_batch(self, texts: list[str]) -> np.ndarray:
        encoded = self.tokenizer.encode_batch(texts)
        n = max(len(e.ids) for e in encoded)
        feed = {name: np.zeros((len(texts), n), dtype=np.int64) for name in INPUTS}
        for i, e in enumerate(encoded):
            feed["input_ids"][i, : len(e.ids)] = e.ids
            feed["attention_mask"][i, : len(e.ids)] = e.attention_mask
            feed["token_type_ids"][i, : len(e.ids)] = e.type_ids
        (tokens,) = self.session.run(None, feed)  # (batch, n, dim)
        mask = feed["attention_mask"][..., None].astype(np.float32)
        vectors = (tokens * mask).sum(axis=1) / np.maximum(mask.sum(axis=1), 1e-9)
        return vectors.astype(np.float32)


def export(st_embedder: Any, cache: Path) -> Path | None:
    """Export a `SentenceTransformerEmbedder`'s model to ONNX under `cache` and verify it against
    the sentence-transformers vectors; the folder, or None when the model is not a supported
    stack or does not verify. Already exported: returns at once (without loading torch)."""
    model_dir = Path(st_embedder.path)
    stack = _mean_pooling_stack(model_dir)
    if stack is None:
        return None
    directory = export_dir(model_dir, cache)
    if (directory / "export.json").is_file():
        return directory
    import torch

    tmp = directory.with_name(f".tmp-{directory.name}-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        transformer = st_embedder.model[0].auto_model.eval()
        sample = st_embedder.model.tokenizer(["a b", "c"], padding=True, return_tensors="pt")

        class Hidden(torch.nn.Module):  # the token vectors, as the Pooling module gets them
            def __init__(self) -> None:
                super().__init__()
                self.transformer = transformer

            def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any) -> Any:
                return self.transformer(
                    input_ids=input_ids,
                    attention_mask=attention_mask,
                    token_type_ids=token_type_ids,
                ).last_hidden_state

        axes = {name: {0: "batch", 1: "tokens"} for name in (*INPUTS, "tokens")}
        with torch.no_grad(), warnings.catch_warnings():
            warnings.simplefilter("ignore")  # tracer notes on shape checks that hold for BERT
            torch.onnx.export(
                Hidden(),
                tuple(sample[name] for name in INPUTS),
                str(tmp / "model.onnx"),
                dynamo=False,
                input_names=list(INPUTS),
                output_names=["tokens"],
                dynamic_axes=axes,
                opset_version=17,
            )
        shutil.copy(model_dir / "tokenizer.json", tmp / "tokenizer.json")
        meta = {
            "model_id": st_embedder.model_id,
            "dim": st_embedder.dim,
            "max_seq_length": stack[0],
            "normalize": stack[1],
            "source": str(model_dir.resolve()),
            "torch": torch.__version__,
        }
        (tmp / "export.json").write_text(json.dumps(meta, indent=1))
        onnx = OnnxEmbedder(tmp)
        worst = min(  # padded batches and single texts
            min_cosine(st_embedder, onnx, list(PROBES)),
            *(min_cosine(st_embedder, onnx, [text]) for text in PROBES),
        )
        if worst < MIN_COSINE:
            return None
        meta["min_cosine"] = round(worst, 7)
        (tmp / "export.json").write_text(json.dumps(meta, indent=1))
        shutil.rmtree(directory, ignore_errors=True)
        os.rename(tmp, directory)
        return directory
    except Exception:  # noqa: BLE001 - no exporter, no space, ...: questions keep using torch
        return None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def min_cosine(a: Embedder, b: Embedder, texts: list[str]) -> float:
    """The smallest cosine between the two embedders' vectors of the same texts."""
    return float(np.min(np.sum(a.embed(texts) * b.embed(texts), axis=1)))
