// kgrec review queue: proposed relations, those whose label teaches the critic most first:
// scored ones by the critic's uncertainty times support, then the unscored by support (as `kgrec curate list`).
// Neo4j Browser: :param limit => 50
MATCH (h)-[r]->(t)
WHERE r.status = 'proposed'
RETURN r.id AS id, type(r) AS type, coalesce(h.title, h.text) AS head, coalesce(t.title, t.text) AS tail,
  r.confidence AS confidence, r.critic_score AS critic_score, r.decided_by AS decided_by,
  r.support AS support, r.lift AS lift, r.model AS model, r.rationale AS rationale
ORDER BY CASE WHEN r.critic_score IS NULL THEN 1 ELSE 0 END,
  coalesce((1 - abs(2 * r.critic_score - 1)) * r.support, r.support) DESC, r.id
LIMIT $limit
