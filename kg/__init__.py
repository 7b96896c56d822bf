"""Knowledge-graph vocabulary shared by every stage: table schemas, relation types, errors."""
