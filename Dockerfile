# sigmirror on distroless: build the binary first (`make build`), then
#   docker build --build-arg VERSION=$(node -p 'require("./package.json").version') -t sigmirror .
# The binary is dynamically linked against glibc (libc, libm, libpthread, libdl), so the base must
# carry glibc: distroless/static cannot run it; base-nossl has glibc, CA certificates, tzdata and a
# nonroot user (65532) and nothing else. `make image` builds the same kind of image offline.
FROM gcr.io/distroless/base-nossl-debian12

ARG VERSION=dev
LABEL org.opencontainers.image.title="sigmirror" \
      org.opencontainers.image.description="Keeps cosign signatures replicated from a primary OCI registry to its mirrors" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="Apache-2.0"

COPY --chmod=0755 dist/sigmirror /sigmirror

# Numeric, so that Kubernetes' runAsNonRoot can check it. Set before WORKDIR: BuildKit creates the
# directory with the current user as owner, so the ledger can be written there.
USER 65532:65532
WORKDIR /var/lib/sigmirror
VOLUME ["/var/lib/sigmirror"]

# A decorated Prow job ignores this and names the command itself (deploy/prow/).
ENTRYPOINT ["/sigmirror"]
