// The raw floor of `pnpm bench verifier` (issue 15): a bare node:http route
// that does what a verification cannot avoid, and nothing else: read and
// parse a JSON body, one indexed PostgreSQL SELECT (a log leaf by its
// primary key) and one node:crypto Ed25519 sign, then a small JSON answer.
// Run in its own process (DATABASE_URL, FLOOR_POOL); prints `listening <port>`.
import { createServer } from 'node:http';
import { generateKeyPairSync, randomInt, sign } from 'node:crypto';
import { openPg } from '@provenant/store';

const db = await openPg(process.env.DATABASE_URL!, { max: Number(process.env.FLOOR_POOL ?? 10) });
const { rows } = await db.query<{ n: number }>('SELECT count(*)::int AS n FROM log_leaves');
const leaves = Math.max(1, rows[0]!.n);
const { privateKey } = generateKeyPairSync('ed25519');

const server = createServer((req, res) => {
  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    void (async () => {
      try {
        const body = JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as object;
        const r = await db.query<{ leaf_hash: Uint8Array }>(
          'SELECT leaf_hash FROM log_leaves WHERE idx = $1::bigint',
          [randomInt(leaves)],
        );
        const signature = sign(
          null,
          Buffer.concat([
            r.rows[0]?.leaf_hash ?? Buffer.alloc(32),
            Buffer.from(JSON.stringify(body)),
          ]),
          privateKey,
        );
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ signature: signature.toString('base64') }));
      } catch {
        res.writeHead(500).end();
      }
    })();
  });
});
server.keepAliveTimeout = 30_000;
server.listen(0, '127.0.0.1', () => {
  console.log(`listening ${(server.address() as { port: number }).port}`);
});
process.on('SIGTERM', () => {
  server.close();
  void db.close().then(() => process.exit(0));
});
