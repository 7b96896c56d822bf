"""Embeddings to rankers: export reader, Redis publish and client, HTTP API, CTR evaluation.

Importing `serving` stays light (no torch, no FastAPI): submodules import what they need.
"""
