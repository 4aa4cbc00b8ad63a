"""Generation: the answer model — the contract (`base`), the factory, one module per backend
(`llama`, `remote`), the CPU self-check, the model files and the context budget. Imports only the
top of `rag` (config, errors, types), never ingest, grounding, the store or the pipeline.
"""
