"""The one error the embeddings package raises for a user to read: the message says the fix.

`embeddings/` sits below `rag/` and never imports it. `rag.errors.ConfigError` derives from
`EmbeddingConfigError`, and `rag.errors.USER_ERRORS` names both bases, so the CLI and the API
translate an embedding problem at their edge like any other configuration error.
Does not: carry an HTTP status or exit code (the edges choose those).
"""


class EmbeddingConfigError(Exception):
    """An embedding model folder or package is missing or unreadable."""
