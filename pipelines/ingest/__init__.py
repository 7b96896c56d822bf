"""Raw logs in, canonical `events` and `items` tables plus a quarantine out."""
