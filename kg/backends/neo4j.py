"""Neo4j backend through the official driver: managed transactions, retried by the driver."""

from __future__ import annotations

from typing import Any

from kg.errors import StoreUnavailable
from kg.store import GraphStore, Row


class Neo4jStore(GraphStore):
    """A Neo4j 5 database.

    Writes go through `execute_write`, which the driver retries on transient errors
    (deadlocks, leader changes) with backoff.
    """

    dialect = "neo4j"

    def __init__(self, uri: str, user: str, password: str, database: str = "neo4j") -> None:
        self.uri = uri
        self.database = database
        self.name = f"Neo4j {uri} database {database!r}"
        self.identity = f"neo4j:{uri}:{database}"
        self._auth = (user, password)
        self._driver: Any = None

    def connect(self) -> None:
        """Open the driver and verify connectivity and credentials."""
        try:
            import neo4j
        except ImportError as e:
            raise StoreUnavailable(self.name, 'needs the neo4j driver: pip install "kgrec"') from e
        self._driver = neo4j.GraphDatabase.driver(self.uri, auth=self._auth)
        try:
            self._driver.verify_connectivity()
        except neo4j.exceptions.Neo4jError as e:
            raise StoreUnavailable(self.name, f"cannot connect: {e}") from e
        except neo4j.exceptions.DriverError as e:
            raise StoreUnavailable(self.name, f"cannot connect: {e}") from e

    def close(self) -> None:
        """Close the driver."""
        if self._driver is not None:
            self._driver.close()
        self._driver = None

    def _run(self, query: str, params: Row, write: bool) -> list[Row]:
        def work(tx: Any) -> list[Row]:
            return [record.data() for record in tx.run(query, params)]

        with self._driver.session(database=self.database) as session:
            runner = session.execute_write if write else session.execute_read
            return list(runner(work))

    def _write(self, query: str, params: Row) -> list[Row]:
        return self._run(query, params, write=True)

    def _read(self, query: str, params: Row) -> list[Row]:
        return self._run(query, params, write=False)

    def _apply_schema(self, statement: str) -> None:
        with self._driver.session(database=self.database) as session:
            session.run(statement).consume()  # IF NOT EXISTS makes this idempotent

    def await_indexes(self) -> None:
        """Neo4j's own wait for index population (`db.awaitIndexes`)."""
        with self._driver.session(database=self.database) as session:
            session.run(AWAIT_INDEXES).consume()

    def is_transient(self, error: BaseException) -> bool:
        """The driver's own classification, plus a lost connection."""
        import neo4j

        return isinstance(error, neo4j.exceptions.TransientError | neo4j.exceptions.ServiceUnavailable
                          | neo4j.exceptions.SessionExpired)

    def clear(self) -> None:
        """Delete every node and relation in batches (an auto-commit query, as Neo4j requires)."""
        with self._driver.session(database=self.database) as session:
            session.run(CLEAR).consume()


AWAIT_INDEXES = "CALL db.awaitIndexes(3600)"
CLEAR = "MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS"
