// Everything kgrec knows about one relation, with both endpoints, for a curator's decision.
// Neo4j Browser: :param id => 'COMPLEMENTS:3fa2...'
MATCH (h)-[r]->(t)
WHERE r.id = $id
RETURN h, r, t, r.support AS support, r.lift AS lift, r.first_seen AS first_seen_ms,
  r.last_seen AS last_seen_ms, r.evidence_ids AS evidence, r.run_id AS run_id, r.model AS model,
  r.prompt_version AS prompt_version, r.rationale AS rationale, r.decided_by AS decided_by,
  r.critic_score AS critic_score, r.decision_threshold AS decision_threshold,
  r.proposed_type AS proposed_type, r.status AS status
