#!/usr/bin/env bash
# Re-renders docs/pigment/*.png from the calibrated model (README, "Skin, pigment and ageing").
# Usage: scripts/pigment-docs.sh [STIPPLE_BINARY]   (tiles with examples/tile_png.rs)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=${1:-target/release/stipple}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
# scene BASE SIZE VIEWS OUTPUTS [EXTRA TOML appended]
scene() {
  sed -E -e '/^(width|height|views|outputs|macro_width_mm) = /d' \
      -e "/^\[render\]/a width = $2\nheight = $2\nviews = $3\noutputs = $4" "assets/scenes/$1.toml"
  printf '%b\n' "${5:-}"
}
render() { # NAME then scene args
  local name=$1; shift
  scene "$@" > "$work/$name.toml"
  "$bin" render "$work/$name.toml" --out "$work/$name" >/dev/null
}
tile() { cargo run --release --quiet --example tile_png -- "$@"; }

# The default scene at 1 m, front-left, after; and 8 mm of its treated crown.
render fl default 480 '["front-left"]' '["after"]'
cp "$work/fl/front-left-after.png" docs/pigment/front-left-1m.png
render macro default 480 '["macro"]\nmacro_width_mm = 8.0' '["after"]'
cp "$work/macro/macro-after.png" docs/pigment/macro-8mm.png

# Norwood III (soft hairline, three sessions): front-left and top, before and after.
render n3 norwood3-soft-hairline 320 '["front-left", "top"]' '["before", "after"]'
tile docs/pigment/norwood3-1m-before-after.png --row "$work"/n3/front-left-{before,after}.png \
  "$work"/n3/top-{before,after}.png

# Stubble kept where the client has hair: 8 mm of Ludwig II density work (hair and dots) and
# Norwood III's hairline close-up, each at 0.5 and 2 mm of stubble.
for l in 0.5 2.0; do
  render "l2-$l" ludwig2-density 320 '["macro"]\nmacro_width_mm = 8.0' '["after"]' \
    "[client.stubble]\nlength_mm = $l"
  render "n3c-$l" norwood3-soft-hairline 320 '["hairline-closeup"]' '["after"]' \
    "[client.stubble]\nlength_mm = $l"
done
tile docs/pigment/stubble-closeups.png --row "$work"/l2-{0.5,2.0}/macro-after.png \
  "$work"/n3c-{0.5,2.0}/hairline-closeup-after.png

# Ageing: the day of the session, healed, 1, 5 and 10 years (sun exposure 0.5), at 1 m and 8 mm.
render age default 256 '["front-left", "macro"]\nmacro_width_mm = 8.0' '["after"]' \
  "[ageing]\nyears = [0, 1, 5, 10]\nsun_exposure = 0.5"
row() { local v=$1; echo "$work/age/$v-after-year00.png $work/age/$v-after.png $work/age/$v-after-year01.png $work/age/$v-after-year05.png $work/age/$v-after-year10.png"; }
# shellcheck disable=SC2046
tile docs/pigment/ageing-timeline.png --row $(row front-left) --row $(row macro)
