#!/bin/bash
# Registers the job definition, submits an array job of N children (one shard each) and a
# merge job that runs after the array. AWS Batch gives each child AWS_BATCH_JOB_ARRAY_INDEX
# (0 to N - 1) but not N: Stipple reads N from STIPPLE_SHARD_COUNT, set here to the same
# value as the array size.
set -euo pipefail
cd "$(dirname "$0")"
QUEUE=${QUEUE:?set QUEUE to your AWS Batch job queue}
N=${N:-8}
MANIFEST=${MANIFEST:-/usr/share/stipple/assets/batches/marketing.toml}
OUT=${OUT:-/renders/marketing}

aws batch register-job-definition --cli-input-json file://job-definition.json >/dev/null
array=$(aws batch submit-job --job-name stipple-marketing --job-queue "$QUEUE" \
  --job-definition stipple-batch --array-properties "size=$N" \
  --container-overrides "{\"command\":[\"batch\",\"$MANIFEST\",\"--out\",\"$OUT\"],\"environment\":[{\"name\":\"STIPPLE_SHARD_COUNT\",\"value\":\"$N\"}]}" \
  --query jobId --output text)
# Runs once the whole array has succeeded. If some children fail for good, run the same
# command by hand to see which items are missing.
aws batch submit-job --job-name stipple-marketing-merge --job-queue "$QUEUE" \
  --job-definition stipple-batch --depends-on "jobId=$array" \
  --container-overrides "{\"command\":[\"batch\",\"$MANIFEST\",\"--merge\",\"$OUT\"],\"environment\":[]}" \
  --query jobId --output text
echo "array job $array (size $N) submitted; the merge follows it"
