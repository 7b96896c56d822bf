"""The steps of `kgrec run`, one module each; the only place besides the CLI that drives gnn/ and serving/.

Each step takes the settings and the run directory, calls its stage with the tables and
paths it needs, and records the stage's report in the run's manifest.
"""
