#!/usr/bin/env bash
# Builds the third-party tools the referrers tests drive (cosign, olareg, regctl, oras), and regsync
# for bench/peers.ts, from the Go module proxy at pinned versions into .tools/go/bin. The product
# stays TypeScript: Go is only for these test tools. A tool already there at its pinned version is
# kept (a stamp file <tool>.version next to it holds package@version), so a rerun costs nothing.
# Go's module and build caches stay in their default places: they persist between CI runs on
# this machine, which is what makes a fresh .tools cheap to rebuild.
# GO_TOOLS_BIN overrides the target directory (used to check this script without touching .tools).
set -euo pipefail
cd "$(dirname "$0")/.."

bin="${GO_TOOLS_BIN:-$PWD/.tools/go/bin}"

# name|module|package|version: the module is needed apart from the package for the fallback build.
tools=(
  "cosign|github.com/sigstore/cosign/v3|github.com/sigstore/cosign/v3/cmd/cosign|v3.1.2"
  "olareg|github.com/olareg/olareg|github.com/olareg/olareg/cmd/olareg|v0.2.2"
  "regctl|github.com/regclient/regclient|github.com/regclient/regclient/cmd/regctl|v0.11.5"
  "oras|oras.land/oras|oras.land/oras/cmd/oras|v1.3.6"
  # regsync: only bench/peers.ts runs it (a peer doing the same copy job), not the tests.
  "regsync|github.com/regclient/regclient|github.com/regclient/regclient/cmd/regsync|v0.11.5"
)

if ! command -v go >/dev/null; then
  # Under CI the machine is ours: tests skipped for want of Go would hide a regression.
  if [ "${CI:-}" = "true" ]; then
    echo "install-go-tools: go not found (CI=true): the referrers tests cannot run" >&2
    exit 1
  fi
  echo "install-go-tools: go not found: the referrers tests will skip (install Go >= 1.26 to run them)"
  exit 0
fi

mkdir -p "$bin"
# The proxy must not be bypassed by a user's GOFLAGS=-mod=vendor or GOWORK; toolchain downloads
# would be a surprise on a machine without network to go.dev, so the local go builds everything.
export GOWORK=off GOTOOLCHAIN=local
base_goflags="$(go env GOFLAGS)"

now() { printf '%s' "$EPOCHREALTIME"; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# True when the binary was built from pkg at version (reads the build info Go embeds), so tools
# installed by hand before stamps existed are adopted instead of rebuilt.
built_from() {
  local file="$1" pkg="$2" module="$3" version="$4" info
  info="$(go version -m "$file" 2>/dev/null)" || return 1
  # Lines are "\tpath\t<pkg>" and "\tmod|dep\t<module>\t<version>\t<sum>": "mod" when installed
  # as pkg@version, "dep" when built through the throwaway module.
  awk -F'\t' -v pkg="$pkg" -v mod="$module" -v ver="$version" '
    $2 == "path" && $3 == pkg { p = 1 }
    ($2 == "mod" || $2 == "dep") && $3 == mod && $4 == ver { m = 1 }
    END { exit !(p && m) }' <<<"$info"
}

# go install pkg@version can fail where a module build works: for olareg the proxy answers 403 to
# the @v/list lookup go install makes (deprecation check). A throwaway module that requires the
# pinned version builds the same package without that lookup.
install_via_module() {
  local module="$1" pkg="$2" version="$3" dir rc=0
  dir="$(mktemp -d "${TMPDIR:-/tmp}/go-tool-build.XXXXXX")"
  printf 'module olabuild\n\ngo 1.26\n\nrequire %s %s\n' "$module" "$version" >"$dir/go.mod"
  printf '//go:build tools\n\npackage tools\n\nimport _ "%s"\n' "$pkg" >"$dir/tools.go"
  (
    cd "$dir"
    GOFLAGS="$base_goflags -mod=mod" go mod tidy
    GOFLAGS="$base_goflags -mod=mod" GOBIN="$bin" go install "$pkg"
  ) || rc=$?
  rm -rf "$dir"
  return "$rc"
}

for entry in "${tools[@]}"; do
  IFS='|' read -r name module pkg version <<<"$entry"
  target="$bin/$name"
  stamp="$bin/$name.version"
  want="$pkg@$version"
  if [ -x "$target" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then
    echo "install-go-tools: $name $version already installed"
    continue
  fi
  if [ -x "$target" ] && built_from "$target" "$pkg" "$module" "$version"; then
    echo "$want" >"$stamp"
    echo "install-go-tools: $name $version already installed (adopted, stamp written)"
    continue
  fi
  rm -f "$stamp" # a stamp must never outlive a failed or partial install
  start="$(now)"
  log="$(mktemp)"
  if GOBIN="$bin" go install "$want" >"$log" 2>&1; then
    how="go install"
  else
    echo "install-go-tools: go install $want failed ($(tail -n 1 "$log")); building it through a throwaway module"
    install_via_module "$module" "$pkg" "$version"
    how="throwaway module"
  fi
  rm -f "$log"
  built_from "$target" "$pkg" "$module" "$version" || {
    echo "install-go-tools: $target is not $want after the install" >&2
    exit 1
  }
  echo "$want" >"$stamp"
  echo "install-go-tools: $name $version installed ($how) in $(elapsed "$start") s"
done
