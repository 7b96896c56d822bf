// kgrec review queue: proposed relations, most confident and best supported first.
// Neo4j Browser: :param limit => 50
MATCH (h:Item)-[r]->(t)
WHERE r.status = 'proposed'
RETURN r.id AS id, type(r) AS type, h.title AS head, coalesce(t.title, t.text) AS tail,
  r.confidence AS confidence, r.support AS support, r.lift AS lift, r.model AS model,
  r.rationale AS rationale
ORDER BY r.confidence DESC, r.support DESC, r.id
LIMIT $limit
