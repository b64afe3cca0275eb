#!/bin/bash
# Submits the array (stipple-array.sbatch), then the merge, which runs once every task has
# ended (afterany: also after failures, so the merge can say which items are missing).
set -euo pipefail
cd "$(dirname "$0")"
mkdir -p logs
MANIFEST=${MANIFEST:-/usr/share/stipple/assets/batches/marketing.toml}
OUT=${OUT:-/shared/renders/marketing}
export MANIFEST OUT
array=$(sbatch --parsable stipple-array.sbatch)
sbatch --dependency="afterany:${array}" --job-name=stipple-merge \
  --output=logs/stipple-merge-%j.log \
  --wrap "stipple batch '$MANIFEST' --merge '$OUT'"
echo "array job ${array} submitted; the merge follows it"
