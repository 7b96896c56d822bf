"""Which dataset a configuration reads, and so which graph it loads: one graph per dataset.

Two datasets loaded into one graph mix in every later snapshot (and so in the embeddings),
so a graph is named after its dataset unless `graph.graph_name` says otherwise. The dataset
is what `run.source` reads:

- `synth`: the synthetic catalog, which `synth.seed`, `synth.lines_per_type` and
  `synth.variants_per_line` decide (the same item ids, whatever the number of events: more
  events are more evidence about the same items);
- `files`: `ingest.format` and the events and items paths (local paths made absolute, so the
  same files give the same graph from any working directory; URIs as written).

The key is a readable slug plus 8 hex digits of a hash of those values, e.g.
`synth-seed7-3f9c1a2b` or `online-retail-online-retail-5be0d4c1`; it is stable across
runs and machines. `kgrec config show` prints the graph name a config gets.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import TYPE_CHECKING

from kg.schema import DatasetMark

if TYPE_CHECKING:
    from pipelines.config import IngestSection, SynthSection

SLUG_LENGTH = 40


def dataset_of(source: str, synth: SynthSection, ingest: IngestSection) -> DatasetMark:
    """The dataset `run.source` reads with these sections, as the graph marks it."""
    if source == "synth":
        identity: dict[str, object] = {"source": "synth", "seed": synth.seed,
                                       "lines_per_type": synth.lines_per_type,
                                       "variants_per_line": synth.variants_per_line}
        slug = f"synth-seed{synth.seed}"
        description = (f"synthetic data (seed {synth.seed}; {synth.lines_per_type} product lines x "
                       f"{synth.variants_per_line} variants per type)")
    else:
        events, items = _where(ingest.events_path), _where(ingest.items_path)
        identity = {"source": "files", "format": ingest.format, "events": events, "items": items}
        stem = Path(events.rstrip("/")).stem if events else "none"
        slug = f"{'files' if ingest.format == 'auto' else ingest.format}-{stem}"
        description = f"{ingest.format} files {events}" + (f" with items {items}" if items else "")
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
    return DatasetMark(key=f"{_slug(slug)}-{digest}", description=description)


def _where(path: str | None) -> str | None:
    """A path as the dataset's identity: URIs as written, local paths absolute."""
    if path is None or "://" in path:
        return path.rstrip("/") if path else path
    return str(Path(path).expanduser().resolve())


def _slug(text: str) -> str:
    """Lower-case letters, digits and single dashes: safe as a FalkorDB key and readable."""
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")[:SLUG_LENGTH].strip("-") or "data"
