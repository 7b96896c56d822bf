// Long-lived Cypher checker: one JSON request per stdin line, one JSON reply per stdout line.
// Request: {"query": "...", "parameters": {"rows": [], "id": ""}}
// Reply:   {"diagnostics": [{"severity": 1, "message": "...", "offsets": {...}}]}
import { createInterface } from 'node:readline';
import { lintCypherQuery } from '@neo4j-cypher/language-support';

const lines = createInterface({ input: process.stdin });
for await (const line of lines) {
  if (!line.trim()) continue;
  let reply;
  try {
    const { query, parameters } = JSON.parse(line);
    const result = lintCypherQuery(query, { parameters: parameters ?? {} });
    const diagnostics = (result.diagnostics ?? result).map((d) => ({
      severity: d.severity, message: d.message, offsets: d.offsets,
    }));
    reply = { diagnostics };
  } catch (error) {
    reply = { error: String(error) };
  }
  process.stdout.write(JSON.stringify(reply) + '\n');
}
