// Accept one or many relations. kgrec loads never change a decision afterwards.
// Neo4j Browser: :param ids => ['COMPLEMENTS:3fa2...', 'USED_FOR:9b1f...']
// Neo4j Browser: :param by => 'your name'
UNWIND $ids AS id
MATCH ()-[r]->()
WHERE r.id = id
SET r.status = 'accepted', r.status_by = $by, r.status_at = timestamp()
RETURN r.id AS id, r.status AS status
