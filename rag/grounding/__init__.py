"""Grounding: what a reply may claim — the parsed question, the checks, claims and their repairs,
the calibrated confidence and the verified stream. Imports only the top of `rag` (config, errors,
types, text), never ingest, generation, the store or the pipeline.
"""
