"""The one typed configuration: the pipeline's own sections and the `Settings` that combines every package's.

Each package declares its section beside its code (`kg.config.GraphSection`,
`gnn.config.GnnSection`, `serving.config.CacheSection` / `ServeSection` / `WorkbenchSection`,
`serving.ctr.config.CtrSection`); this module adds the stages of `pipelines/` and combines
them all under the keys users write.

Precedence, highest first: command-line flags, environment variables (`KGREC_<SECTION>__<KEY>`, e.g.
`KGREC_CANDIDATES__LLM_BUDGET=500`), then the YAML file given with `--config`, then the
defaults declared here. Presets live in `infra/configs/`.
"""

from __future__ import annotations

from contextvars import ContextVar
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, ValidationError, model_validator
from pydantic_core import ErrorDetails
from pydantic_settings import BaseSettings, PydanticBaseSettingsSource, SettingsConfigDict

from gnn.config import GnnSection
from kg.config import GraphSection, Section
from kg.errors import ConfigError
from kg.schema import DatasetMark, EventType
from pipelines.datasets import dataset_of
from pipelines.extract.config import ExtractSection
from pipelines.refine.config import RefineSection
from serving.config import CacheSection, ServeSection, WorkbenchSection
from serving.ctr.config import CtrSection

ENV_PREFIX = "KGREC_"

# The YAML file's values while `load_settings` builds a Settings; read by `_YamlSource`.
_yaml_values: ContextVar[dict[str, Any]] = ContextVar("kgrec_yaml_values")

TimeUnit = Literal["s", "ms", "us"]
IngestFormat = Literal["auto", "parquet", "csv", "jsonl", "online-retail", "amazon", "movielens", "instacart",
                       "retailrocket"]


class RaySection(Section):
    """How kgrec starts or joins Ray."""

    address: str | None = Field(
        default=None,
        description="Cluster to join ('auto', 'ray://host:10001'). Unset: join the cluster in "
        "RAY_ADDRESS (set by `ray job submit`), else start a local one.",
    )
    num_cpus: int | None = Field(
        default=None, ge=1, description="CPUs for a local cluster; unset uses all of them."
    )
    object_store_memory_mb: int | None = Field(
        default=None,
        ge=100,
        description="Object store size for a local cluster. Smaller spills to disk sooner; "
        "unset lets Ray take ~30% of memory.",
    )
    progress_bars: bool = Field(
        default=True,
        description="Ray Data's per-operator progress bars, drawn when stdout is a terminal. "
        "Elsewhere (a log, CI) Ray Data logs its progress instead, which goes to its log file in "
        "the Ray session directory, and to the console only with `kgrec --verbose`.",
    )
    shuffle_strategy: Literal["hash_shuffle", "shuffle_v2"] = Field(
        default="hash_shuffle",
        description="Ray Data's key-based shuffle. Both keep each hash partition in one block, "
        "which mining relies on. 'hash_shuffle' (actor aggregators) measured 2-4x faster per "
        "shuffle than 'shuffle_v2' on a 2-CPU machine (see benchmarks/candidates.py).",
    )
    parquet_datasource_v2: bool = Field(
        default=False,
        description="Read Parquet through Ray Data's DataSourceV2 path (Ray's default since 2.60) "
        "instead of the V1 reader. Off: in Ray 2.60 its file-listing task costs about 1.7 s of wall "
        "time per read (68 ms of CPU) on a 2-CPU machine, against 0.15 s for the whole V1 read of "
        "the same file, and a stage reads several times (see benchmarks/parquet_read.py).",
    )


class SynthSection(Section):
    """The synthetic behaviour generator (`kgrec data synth`)."""

    events: int = Field(default=200_000, ge=1, description="Events to generate, exactly.")
    seed: int = Field(default=7, description="Same seed, same data, byte for byte.")
    lines_per_type: int = Field(
        default=4,
        ge=2,
        le=50,
        description="Product lines (brand + series) per product type; lines of one type are "
        "substitutes. More lines, larger catalog.",
    )
    variants_per_line: int = Field(
        default=3, ge=2, le=8, description="Colour/size/pack variants per product line."
    )
    days: int = Field(default=90, ge=1, description="Time span the events cover.")
    events_per_user: float = Field(
        default=40.0, gt=0, description="Average events per user; sets the number of users."
    )
    corrupt_fraction: float = Field(
        default=0.0,
        ge=0.0,
        le=0.5,
        description="Share of event rows deliberately broken (missing ids, bad times, unknown "
        "items) to exercise quarantine.",
    )
    chunk_events: int = Field(
        default=1_000_000,
        ge=1000,
        description="Events generated and written per file; bounds memory. Part of the "
        "determinism contract: changing it changes the data.",
    )


