#!/usr/bin/env bash
# Submits a search as a Slurm job array of SHARDS shards (search.sbatch) and a merge job that
# runs when every shard has ended (afterany: it merges what finished even if a shard failed;
# rerun a failed shard, then the merge, to complete it). Prints "ARRAY_JOB_ID MERGE_JOB_ID".
# Usage: [SHARDS=8] [SPACE=...] [OUT=runs/search] [TINYKWS=./build/tinykws] \
#          TINYKWS_DATA=DIR scripts/slurm/submit.sh [extra sbatch options for both jobs]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
export SHARDS=${SHARDS:-8}
: "${TINYKWS_DATA:?set TINYKWS_DATA to the dataset folder}"
array=$(sbatch --parsable "$@" --array="0-$((SHARDS - 1))" "$here/search.sbatch")
array=${array%%;*}
merge=$(sbatch --parsable "$@" --job-name=kws-merge --dependency="afterany:$array" \
  --wrap "\"${TINYKWS:-./build/tinykws}\" search merge --out \"${OUT:-runs/search}\"")
echo "${array} ${merge%%;*}"
