"""The serving sections of kgrec's configuration: the embedding cache and the HTTP API.

Kept beside the code they configure (pydantic only), so a ranker that imports the client or
the API loads no batch-pipeline configuration; `pipelines.config.Settings` includes them as
`cache` and `serve`.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr

from kg.config import Section


class CacheSection(Section):
    """The embedding cache: the embedded Redis by default, any Redis by URL in production."""

    url: str | None = Field(
        default=None,
        description="An external Redis (redis://host:6379/0, or rediss:// for TLS). Unset: the "
        "embedded server in state_dir (`kgrec cache start|stop|status`).",
    )
    username: str | None = Field(default=None, description="Redis ACL user (Redis 6+); unset: default.")
    password: SecretStr | None = Field(default=None, description="Redis password (env only).")
    tls_ca_file: Path | None = Field(default=None, description="CA bundle for rediss:// URLs.")
    tls_cert_file: Path | None = Field(default=None, description="Client certificate (mutual TLS).")
    tls_key_file: Path | None = Field(default=None, description="Client key (mutual TLS).")
    state_dir: Path = Field(
        default=Path(".kgrec/redis"),
        description="Embedded server's data (AOF), log and pid file.",
    )
    port: int | None = Field(default=None, ge=1, le=65535,
                             description="Embedded server port; unset picks a free one at start.")
    exports_dir: Path = Field(
        default=Path(".kgrec/embeddings"),
        description="Where exported embedding versions live (<dir>/<version>/); publish reads here.",
    )
    key_prefix: str = Field(default="kgrec:emb", min_length=1,
                            description="Namespace of every key; lets several deployments share a Redis.")
    keep_versions: int = Field(
        default=2, ge=2,
        description="Published versions kept. At least 2, so a reader pinned to the version "
        "live a moment ago still finds it after a switch.",
    )
    publish_batch: int = Field(default=5_000, ge=1,
                               description="Keys per MSET when publishing: larger is faster, up to memory.")
    read_chunk: int = Field(
        default=512, ge=1,
        description="Keys per MGET; larger batches are split and pipelined in one round trip.")
    timeout_s: float = Field(
        default=0.05, gt=0,
        description="Socket timeout of a read. Past it the client serves fallbacks; keep it "
        "below the ranker's own latency budget.",
    )
    retry_after_s: float = Field(
        default=1.0, ge=0,
        description="After a failed read, serve fallbacks without asking Redis for this long, so "
        "a dead Redis costs no timeout per request.",
    )
    version_refresh_s: float = Field(
        default=1.0, gt=0, description="How often a client re-reads the live version pointer."
    )


class ServeSection(Section):
    """The HTTP API for rankers (`kgrec serve`)."""

    host: str = Field(default="127.0.0.1", description="Bind address; 0.0.0.0 exposes it to the network.")
    port: int = Field(default=8000, ge=1, le=65535, description="Listen port.")
    max_batch: int = Field(default=1_024, ge=1,
                           description="Most ids per request; larger requests get a 413.")
    max_id_length: int = Field(default=256, ge=1, description="Longest id accepted (characters).")
    token_env: list[str] = Field(
        default_factory=lambda: ["KGREC_API_TOKENS"],
        description="Environment variables holding the API's bearer tokens, comma-separated; several "
        "are accepted at once so a token can be rotated without downtime. Any token set: every "
        "route but /healthz and /readyz needs `Authorization: Bearer <token>`. Tokens never go in "
        "config files; they are read when `kgrec serve` starts.",
    )
    allow_unauthenticated: bool = Field(
        default=False,
        description="Serve a non-loopback host without tokens, for an API behind a gateway or mesh "
        "that authenticates. False: `kgrec serve` refuses to expose unauthenticated embeddings.",
    )


class WorkbenchSection(Section):
    """The curation workbench, a web page for curators (`kgrec curate ui`)."""

    host: str = Field(
        default="127.0.0.1",
        description="Bind address. Any address other machines reach needs a token in one of "
        "token_env's variables: every request is then checked.",
    )
    port: int = Field(default=8010, ge=1, le=65535, description="Listen port.")
    token_env: list[str] = Field(
        default_factory=lambda: ["KGREC_WORKBENCH_TOKENS"],
        description="Environment variables holding the workbench's tokens, comma-separated (several "
        "at once rotate one without downtime). Browsers send one as `Authorization: Bearer`, or "
        "log in once at /login (an HttpOnly cookie). Never in config files.",
    )
    page_size: int = Field(default=25, ge=1, le=500, description="Relations per queue page.")
    queue_refresh_s: float = Field(
        default=30.0, gt=0,
        description="How old the review queue's cached order may get before it is read again, in the "
        "background (the rows are always read live; a new pipeline run's relations join the queue "
        "at the next read). Ordering reads every relation the filter selects.")
    queue_order_limit: int = Field(
        default=10_000, ge=1,
        description="Most ids a filter's cached order holds (400 pages of 25); pages past them are "
        "ordered by the store page by page. Reading 100k ids costs about four times one page.")
    neighbourhood_limit: int = Field(
        default=40, ge=1, le=500,
        description="Most relations drawn around an item; larger graphs get too dense to read.")
    labels_path: Path = Field(
        default=Path(".kgrec/labels.parquet"),
        description="Where the export button writes the labels file (`kgrec refine train-critic "
        "--labels`); .csv for CSV.",
    )
