"""GraphStore implementations: the only place backend-specific code lives."""
