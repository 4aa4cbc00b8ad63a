"""Domain errors. Each message says what went wrong *and* how to fix it.

The CLI and the API translate these at the edge (exit code + one line; HTTP status + detail, the
statuses in `api/errors.py`: the core knows no HTTP):
they catch `USER_ERRORS`, which also holds the embeddings package's own error (that package sits
below this one and cannot raise a `RagError`).
"""

from embeddings.errors import EmbeddingConfigError


class RagError(Exception):
    """Base class for every error a user can see."""


class ConfigError(RagError, EmbeddingConfigError):
    """Bad configuration (a path that does not exist, a bad value). Also an
    `EmbeddingConfigError`, so one `except EmbeddingConfigError` sees both."""


class ModelMissingError(RagError):
    """A model file is not assembled or does not verify."""


class IndexMismatchError(RagError):
    """The index on disk was built with another embedding model or format."""


class IndexMissingError(RagError):
    """No index exists yet."""


class DocumentError(RagError):
    """One input document cannot be read (empty, binary, broken, too large, ...)."""


class CancelledError(RagError):
    """The caller went away (an upload whose client hung up); nothing of the work was kept."""


class NotFoundError(RagError):
    """A named document is not in the index."""


class BadQuestionError(RagError):
    """The question is empty or too long."""


class ModelServerError(RagError):
    """The answer model's server (RAG_LLM_URL) is down, too slow, or failed the request."""


class LlamaBuildError(RagError):
    """The installed llama.cpp cannot run on this CPU (it dies with a signal)."""


class StoreUnavailableError(RagError):
    """The database named by RAG_STORE cannot be reached or used."""


USER_ERRORS: tuple[type[Exception], ...] = (RagError, EmbeddingConfigError)
"""What the edges show as it is (the message says the fix); anything else is a bug."""
