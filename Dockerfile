# volsim image: the release `volsim` binary plus the bundled scenarios and sweeps under /work
# (what examples/kubernetes/sweep-job.yaml runs). Multi-stage: the Rust toolchain stays in the
# build stage; the final image is Debian slim with the binary (no fonts or system libraries
# needed: plots embed their font).
#
#   docker build -t volsim:latest .
#   docker run --rm volsim:latest run scenarios/somaagenthub/scenario.toml
#
# CI does not build this image (it cannot pull base images); tests/it/examples_kubernetes.rs
# checks that the files it copies and the Kubernetes example's paths exist.

FROM rust:1.95-slim-bookworm AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src ./src
COPY benches ./benches
COPY examples ./examples
RUN cargo build --release --locked --bin volsim \
    && strip target/release/volsim

FROM debian:bookworm-slim
RUN useradd --system --uid 10001 --home-dir /work volsim
COPY --from=build /src/target/release/volsim /usr/local/bin/volsim
WORKDIR /work
COPY scenarios ./scenarios
COPY examples/sweeps ./examples/sweeps
USER 10001
ENTRYPOINT ["volsim"]
CMD ["--help"]
