#!/usr/bin/env node
// Checks what a build holds (docs/WEB.md, "Two builds"); run by `npm run build` and `npm run build:e2e`.
//   node scripts/check-dist.mjs        web/dist, the production build: no test scaffolding, no source maps
//   node scripts/check-dist.mjs e2e    web/dist-e2e, the test build: the scaffolding the browser tests use
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const WEB = join(dirname(fileURLToPath(import.meta.url)), '..');
// window.__seatState/__seatMapState (SeatMapView, test-hooks.ts) and the measuring page (router.tsx)
const SCAFFOLDING = ['__seatState', '__seatMapState', 'seat-map-perf'];
const e2e = process.argv[2] === 'e2e';
const root = join(WEB, e2e ? 'dist-e2e' : 'dist');

function files(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
    entry.isDirectory() ? files(join(dir, entry.name)) : [join(dir, entry.name)],
  );
}

const problems = [];
const all = files(root);
const code = all.filter((f) => /\.(js|html)$/.test(f));
const found = (word) => code.filter((f) => readFileSync(f, 'utf8').includes(word)).map((f) => relative(WEB, f));
if (e2e) {
  for (const word of SCAFFOLDING) if (found(word).length === 0) problems.push(`${word} is missing`);
} else {
  for (const word of SCAFFOLDING) for (const f of found(word)) problems.push(`${f} has ${word}`);
  for (const f of all.filter((f) => f.endsWith('.map'))) problems.push(`${relative(WEB, f)}: a source map`);
  for (const f of found('sourceMappingURL')) problems.push(`${f} points to a source map`);
}
if (problems.length > 0) {
  console.error(`${relative(WEB, root)} is not the ${e2e ? 'test' : 'production'} build it should be:\n  ${problems.join('\n  ')}`);
  process.exit(1);
}
console.log(`${relative(WEB, root)}: checked (${all.length} files, ${e2e ? 'test scaffolding present' : 'no test scaffolding, no source maps'})`);
