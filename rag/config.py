"""One typed settings object, read from `RAG_*` environment variables and an optional
`rag.toml` (in the working directory, or the file named by `RAG_CONFIG`).

Example rag.toml:  model_path = "/models/my.gguf"  and  k = 6
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    NoDecode,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

ROOT = Path(__file__).resolve().parent.parent  # the source tree (or site-packages when installed)
DEFAULT_CORPUS = ROOT / "corpus" / "afghanistan-counterterrorism-mei-2024.txt"


def default_models_dir() -> Path:
    """`models/` of the source tree when run from one, else the user's data folder
    (`$XDG_DATA_HOME/rag/models`, by default `~/.local/share/rag/models`)."""
    if (ROOT / "pyproject.toml").is_file() and (ROOT / "models").is_dir():
        return ROOT / "models"
    data = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(data) / "rag" / "models"


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RAG_", extra="ignore")

    home: Path = Field(Path(".rag"), description="where the index lives")
    store: str | None = Field(
        None,
        description="a PostgreSQL URI (postgresql://user:pass@host/db, or "
        "postgresql://user@/db?host=/socket/dir): documents and vectors in PostgreSQL + "
        "pgvector, shared by every process that names it; unset: files under `home`",
    )
    store_wait: float = Field(
        1.5,
        gt=0,
        le=600,
        description="seconds a request waits for a connection to RAG_STORE (to connect, or for a "
        "pooled one to come free) before it fails with 503 and Retry-After; raise it to ride out "
        "a managed Postgres' failover instead of failing",
    )
    model: str = Field("qwen1.5b", description="a model name from rag/generation/models.json")
    models_dir: Path = Field(
        default_factory=default_models_dir,
        description="where named models are assembled (`rag models` fetches them there)",
    )
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
    repack: bool = Field(
        False,
        description="let llama.cpp repack the weights at load (slower load and prompt, faster "
        "generation on the AMD EPYC measured; docs/performance.md)",
    )
    chunk_chars: int = Field(900, ge=200, le=20000, description="target chunk size")
    chunk_overlap: int = Field(1, ge=0, le=5, description="sentences shared by chunks")
    max_file_mb: float = Field(50.0, gt=0)
    max_question_chars: int = Field(2000, ge=10)
    max_history_chars: int = Field(
        2000, ge=0, description="chat history kept for follow-ups (oldest turns dropped first)"
    )
    ingest_batch: int = Field(
        32, ge=1, description="documents per index commit: a killed ingest loses one batch"
    )
    # file readers run in a child process with these limits (rag/ingest/cage.py)
    parser_seconds: int = Field(30, ge=1, description="CPU seconds to read one file")
    parser_memory_mb: int = Field(1024, ge=256, description="memory to read one file")
    max_extract_mb: float = Field(
        100.0, gt=0, description="decompressed size of one file's parts, and of its text"
    )
    max_doc_chars: int = Field(
        5_000_000,
        ge=1000,
        description="characters one document may yield (and at most 10 per byte of the file)",
    )
    min_support: float = Field(0.5, ge=0.0, le=1.0, description="grounding threshold")
    decline_threshold: float = Field(
        0.5, ge=0.0, le=1.0, description="the model may decline only above this probability"
    )
    min_confidence: str = Field(
        "",
        description="answer only when the calibrated P(right) is at least this: a number from "
        "0 to 1 or a level (lenient, balanced, strict; docs/calibration.md); '' = the default "
        "level",
    )
    calibration: Path | None = Field(
        None,
        description="a calibration file from `make calibrate` (default: the one shipped for the "
        "model in use, rag/calibrations/; a model without one gets no confidence)",
    )
    read_back: bool | None = Field(
        None,
        description="after each reply, ask the model whether the sources state it (about 0.4 s): "
        "unset = when the calibration weighs it; `make calibrate` records it always",
    )
    prompt_examples: bool = Field(
        False,
        description="open the prompt with worked examples: more answers, fewer declines "
        "(measured in docs/evaluation.md)",
    )
    onnx_queries: bool = Field(
        True,
        description="embed questions with the verified ONNX export of the embedding model "
        "(made at ingest, kept in <RAG_MODELS_DIR>/onnx/): no torch at question time",
    )
    # the answer model on a server instead of in this process (rag/generation/remote.py)
    llm_url: str | None = Field(
        None,
        description="an OpenAI-compatible server's base URL, e.g. http://127.0.0.1:8080/v1; "
        "when set, answers come from it and no GGUF is loaded here",
    )
    llm_model: str | None = Field(
        None, description="the model name sent to RAG_LLM_URL (default: the first it lists)"
    )
    llm_api_key: str | None = Field(None, description="sent as `Bearer <key>` to RAG_LLM_URL")
    llm_ctx: int | None = Field(
        None,
        ge=256,
        description="the server model's context window in tokens (default: what the server "
        "says, else RAG_N_CTX)",
    )
    llm_timeout: float = Field(
        120.0,
        gt=0,
        description="seconds to wait for any answer from RAG_LLM_URL (to connect, for the first "
        "token, between tokens) before the request fails with 503",
    )
    # web server (`rag serve`)
    api_key: str | None = Field(None, description="when set, the API needs `Bearer <key>`")
    sources_in_content: bool = Field(
        False,
        description="/v1/chat/completions puts the sources into `content` too (api/footnotes.py)",
    )
    max_queue: int = Field(8, ge=1, le=256, description="requests waiting for or using the model")
    max_body_bytes: int = Field(1_000_000, ge=1024, description="largest JSON request body")
    max_header_bytes: int = Field(
        16_384,
        ge=1024,
        le=1_048_576,
        description="largest request line plus headers (cookies included); larger gets 431",
    )
    max_upload_mb: float = Field(20.0, gt=0, description="largest uploaded document")
    allowed_hosts: Annotated[list[str], NoDecode] = Field(
        ["127.0.0.1", "localhost", "::1"],
        description="Host header values the server answers (DNS rebinding); '*' allows any",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        [], description="other origins whose pages may call the API (CORS); none by default"
    )

    @property
    def index_dir(self) -> Path:
        return self.home / "index"

    @field_validator("allowed_hosts", "cors_origins", mode="before")
    @classmethod
    def _comma_list(cls, v: Any) -> Any:
        """`RAG_ALLOWED_HOSTS=rag.lan,10.0.0.5` as well as a TOML list."""
        if isinstance(v, str):
            return [part.strip() for part in v.split(",") if part.strip()]
        return v

    @field_validator("min_confidence", mode="before")
    @classmethod
    def _confidence(cls, v: Any) -> Any:
        """A level name or a number from 0 to 1 (the level names are checked on use)."""
        text = str(v).strip()
        if text and not text.isalpha():
            try:
                value = float(text)
            except ValueError:
                raise ValueError(f"{v!r} is neither a number nor a level name") from None
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{v!r} is outside 0 to 1")
        return text

    @field_validator("llm_url")
    @classmethod
    def _http_url(cls, v: str | None) -> str | None:
        if v is None or not v.strip():
            return None
        from urllib.parse import urlsplit

        v = v.strip().rstrip("/")
        parts = urlsplit(v)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(
                f"{v!r} is not an http(s) URL; use the server's base, e.g. http://127.0.0.1:8080/v1"
            )
        return v

    @field_validator("store")
    @classmethod
    def _postgres_uri(cls, v: str | None) -> str | None:
        if v is not None and not v.strip():
            return None
        if v is not None and not v.startswith(("postgresql://", "postgres://")):
            raise ValueError(
                "RAG_STORE must be a PostgreSQL URI like postgresql://user:pass@host/db "
                "(or unset, for files under RAG_HOME)"
            )
        return v

    @field_validator("model_path", "embed_model", "calibration", mode="before")
    @classmethod
    def _empty_is_unset(cls, v: Any) -> Any:
        return None if v == "" else v  # RAG_CALIBRATION= : the default, not the folder "."

    @field_validator("model_path", "embed_model", "calibration")
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
