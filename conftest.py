# Puts the repository root on sys.path for pytest (rag/, embeddings/, api/, eval/).
