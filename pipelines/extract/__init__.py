"""LLM knowledge extraction: factorized prompts over candidate pairs and items, three backends.

Stage layout: `tasks` (driver, polars: what to ask, with the deterministic pre-filter's answers)
-> `answers` (Ray Data: cache lookup, then the LLM for the misses) -> `relations`, `concepts`,
`facts`, `failures` (driver, from the answers). See `pipelines.extract.job`.
"""
