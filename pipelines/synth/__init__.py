"""Synthetic behaviour logs with a known knowledge structure, for machines without data."""
