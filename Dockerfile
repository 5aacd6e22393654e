# Takedown's container image, for platforms' own build systems (`docker build .`, buildah,
# kaniko). scripts/build-image builds the same image without a container daemon (CI checks
# that one). One image for every role: the Deployments pick the role by argument
# (k8s/base), e.g. `takedown ingest --config /etc/takedown/takedown.toml`.
#
# Bases are pinned by exact tag; pin them by digest in your registry mirror
# (FROM ...@sha256:...) for fully repeatable builds.

FROM docker.io/library/rust:1.95.0-bookworm AS build
# rdkafka builds librdkafka from source: a C compiler, make, zlib headers and pkg-config
# (all in the rust:bookworm image).
WORKDIR /src
COPY . .
RUN cargo build --release --locked --bin takedown \
    && objcopy --strip-debug target/release/takedown /takedown

FROM docker.io/library/debian:12.11-slim
# ffmpeg: video signals run it as a child process. ca-certificates: HTTPS list sources and
# webhooks. Nothing else: no shell tools are needed by any role.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ffmpeg ca-certificates \
    && rm -rf /var/lib/apt/lists/* \
    && groupadd --gid 65532 takedown \
    && useradd --uid 65532 --gid 65532 --no-create-home --home-dir /nonexistent \
        --shell /usr/sbin/nologin takedown
COPY --from=build /takedown /usr/local/bin/takedown
USER 65532:65532
WORKDIR /
ENTRYPOINT ["/usr/local/bin/takedown"]
CMD ["--help"]
