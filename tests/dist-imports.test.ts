import { describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

// Outside scripts, the CLI and other packages import the built packages by
// name through their `exports` maps. CI builds before testing; a local run
// without a build has nothing to check here.
const built = existsSync('packages/core/dist/index.js') && existsSync('packages/gs1/dist/index.js');

describe('built packages', () => {
  (built ? it : it.skip)('import by name from dist in a plain Node process', () => {
    const script = `
      const core = await import('@provenant/core');
      const node = await import('@provenant/core/node');
      const gs1 = await import('@provenant/gs1');
      console.log(JSON.stringify({
        sha: core.sha256Hex('abc'),
        canonical: core.canonicalize({ b: 1, a: [true, null] }),
        backend: node.nodeBackend.name,
        subject: gs1.parseScan('(01)09506000134352(21)ABC/1').subject,
      }));`;
    const out = execFileSync(process.execPath, ['--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    expect(JSON.parse(out)).toEqual({
      sha: 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      canonical: '{"a":[true,null],"b":1}',
      backend: expect.any(String),
      subject: '01/09506000134352/21/ABC%2F1',
    });
  });
});
