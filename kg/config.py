"""The graph section of kgrec's configuration, and the base every section shares.

`Section` lives here, in the shared vocabulary, so each package declares its own section
next to its code (`gnn.config`, `serving.config`, `serving.ctr.config`) and
`pipelines.config.Settings` combines them under the keys users write.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, model_validator

from kg.schema import CurationStatus, SnapshotTime

DEFAULT_GRAPH = "kgrec"


class Section(BaseModel):
    """A config section: unknown keys are errors, so a typo never silently does nothing."""

    model_config = ConfigDict(extra="forbid", validate_default=True)


class GraphSection(Section):
    """The knowledge-graph store: embedded FalkorDB by default, Neo4j in production."""

    backend: Literal["falkordb", "neo4j"] = Field(
        default="falkordb", description="Where the graph lives; curators use Neo4j Browser on neo4j."
    )
    graph_name: str | None = Field(
        default=None,
        description="FalkorDB graph (key) name. Unset: named after the dataset, from run.source and "
        "the synth settings or ingest paths (`kgrec config show` prints the name), so each dataset "
        "has a graph of its own. Set it to choose a graph by hand. Neo4j keeps one graph per "
        "neo4j_database instead.",
    )
    shared: bool = Field(
        default=False,
        description="Let the graph hold several datasets on purpose: a run or load adds its dataset "
        "to those it finds there. Otherwise one that finds another dataset's data stops.",
    )
    clear_graph: bool = Field(
        default=False,
        description="When the graph holds another dataset's data, delete all of it (nodes, relations, "
        "curators' decisions) and load this dataset instead of stopping (`kgrec run --clear-graph`).",
    )
    falkordb_url: str | None = Field(
        default=None,
        description="An external FalkorDB (redis://host:port). Unset: the embedded server in state_dir.",
    )
    state_dir: Path = Field(
        default=Path(".kgrec/falkordb"),
        description="Embedded server's data, log and pid file (`kgrec graph start|stop|status`).",
    )
    port: int | None = Field(default=None, ge=1, le=65535,
                             description="Embedded server port; unset picks a free one at start.")
    neo4j_uri: str | None = Field(default=None, description="bolt:// or neo4j:// URI (backend neo4j).")
    neo4j_user: str = Field(default="neo4j", description="Neo4j user.")
    neo4j_password: SecretStr | None = Field(default=None, description="Neo4j password (env only).")
    neo4j_database: str = Field(default="neo4j", description="Neo4j database name.")
    batch_size: int = Field(default=5_000, ge=1,
                            description="Rows per UNWIND batch: larger is faster, up to memory.")
    writers: int = Field(
        default=1, ge=1, le=64,
        description="Parallel writer threads, partitioned by head item. Helps Neo4j; FalkorDB "
        "runs one write query per graph at a time, so 1 is right there.",
    )
    max_retries: int = Field(default=5, ge=0,
                             description="Retries of a batch when the store is unreachable.")
    retry_backoff_s: float = Field(default=0.5, gt=0,
                                   description="First retry delay; doubles on every retry.")
    load_lease_s: float = Field(
        default=60.0, gt=0,
        description="FalkorDB: a load holds its graph (other loads wait) by a lease every write "
        "renews; one that dies frees the graph this long after its last write.",
    )
    snapshot_statuses: list[CurationStatus] = Field(
        default_factory=lambda: [CurationStatus.ACCEPTED, CurationStatus.PROPOSED],
        description="Curation states a snapshot (and so the GNN) includes.",
    )
    snapshot_time: SnapshotTime = Field(
        default=SnapshotTime.LOADED_AND_EVIDENCE,
        description="'loaded_and_evidence': a snapshot at T holds what the graph held at T (loaded "
        "by T, evidence by T). 'evidence': evidence by T only, for backfills (history loaded "
        "today, snapshotted at a past T).",
    )

    @property
    def graph(self) -> str:
        """The graph's name: `graph_name`, else "kgrec" (kgrec's Settings always fill it in per dataset)."""
        return self.graph_name or DEFAULT_GRAPH

    @model_validator(mode="after")
    def _neo4j_needs_uri(self) -> GraphSection:
        if self.backend == "neo4j" and not self.neo4j_uri:
            raise ValueError("graph.backend is 'neo4j' but graph.neo4j_uri is not set")
        return self
