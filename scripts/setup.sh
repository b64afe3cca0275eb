#!/usr/bin/env bash
# Installs what Stipple needs on a fresh Debian/Ubuntu machine without a GPU: Mesa's software
# Vulkan driver (lavapipe). OpenGL through EGL (llvmpipe) is usually present already and is the
# fallback. The viewer (`stipple view`) needs the X client libraries winit loads at run time, and
# its test runs it on a virtual X server (Xvfb) driven by real X input events (xdotool). The
# shared consultation page (`stipple share`) is tested in headless Chromium (Debian's `chromium`).
# Idempotent: does nothing when everything is there.
set -euo pipefail

need=()
dpkg -s mesa-vulkan-drivers >/dev/null 2>&1 || need+=(mesa-vulkan-drivers)
dpkg -s libvulkan1 >/dev/null 2>&1 || need+=(libvulkan1)
dpkg -s libegl1 >/dev/null 2>&1 || need+=(libegl1)
dpkg -s libgl1-mesa-dri >/dev/null 2>&1 || need+=(libgl1-mesa-dri)
for pkg in xvfb xdotool libxkbcommon-x11-0 libx11-xcb1 libxcursor1 libxrandr2 libxi6 chromium; do
  dpkg -s "$pkg" >/dev/null 2>&1 || need+=("$pkg")
done

if [ ${#need[@]} -gt 0 ]; then
  echo "setup: installing ${need[*]}" >&2
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${need[@]}" >/dev/null
fi

command -v cargo >/dev/null || { echo "setup: cargo not found: install Rust from rustup.rs" >&2; exit 1; }
