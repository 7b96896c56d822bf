"""Placeholder package: gnn arrives with its issue; kept so the layout is stable."""
