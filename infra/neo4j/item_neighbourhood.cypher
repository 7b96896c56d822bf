// One item and everything related to it, to judge its relations in context.
// Neo4j Browser: :param item => '21086'
MATCH (i:Item {id: $item})-[r]-(other)
RETURN i, r, other
LIMIT 100
