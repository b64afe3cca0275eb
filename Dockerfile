# Stipple in a container, for batches on a cluster (docs/batch.md, deploy/).
#
#   docker build -t stipple .                  # CPU: Mesa's software Vulkan (lavapipe); also
#                                              # AMD and Intel GPUs (Mesa's RADV/ANV) given /dev/dri
#   docker build --target gpu -t stipple:gpu . # NVIDIA GPUs, through the NVIDIA Container Toolkit
#
#   docker run --rm -v "$PWD/renders:/renders" stipple \
#     batch /usr/share/stipple/assets/batches/marketing.toml --out /renders/marketing

ARG RUST_VERSION=1.95
ARG DEBIAN=bookworm

# --- build: the release binary --------------------------------------------------------------
FROM rust:${RUST_VERSION}-slim-${DEBIAN} AS build
WORKDIR /src
COPY Cargo.toml Cargo.lock ./
COPY src src
COPY shaders shaders
COPY assets assets
COPY benches benches
RUN cargo build --release --locked --bin stipple \
 && install -m 0755 target/release/stipple /usr/local/bin/stipple

# --- runtime: Debian with Mesa's Vulkan and OpenGL drivers and the binary ---------------------
FROM debian:${DEBIAN}-slim AS runtime
# Versions come with the Debian release named above; pinning each package's exact version
# would break the build at every Debian point release.
# hadolint ignore=DL3008
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      mesa-vulkan-drivers libvulkan1 libegl1 libgl1-mesa-dri ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --home-dir /work --create-home stipple
COPY --from=build /usr/local/bin/stipple /usr/local/bin/stipple
# Example scenes and batch manifests (assets/batches/marketing.toml is 24 variants).
COPY assets /usr/share/stipple/assets
WORKDIR /work
# A numeric user, so Kubernetes' runAsNonRoot can check it.
USER 10001
ENTRYPOINT ["stipple"]
CMD ["--help"]

# --- gpu: NVIDIA ----------------------------------------------------------------------------
# The NVIDIA Container Toolkit mounts the driver's user-space libraries, Vulkan's included,
# when `graphics` is among the driver capabilities. `stipple info` lists the adapters found;
# STIPPLE_ADAPTER=nvidia makes sure the GPU, not lavapipe, renders.
FROM runtime AS gpu
ENV NVIDIA_VISIBLE_DEVICES=all \
    NVIDIA_DRIVER_CAPABILITIES=graphics,compute,utility \
    STIPPLE_BACKEND=vulkan \
    STIPPLE_ADAPTER=nvidia

# --- cpu (the default target) -----------------------------------------------------------------
FROM runtime AS cpu
