"""One typed settings object, read from `RAG_*` environment variables and an optional
`rag.toml` (in the working directory, or the file named by `RAG_CONFIG`).

Example rag.toml:  model_path = "/models/my.gguf"  and  k = 6
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ROOT = Path(__file__).resolve().parent.parent
MODELS_DIR = ROOT / "models"
DEFAULT_CORPUS = ROOT / "corpus" / "afghanistan-counterterrorism-mei-2024.txt"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    home: Path = Field(Path(".rag"), description="where the index lives")
    model: str = Field("qwen1.5b", description="a model name from models/manifest.json")
    model_path: Path | None = Field(None, description="any GGUF file; overrides `model`")
    embed_model: Path | None = Field(
        None, description="a local sentence-transformers directory (default: all-MiniLM-L6-v2)"
    )
    k: int = Field(4, ge=1, le=50, description="chunks retrieved per question")
    context_sentences: int = Field(6, ge=1, le=30, description="sentences shown to the model")
    max_tokens: int = Field(96, ge=8, le=2048)
    temperature: float = Field(0.0, ge=0.0, le=2.0)
    n_ctx: int = Field(2048, ge=256)
    n_threads: int = Field(default_factory=lambda: os.cpu_count() or 2, ge=1)
    chunk_chars: int = Field(900, ge=200, le=20000, description="target chunk size")
    chunk_overlap: int = Field(1, ge=0, le=5, description="sentences shared by chunks")
    max_file_mb: float = Field(50.0, gt=0)
    max_question_chars: int = Field(2000, ge=10)
    min_support: float = Field(0.5, ge=0.0, le=1.0, description="grounding threshold")
    decline_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="the model may decline only above this probability"
    )
    prompt_examples: bool = Field(
        False,
        description="open the prompt with worked examples: more answers, fewer declines "
        "(measured in docs/evaluation.md)",
    )
    onnx_queries: bool = Field(
        True,
        description="embed questions with the verified ONNX export of the embedding model "
        "(made at ingest, kept in models/onnx/): no torch at question time",
    )
    # web server (`rag serve`)
    api_key: str | None = Field(None, description="when set, the API needs `Bearer <key>`")
    max_queue: int = Field(8, ge=1, le=256, description="requests waiting for or using the model")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="largest JSON request body")
    max_upload_mb: float = Field(20.0, gt=0, description="largest uploaded document")

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @field_validator("model_path", "embed_model")
    @classmethod
    def _must_exist(cls, v: Path | None) -> Path | None:
        if v is not None and not v.exists():
            raise ValueError(f"{v} does not exist; point it at an existing file or directory")
        return v

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        toml = Path(os.environ.get("RAG_CONFIG", "rag.toml"))
        sources: list[Any] = [init_settings, env_settings]
        if toml.is_file():
            sources.append(TomlConfigSettingsSource(settings_cls, toml_file=toml))
        return tuple(sources)


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()
