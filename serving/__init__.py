"""Placeholder package: serving arrives with its issue; kept so the layout is stable."""
