#!/usr/bin/env bash
# Refreshes the GraphiQL playground assets served at /graphql/assets/ from the npm registry,
# so the playground works with no internet. Versions are pinned here; all three are MIT.
set -euo pipefail
cd "$(dirname "$0")/.."
out=platform/server/assets/graphiql
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
(cd "$tmp" && npm pack --silent graphiql@3.9.0 react@18.3.1 react-dom@18.3.1 >/dev/null)
for pkg in graphiql-3.9.0 react-18.3.1 react-dom-18.3.1; do
  mkdir -p "$tmp/$pkg" && tar xzf "$tmp/$pkg.tgz" -C "$tmp/$pkg"
done
cp "$tmp/graphiql-3.9.0/package/dist/index.umd.js" "$out/graphiql.min.js"
cp "$tmp/graphiql-3.9.0/package/dist/style.css" "$out/graphiql.min.css"
cp "$tmp/react-18.3.1/package/umd/react.production.min.js" "$out/react.production.min.js"
cp "$tmp/react-dom-18.3.1/package/umd/react-dom.production.min.js" "$out/react-dom.production.min.js"
echo "vendored into $out"
