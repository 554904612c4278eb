// Generates src/schema.ts (types only) from the public contract, openapi/v1.json.
//
//   node scripts/generate.mjs           write src/schema.ts
//   node scripts/generate.mjs --check   regenerate in memory; exit 1 naming the file when the
//                                       committed copy differs (CI runs this, like the Rust SDK's
//                                       drift check)
//
// The output depends only on v1.json and the pinned openapi-typescript version, so the check
// is exact: no timestamps, no absolute paths.
import { readFile, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import path from 'node:path';
import openapiTS, { astToString, COMMENT_HEADER } from 'openapi-typescript';

const here = path.dirname(fileURLToPath(import.meta.url));
const spec = path.resolve(here, '../../../openapi/v1.json');
const target = path.resolve(here, '../src/schema.ts');
const relTarget = path.relative(process.cwd(), target) || target;

const document = JSON.parse(await readFile(spec, 'utf8'));
// defaultNonNullable: false — a field with a default (`tags: []`) may be left out of a request
// body, as the server fills it in; the default (true) would make every caller send it.
const ast = await openapiTS(document, { silent: true, defaultNonNullable: false });
const generated =
  COMMENT_HEADER.replace(
    ' */',
    ' * Source: openapi/v1.json. Regenerate with `npm run generate` in sdk/typescript.\n */',
  ) + astToString(ast);

if (process.argv.includes('--check')) {
  let committed = null;
  try {
    committed = await readFile(target, 'utf8');
  } catch {
    // a missing file is drift too
  }
  if (committed !== generated) {
    console.error(
      `${relTarget} is out of date with openapi/v1.json: run \`npm run generate\` in sdk/typescript and commit it`,
    );
    process.exit(1);
  }
  console.log(`${relTarget} matches openapi/v1.json`);
} else {
  await writeFile(target, generated);
  console.log(`wrote ${relTarget}`);
}
