"""Ray Data jobs: synthetic data, ingest, candidate mining, and the `kgrec` command line."""
