// Reject one or many relations. kgrec loads never propose them again.
// Neo4j Browser: :param ids => ['COMPLEMENTS:3fa2...']
// Neo4j Browser: :param by => 'your name'
UNWIND $ids AS id
MATCH ()-[r]->()
WHERE r.id = id
SET r.status = 'rejected', r.status_by = $by, r.status_at = timestamp()
RETURN r.id AS id, r.status AS status
