#!/bin/sh
# Builds one commit of the service in its own folder, so that a long bench run measures exactly
# that commit even while others edit src/ or rebuild dist/ in the working tree:
#   dir=$(sh bench/snapshot.sh HEAD) && MLMON_BENCH_SERVICE_ROOT=$dir node bench/.build/main.js
# The snapshot shares this checkout's node_modules (symlink) and records its commit in .bench-commit.
set -eu
rev=${1:-HEAD}
root=$(git -C "$(dirname "$0")/.." rev-parse --show-toplevel)
commit=$(git -C "$root" rev-parse "$rev")
dir=${TMPDIR:-/tmp}/mlmon-bench-snapshot-$(echo "$commit" | cut -c1-12)
if [ ! -f "$dir/dist/main.js" ]; then
  rm -rf "$dir"
  mkdir -p "$dir"
  git -C "$root" archive "$commit" | tar -x -C "$dir"
  ln -s "$root/node_modules" "$dir/node_modules"
  (cd "$dir" && "$root/node_modules/.bin/tsc" -p tsconfig.build.json) >&2
  echo "$commit" > "$dir/.bench-commit"
fi
echo "$dir"
