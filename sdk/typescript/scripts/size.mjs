// Measures what the SDK adds to an app: src/index.ts bundled and minified with esbuild for the
// browser (ESM), then gzipped, twice: our layer alone (openapi-fetch left external) and with
// openapi-fetch bundled in. Exits 1 when the whole runtime is over the 5 kB budget.
import { build } from 'esbuild';
import { gzipSync } from 'node:zlib';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const entry = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/index.ts');
const BUDGET = 5000; // "under 5 kB": decimal, the stricter reading

async function measure(external) {
  const out = await build({
    entryPoints: [entry],
    bundle: true,
    minify: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2022',
    write: false,
    external,
  });
  const code = out.outputFiles[0].contents;
  return { min: code.length, gz: gzipSync(code, { level: 9 }).length };
}

const kb = (n) => `${n} B`;
const layer = await measure(['openapi-fetch']);
const whole = await measure([]);
console.log(`@weft/sdk layer alone:        ${kb(layer.min)} min, ${kb(layer.gz)} gzipped`);
console.log(`@weft/sdk with openapi-fetch: ${kb(whole.min)} min, ${kb(whole.gz)} gzipped (budget ${kb(BUDGET)})`);
if (whole.gz > BUDGET) {
  console.error(`over budget by ${whole.gz - BUDGET} bytes`);
  process.exit(1);
}
