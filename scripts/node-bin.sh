#!/usr/bin/env bash
# Prints the path of the Node.js VERSION binary, installing npm's node@VERSION package into a
# cache folder the first time (SESSIONFACTORY_NODE_CACHE, default /tmp/sessionfactory-node).
#   scripts/node-bin.sh 22.16.0   ->  /tmp/sessionfactory-node/22.16.0/node_modules/node/bin/node
set -euo pipefail
version=${1:?usage: node-bin.sh VERSION}
dir=${SESSIONFACTORY_NODE_CACHE:-/tmp/sessionfactory-node}/$version
bin=$dir/node_modules/node/bin/node
if [ ! -x "$bin" ] || [ "$("$bin" -v 2>/dev/null)" != "v$version" ]; then
  rm -rf "$dir" && mkdir -p "$dir"
  echo '{"private":true}' >"$dir/package.json"
  timeout 300 npm install --prefix "$dir" --no-audit --no-fund --loglevel=error "node@$version" >&2
fi
[ "$("$bin" -v)" = "v$version" ] || { echo "node@$version did not install a working binary at $bin" >&2; exit 1; }
echo "$bin"
