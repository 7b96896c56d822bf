"""Mining item pairs and query->item pairs from behaviour, with co-occurrence statistics."""
