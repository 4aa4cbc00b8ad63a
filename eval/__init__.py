"""Evaluation: question sets and scoring functions for the RAG pipeline."""
