"""Loading relation files into a GraphStore; see `kg.load.loader` for the load contract."""

from kg.load.loader import LoadReport, RetryPolicy, load_directory, with_retries

__all__ = ["LoadReport", "RetryPolicy", "load_directory", "with_retries"]
