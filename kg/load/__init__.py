"""Loading relation files into a GraphStore: idempotent, resumable, refusals quarantined.

`load_directory` (or a `Loader`, which it builds and runs) is the entry point; the load
contract is documented in `kg.load.loader`. The rest of the package is what a load is made
of: `validation` (which rows may be stored), `quarantine` (the refused rows and why),
`retry` (a store that went away) and `inputs` (the Parquet directories read in batches).
"""

from kg.load.inputs import require_graph_input
from kg.load.loader import Loader, LoadReport, load_directory
from kg.load.retry import RetryPolicy, with_retries

__all__ = ["LoadReport", "Loader", "RetryPolicy", "load_directory", "require_graph_input", "with_retries"]
