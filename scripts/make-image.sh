#!/usr/bin/env bash
# Builds the sigmirror image as an OCI image layout, offline, from Debian tools only (umoci, tar):
# the same kind of image the Dockerfile makes on gcr.io/distroless/base-nossl-debian12, with its
# base taken from this machine instead of pulled: glibc's runtime files (what `ldd` lists), CA
# certificates, a nonroot user 65532, /tmp, and the ledger directory.
#
#   scripts/make-image.sh [OUT_DIR] [BINARY]        (defaults: dist/image dist/sigmirror)
#
# Tags: the binary's version and `latest`. Timestamps come from SOURCE_DATE_EPOCH, else from the
# binary's build date, so the same binary gives the same image digest.
# Push it without a daemon, e.g.: skopeo copy oci:dist/image:latest docker://REGISTRY/sigmirror:TAG
set -euo pipefail
cd "$(dirname "$0")/.."

out=${1:-dist/image}
binary=${2:-dist/sigmirror}

die() { echo "make-image: $*" >&2; exit 1; }
[ -x "$binary" ] || die "$binary: no executable (run 'make build' first)"
command -v umoci >/dev/null || die "umoci not found (scripts/install-deps.sh installs it)"
[ "$(uname -m)" = x86_64 ] || die "the binary and the glibc copied next to it are x86-64 only"

# "sigmirror 0.1.0 (commit abc, built 2026-12-01T18:00:59Z)"
version_line=$("$binary" --version)
[[ $version_line =~ ^sigmirror\ ([^ ]+)\ \(commit\ ([^,]+),\ built\ ([^\)]+)\)$ ]] ||
  die "$binary --version: unexpected output: $version_line"
version=${BASH_REMATCH[1]}
commit=${BASH_REMATCH[2]}
built=${BASH_REMATCH[3]}
epoch=${SOURCE_DATE_EPOCH:-$(date -u -d "$built" +%s 2>/dev/null || date -u +%s)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)

stage=$(mktemp -d "${TMPDIR:-/tmp}/sigmirror-image.XXXXXX")
trap 'rm -rf "$stage"' EXIT
root=$stage/rootfs
mkdir -p "$root"

install -m 0755 "$binary" "$root/sigmirror"

# glibc: every library the dynamic loader resolves for the binary, and the loader itself, at the
# paths it resolves them to (the loader's path is baked into the binary's PT_INTERP).
libs=$(ldd "$binary" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }' | sort -u)
[ -n "$libs" ] || die "ldd $binary listed no libraries (a static binary needs no glibc: adjust this script)"
for lib in $libs; do
  mkdir -p "$root$(dirname "$lib")"
  cp -L "$lib" "$root$lib"
  chmod 0755 "$root$lib"
done
grep -q 'ld-linux' <<<"$libs" || die "no dynamic loader among: $libs"

# What distroless carries besides: CA certificates, users, name service order, copyright notices,
# and dpkg status entries so that image scanners see which glibc this is.
mkdir -p "$root/etc/ssl/certs" "$root/usr/share/doc" "$root/var/lib/dpkg/status.d"
ca=/etc/ssl/certs/ca-certificates.crt
[ -s "$ca" ] || die "$ca missing (Debian package ca-certificates)"
install -m 0644 "$ca" "$root$ca"
cat >"$root/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/sbin/nologin
nobody:x:65534:65534:nobody:/nonexistent:/sbin/nologin
nonroot:x:65532:65532:nonroot:/home/nonroot:/sbin/nologin
EOF
cat >"$root/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
nonroot:x:65532:
EOF
printf 'hosts: files dns\n' >"$root/etc/nsswitch.conf"
[ -r /etc/os-release ] && install -m 0644 /etc/os-release "$root/etc/os-release"
for pkg in libc6 ca-certificates; do
  if [ -r "/usr/share/doc/$pkg/copyright" ]; then
    mkdir -p "$root/usr/share/doc/$pkg"
    install -m 0644 "/usr/share/doc/$pkg/copyright" "$root/usr/share/doc/$pkg/copyright"
  fi
  if command -v dpkg-query >/dev/null && dpkg-query -s "$pkg" >/dev/null 2>&1; then
    dpkg-query -s "$pkg" >"$root/var/lib/dpkg/status.d/$pkg"
  fi
done
chmod 0644 "$root"/etc/passwd "$root"/etc/group "$root"/etc/nsswitch.conf "$root"/var/lib/dpkg/status.d/* 2>/dev/null || true

# Mount points a runtime fills, a world-writable /tmp, and the nonroot user's own directories.
mkdir -p "$root/proc" "$root/sys" "$root/dev" "$root/tmp" "$root/root" "$root/home/nonroot" "$root/var/lib/sigmirror"
chmod 1777 "$root/tmp"
chmod 0700 "$root/root" "$root/home/nonroot"
chmod 0755 "$root/var/lib/sigmirror"
find "$root" -type d ! -path "$root/tmp" ! -path "$root/root" ! -path "$root/home/nonroot" -exec chmod 0755 {} +

# One layer, built by tar so that owners are set explicitly (this works without root too):
# everything root's, then the nonroot user's directories appended with their owner.
tarflags=(--sort=name --mtime="@$epoch" --numeric-owner --format=posix
  --pax-option=exthdr.name=%d/PaxHeaders/%f,delete=atime,delete=ctime)
layer=$stage/layer.tar
(cd "$root" && tar -cf "$layer" "${tarflags[@]}" --owner=0 --group=0 \
  --exclude=./home/nonroot --exclude=./var/lib/sigmirror .)
(cd "$root" && tar -rf "$layer" "${tarflags[@]}" --owner=65532 --group=65532 \
  ./home/nonroot ./var/lib/sigmirror)

rm -rf "$out"
mkdir -p "$(dirname "$out")"
umoci init --layout "$out"
umoci new --image "$out:$version"
umoci raw add-layer --image "$out:$version" \
  --history.created "$created" --history.created_by "scripts/make-image.sh (sigmirror $version, glibc and CA certificates from Debian)" \
  "$layer"
umoci config --image "$out:$version" \
  --created "$created" --author "sigmirror" --os linux --architecture amd64 \
  --config.entrypoint /sigmirror \
  --config.user 65532:65532 \
  --config.workingdir /var/lib/sigmirror \
  --config.volume /var/lib/sigmirror \
  --config.env PATH=/usr/local/bin:/usr/bin:/bin \
  --config.env SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt \
  --config.label org.opencontainers.image.title=sigmirror \
  --config.label "org.opencontainers.image.description=Keeps cosign signatures replicated from a primary OCI registry to its mirrors" \
  --config.label "org.opencontainers.image.version=$version" \
  --config.label "org.opencontainers.image.revision=$commit" \
  --config.label "org.opencontainers.image.created=$created" \
  --config.label org.opencontainers.image.licenses=Apache-2.0 \
  --history.created "$created" --history.created_by "umoci config (entrypoint, user, volume, labels)"
umoci tag --image "$out:$version" latest
umoci gc --layout "$out"
chmod -R a+rX "$out"

echo "built $out (tags $version, latest; $(du -sh "$out" | cut -f1))"
