#!/usr/bin/env bash
# Re-renders the README's demo picture (docs/demo.png) and the example scenes' pictures
# (docs/planning/NAME.png: per view a row, before | after, 400 px). docs/optics and docs/pigment
# have their own scripts (optics-docs.sh, pigment-docs.sh).
# Usage: scripts/readme-docs.sh [STIPPLE_BINARY]   (tiles with examples/tile_png.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/stipple}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The demo: the built-in scene on the shipped scan with its own skin and the 7 cm hairline that
# `Scene::demo` uses (src/scene/mod.rs), front-left, before and after side by side.
sed -E -e 's/^# builtin = "lee-perry-smith"/builtin = "lee-perry-smith"/' -e '/^skin = /d' \
    -e 's/^height_cm = .*/height_cm = 7.0/' -e 's/^(width|height) = .*/\1 = 640/' \
    -e 's/^views = .*/views = ["front-left"]/' -e 's/^outputs = .*/outputs = ["before-after"]/' \
    assets/scenes/default.toml > "$work/scene.toml"
"$bin" render "$work/scene.toml" --out "$work/demo" >/dev/null
cp "$work/demo/front-left-before-after.png" docs/demo.png

# The example scenes: which views show each one's plan.
declare -A views=(
  [norwood3-soft-hairline]="front-left top"
  [norwood6-full-head]="front-left top back"
  [ludwig2-density]="front-left top"
  [fut-scar]="back left"
  [alopecia-areata]="front-left back top"
)
for name in "${!views[@]}"; do
  list=$(printf '"%s", ' ${views[$name]})
  sed -E -e 's/^(width|height) = .*/\1 = 400/' -e "s/^views = .*/views = [${list%, }]/" \
      -e 's/^outputs = .*/outputs = ["before", "after"]/' "assets/scenes/$name.toml" > "$work/$name.toml"
  "$bin" render "$work/$name.toml" --out "$work/$name" >/dev/null
  rows=()
  for v in ${views[$name]}; do rows+=(--row "$work/$name/$v-before.png" "$work/$name/$v-after.png"); done
  cargo run --release --quiet --example tile_png -- "docs/planning/$name.png" "${rows[@]}"
done

# The viewer (docs/viewer): screenshots of a window, so this needs a display; on a headless
# Linux machine run the script under Xvfb (`xvfb-run -s "-screen 0 1600x1000x24"
# scripts/readme-docs.sh`). Skipped without one.
if [[ -n "${DISPLAY:-}" ]]; then
  # The demo's scene (above): its whole top treated, so the split shows a difference.
  "$bin" view "$work/scene.toml" --size 960x600 --exec \
    "key 6; screenshot docs/viewer/split-studio.png; key d; screenshot docs/viewer/design.png; quit" \
    >/dev/null
else
  echo "no display: docs/viewer not re-taken" >&2
fi
