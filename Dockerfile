# syntax=docker/dockerfile:1
# The TaskFlow API (the axum example server) as a small, non-root production image.
#
#   docker build -t taskflow .
#   docker run --rm -p 8080:8080 -e TASKFLOW_JWT_SECRET="$(openssl rand -base64 48)" \
#       -e TASKFLOW_MONGODB_URI='mongodb+srv://...' taskflow
#
# Build arguments: SERVER (axum_server, or warp_server) and FEATURES (extra cargo features of
# the facade, comma-separated, e.g. `sentry`).
#
# The builder is Debian bookworm, like the runtime (distroless cc-debian12), so the binary
# needs no newer glibc than the runtime has.

FROM rust:1.95-bookworm AS chef
RUN cargo install cargo-chef --version 0.1.78 --locked
WORKDIR /src

# The dependency graph alone (manifests and lock file) as a recipe.
FROM chef AS planner
COPY . .
RUN cargo chef prepare --recipe-path recipe.json

FROM chef AS builder
ARG SERVER=axum_server
ARG FEATURES=""
COPY --from=planner /src/recipe.json recipe.json
# Dependencies only: this layer is reused until Cargo.toml, Cargo.lock or FEATURES change.
RUN cargo chef cook --release --locked --examples --features "$FEATURES" --recipe-path recipe.json
COPY . .
RUN cargo build --release --locked --features "$FEATURES" --example "$SERVER" --example healthcheck \
    && install -D "target/release/examples/$SERVER" /out/taskflow \
    && install -D target/release/examples/healthcheck /out/healthcheck

# glibc and libgcc, CA certificates, no shell, no package manager; user 65532 (nonroot).
FROM gcr.io/distroless/cc-debian12:nonroot
COPY --from=builder /out/taskflow /out/healthcheck /usr/local/bin/
ENV TASKFLOW_PROFILE=production \
    TASKFLOW_BIND=0.0.0.0:8080 \
    RUST_LOG=info
EXPOSE 8080
USER 65532:65532
# Liveness only: a MongoDB outage makes /health/ready fail, and restarting the container
# would not help (the store reconnects by itself).
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
    CMD ["/usr/local/bin/healthcheck"]
ENTRYPOINT ["/usr/local/bin/taskflow"]
