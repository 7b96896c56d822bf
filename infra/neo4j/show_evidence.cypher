// Everything kgrec knows about one relation, with both endpoints, for a curator's decision.
// Neo4j Browser: :param id => 'COMPLEMENTS:3fa2...'
MATCH (h)-[r]->(t)
WHERE r.id = $id
RETURN h, r, t, r.support AS support, r.lift AS lift, r.first_seen AS first_seen_ms,
  r.last_seen AS last_seen_ms, r.evidence_runs AS runs, r.model AS model,
  r.prompt_version AS prompt_version, r.rationale AS rationale, r.status AS status
