"""Time-aware embeddings: events + knowledge-graph snapshot -> PyG TGN -> exported vectors.

Modules, one job each: `ids` (dense id remap), `text` (cached sentence embeddings), `features`
(item/concept texts), `stream` (events + knowledge -> a time-ordered edge stream), `data`
(everything prepared for training), `model` (TGN with fused features),
`metrics` (AP/AUC/MRR), `harness` (passes over the stream), `train` (fit, checkpoint, test),
`export` (embeddings at a time). `config` is the `gnn:` settings section. The Ray Train entry
point is `pipelines.steps.gnn.train_on_ray`. Importing this package imports nothing heavy.
"""
