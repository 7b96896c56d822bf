// Reject one or many relations, kept in each relation's decision history (as the workbench and
// `kgrec curate reject` do). kgrec loads never propose them again.
// Neo4j Browser: :param ids => ['COMPLEMENTS:3fa2...', 'USED_FOR:9b1f...']
// Neo4j Browser: :param by => 'your name'
WITH randomUUID() AS decision, timestamp() AS now
UNWIND $ids AS id
MATCH ()-[r]->()
WHERE r.id = id
SET r.status = 'rejected', r.status_by = $by, r.status_at = now,
  r.history_status = coalesce(r.history_status, []) + ['rejected'],
  r.history_by = coalesce(r.history_by, []) + [$by], r.history_at = coalesce(r.history_at, []) + [now],
  r.history_decision = coalesce(r.history_decision, []) + [decision],
  r.history_note = coalesce(r.history_note, []) + ['neo4j browser']
RETURN r.id AS id, r.status AS status
