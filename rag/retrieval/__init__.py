"""Retrieval: dense + BM25 fused rankings over the index, and the glossary that lets English reach Chinese text."""
