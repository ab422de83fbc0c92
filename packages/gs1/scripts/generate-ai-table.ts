// Regenerates packages/gs1/src/ai-table.ts from the GS1 Barcode Syntax
// Dictionary. Run once after the dictionary changes and commit the output:
//   npx tsx packages/gs1/scripts/generate-ai-table.ts [path/to/gs1-syntax-dictionary.txt]
// The runtime package never reads the dictionary (it must run in a browser).

import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import * as prettier from 'prettier';
import { parseDictionary, renderAiTable } from '../src/dictionary.js';

const defaultSource = new URL(
  '../../../testdata/vectors/gs1/gs1-syntax-dictionary.txt',
  import.meta.url,
);
const source = process.argv[2] ?? fileURLToPath(defaultSource);
const target = fileURLToPath(new URL('../src/ai-table.ts', import.meta.url));

const dictionary = parseDictionary(readFileSync(source, 'utf8'));
const options = (await prettier.resolveConfig(target)) ?? {};
const code = await prettier.format(renderAiTable(dictionary), { ...options, filepath: target });
writeFileSync(target, code);
console.log(`wrote ${dictionary.ais.length} AIs (release ${dictionary.release}) to ${target}`);
