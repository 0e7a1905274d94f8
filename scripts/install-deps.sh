#!/usr/bin/env bash
# Installs what sigmirror's build, tests and demo need on a fresh Debian machine:
# npm packages from the lockfile, and the Debian packages for the real registry harness.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -x node_modules/.bin/bun ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund --loglevel=error
fi

need=()
command -v docker-registry >/dev/null || need+=(docker-registry)
command -v skopeo >/dev/null || need+=(skopeo)
command -v htpasswd >/dev/null || need+=(apache2-utils)
command -v openssl >/dev/null || need+=(openssl)
command -v umoci >/dev/null || need+=(umoci)            # make image: OCI layout built offline
command -v xmllint >/dev/null || need+=(libxml2-utils)  # the JUnit test checks the XML with it
if [ ${#need[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

# Go-built test tools for the referrers tests (cosign, olareg, regctl, oras); skips without Go.
scripts/install-go-tools.sh