class IngestSection(Section):
    """Reading raw logs into the canonical `events` and `items` tables."""

    format: IngestFormat = Field(
        default="auto",
        description="Source format. 'auto' picks by file extension for generic tables.",
    )
    events_path: str | None = Field(
        default=None, description="Events file, directory or URI (s3://, gs://, ...). Unset with "
        "items_path set, `kgrec ingest` reads a catalog alone and writes an empty events table.",
    )
    items_path: str | None = Field(default=None, description="Items file, directory or URI.")
    columns: dict[str, str] = Field(
        default_factory=dict,
        description="Generic formats: canonical column -> source column, for sources whose "
        "names differ (e.g. {user_id: customer}).",
    )
    default_event_type: EventType = Field(
        default=EventType.VIEW,
        description="Event type for generic sources that have no event_type column.",
    )
    ts_unit: TimeUnit = Field(
        default="s", description="Unit of integer timestamps in generic sources."
    )
    source_timezone: str = Field(
        default="UTC",
        description="Zone of naive timestamps in the source; Online Retail uses "
        "Europe/London.",
    )
    check_item_ids: bool = Field(
        default=True,
        description="Quarantine events whose item_id is not in the items table (when one is "
        "given). The item ids are broadcast to workers.",
    )
    keep_guest_events: bool = Field(
        default=False,
        description="Online Retail: keep lines without CustomerID under a per-invoice guest "
        "user instead of quarantining them.",
    )
    rows_per_batch: int = Field(
        default=200_000, ge=1000, description="Rows read per batch within a file."
    )


class CandidatesSection(Section):
    """Mining co-occurring item pairs and query->item pairs."""

    basket_by: Literal["session", "user_window"] = Field(
        default="session",
        description="'session': events sharing session_id form a basket. 'user_window': a "
        "user's events in the same fixed time window do (for sources without sessions).",
    )
    window_seconds: int = Field(
        default=86_400, ge=1, description="Window length for basket_by=user_window."
    )
    max_basket_items: int = Field(
        default=50,
        ge=2,
        description="Distinct items kept per basket (earliest first). Caps pair work at "
        "max_basket_items^2/2 per basket, which keeps mining linear in events.",
    )
    min_pair_count: int = Field(
        default=2, ge=1, description="Pairs seen in fewer baskets are dropped."
    )
    top_k_per_item: int = Field(
        default=20,
        ge=1,
        description="A pair is kept if it ranks in the top k (by score) of either item.",
    )
    score_shrinkage: float = Field(
        default=5.0,
        ge=0.0,
        description="score = npmi * n_ab / (n_ab + shrinkage): pairs seen few times are "
        "trusted less.",
    )
    llm_budget: int = Field(
        default=2_000, ge=0, description="Pairs (best scores first) passed to the LLM stage."
    )
    query_top_k: int = Field(default=20, ge=1, description="Items kept per query.")
    min_query_count: int = Field(
        default=2, ge=1, description="Query->item pairs seen fewer times are dropped."
    )
    shuffle_partitions: int | None = Field(
        default=None,
        ge=1,
        description="Hash partitions for the shuffles; unset sizes each by its rows and the cluster's "
        "CPUs (pipelines.ray_runtime.shuffle_partitions: 50k-500k rows each, up to two per CPU).",
    )
    count_buckets: int | None = Field(
        default=None,
        ge=1,
        description="Buckets a full run stores its counts in (increments keep the previous run's); "
        "unset: one per 2M events, at least one per CPU (pipelines.candidates.buckets).",
    )


class RunSection(Section):
    """The end-to-end job (`kgrec run`)."""

    runs_dir: Path = Field(default=Path("runs"), description="Where run directories are made.")
    source: Literal["synth", "files"] = Field(
        default="synth",
        description="'synth': generate data with the synth section. 'files': ingest the "
        "ingest section's paths.",
    )
    ctr: bool = Field(
        default=True,
        description="End with the CTR evaluation (ctr section) on the run's own events, with "
        "embeddings exported as of its test split.",
    )


