#!/usr/bin/env bash
# Re-renders docs/optics/*.png from the calibrated model (README, "Light transport"):
# macro views of the default plan's dots (3 mm of skin, 3-point 0603 needle) at needle reaches
# 0.25 / 0.5 / 1.0 mm, and the front-left view at 1 m before and after at the plan's 0.35 mm,
# on Fitzpatrick II, IV and VI. Usage: scripts/optics-docs.sh [STIPPLE_BINARY]
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/stipple}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
scene() { # skin reach views outputs size
  sed -e "s/^skin = .*/skin = \"fitzpatrick-$1\"/" \
      -e "s/^depth_mm = .*/depth_mm = $2/" \
      -e "s/^views = .*/views = $3\nmacro_width_mm = 3.0/" \
      -e "s/^outputs = .*/outputs = $4/" \
      -e "s/^width = .*/width = 360/" -e "s/^height = .*/height = 360/" \
      -e "s/^shade = .*/shade = 0.7\nneedle = \"0603\"/" \
      assets/scenes/default.toml
}
for f in II IV VI; do
  for z in 0.25 0.5 1.0; do
    scene "$f" "$z" '["macro"]' '["after"]' > "$work/s.toml"
    rm -rf "$work/out" && "$bin" render "$work/s.toml" --out "$work/out" >/dev/null
    cp "$work/out/macro-after.png" "docs/optics/macro-$f-$z.png"
  done
  scene "$f" 0.35 '["front-left"]' '["before", "after"]' > "$work/s.toml"
  rm -rf "$work/out" && "$bin" render "$work/s.toml" --out "$work/out" >/dev/null
  cp "$work/out/front-left-before.png" "docs/optics/far-$f-before.png"
  cp "$work/out/front-left-after.png" "docs/optics/far-$f-after.png"
done
