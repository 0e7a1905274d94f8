#!/usr/bin/env bash
# `make demo`: shows what sigmirror does so far on a small local demo.
# plan reads the kpromo manifests under examples/demo-manifests (two projects, hosts 127.0.0.x:port)
# and touches no registry.
set -euo pipefail
cd "$(dirname "$0")/.."

bin=${SIGMIRROR_BIN:-dist/sigmirror}
manifests=examples/demo-manifests
primary=127.0.0.11:5001

run() {
  printf '\n$ %s\n' "$*"
  "$@"
}

run "$bin" --version
run "$bin" plan --thin-manifest-dir "$manifests" --primary "$primary"
run "$bin" plan --thin-manifest-dir "$manifests" --primary "$primary" --output json