class Settings(BaseSettings):
    """Everything kgrec can be told. Built once, at the entry point."""

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", validate_default=True
    )

    ray: RaySection = Field(default_factory=RaySection)
    synth: SynthSection = Field(default_factory=SynthSection)
    ingest: IngestSection = Field(default_factory=IngestSection)
    candidates: CandidatesSection = Field(default_factory=CandidatesSection)
    extract: ExtractSection = Field(default_factory=ExtractSection)
    refine: RefineSection = Field(default_factory=RefineSection)
    graph: GraphSection = Field(default_factory=GraphSection)
    cache: CacheSection = Field(default_factory=CacheSection)
    serve: ServeSection = Field(default_factory=ServeSection)
    workbench: WorkbenchSection = Field(default_factory=WorkbenchSection)
    ctr: CtrSection = Field(default_factory=CtrSection)
    gnn: GnnSection = Field(default_factory=GnnSection)
    run: RunSection = Field(default_factory=RunSection)

    @model_validator(mode="after")
    def _files_source_needs_events(self) -> Settings:
        if self.run.source == "files" and not self.ingest.events_path:
            raise ValueError("run.source is 'files' but ingest.events_path is not set")
        return self

    @model_validator(mode="after")
    def _graph_per_dataset(self) -> Settings:
        """Unless `graph.graph_name` is set, the graph is named after the dataset (`pipelines.datasets`)."""
        if self.graph.graph_name is None:
            self.graph = self.graph.model_copy(update={"graph_name": self.dataset.key})
        return self

    @property
    def dataset(self) -> DatasetMark:
        """The dataset `run.source` reads: what its graph is named after and marked with."""
        return dataset_of(self.run.source, self.synth, self.ingest)

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Flags (init kwargs) beat the environment, which beats the YAML file."""
        return (init_settings, env_settings, _YamlSource(settings_cls))


class _YamlSource(PydanticBaseSettingsSource):
    """Hands the YAML file's values to pydantic-settings, below the environment."""

    def get_field_value(self, field: Any, field_name: str) -> tuple[Any, str, bool]:
        return None, field_name, False  # unused: __call__ returns the whole mapping

    def __call__(self) -> dict[str, Any]:
        return _yaml_values.get({})


def _read_yaml(path: Path) -> dict[str, Any]:
    fix = "pass a YAML file of config sections (presets in infra/configs/; `kgrec config show` prints all)"
    if not path.exists():
        raise ConfigError(f"config file {path} does not exist; {fix}")
    if path.is_dir():
        raise ConfigError(f"config file {path} is a directory; {fix}")
    try:
        data = yaml.safe_load(path.read_text())
    except (OSError, UnicodeDecodeError) as e:
        raise ConfigError(f"config file {path} cannot be read ({e}); {fix}") from e
    except yaml.YAMLError as e:
        raise ConfigError(f"config file {path} is not valid YAML ({_yaml_problem(e)}); fix it there") from e
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"config file {path} must hold a mapping of sections at the top; {fix}")
    return data


def _yaml_problem(error: yaml.YAMLError) -> str:
    """The parser's complaint and where, on one line (its own message spans several with a caret)."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error).splitlines()[0]
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else str(problem)


def _describe(error: ErrorDetails, path: Path | None) -> str:
    key = ".".join(str(part) for part in error["loc"])
    env_name = ENV_PREFIX + "__".join(str(p).upper() for p in error["loc"])
    origin = f"{path} or {env_name}" if path else env_name
    return f"{key}: {error['msg']} (got {error.get('input')!r}; set in {origin})"


def load_settings(path: Path | None = None, overrides: dict[str, Any] | None = None) -> Settings:
    """Build the effective settings from defaults, a YAML file, the environment and flags.

    Raises:
        ConfigError: the file is unreadable or a value is invalid; the message names each
            offending key and where it could have come from.
    """
    token = _yaml_values.set(_read_yaml(path) if path else {})
    try:
        return Settings(**(overrides or {}))
    except ValidationError as e:
        problems = [_describe(err, path) for err in e.errors()]
        raise ConfigError("invalid configuration:\n  " + "\n  ".join(problems), errors=problems) from e
    finally:
        _yaml_values.reset(token)
