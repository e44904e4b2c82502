"""Answering: question analysis, evidence, the supporting sentence, the short answer, refusals, the optional LLM."""
