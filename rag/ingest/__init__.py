"""Ingest: files in, chunks out — the readers (one per format), the parser cage, chunking and the
flags on planted instructions. Imports only the top of `rag` (config, errors, types, text), never
generation, grounding, the store or the pipeline.
"""
