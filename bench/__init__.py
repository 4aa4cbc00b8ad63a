"""Benchmarks: answer latency, pipeline overhead, ingest throughput, index scale, cold start.

Run with `make bench` or `python -m bench.run [--only ...] [--limit N] [--sizes ...]`; results go
to bench/results/ (JSON + Markdown) and the table into docs/performance.md. Never part of tests.
"""
