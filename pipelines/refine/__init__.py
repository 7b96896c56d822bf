"""Refine: turns mined pairs and LLM answers into the graph input that `kgrec graph load` reads."""
