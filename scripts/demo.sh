#!/usr/bin/env bash
# `make demo`: sigmirror on a local demo.
# 1. plan reads the kpromo manifests under examples/demo-manifests (two projects) and touches no registry.
# 2. scripts/demo-replicate.ts starts three real registries on loopback (a primary and two mirrors),
#    pushes images, signatures, an attestation referrer and an unsigned image, and runs the main job: a cold run that copies,
#    a warm run that sends no request, a re-signed image repaired, a verify; then stops everything.
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

printf '\n== replicate on three local registries\n'
SIGMIRROR_BIN="$bin" env -u HTTP_PROXY -u HTTPS_PROXY -u http_proxy -u https_proxy -u NO_PROXY -u no_proxy \
  node_modules/.bin/bun scripts/demo-replicate.ts
