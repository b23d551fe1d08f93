#!/usr/bin/env bash
# Regenerates the README's results table: trains each preset for each seed into
# runs/results/<preset>-s<seed> (a finished run is kept, a killed one resumes), then prints one
# Markdown row per preset from the runs' metrics.json (validation split, the model file as the
# runtime runs it). Usage:
#   scripts/results.sh [--presets "default mfcc-64"] [--seeds "0 1 2 3 4"] [--no-train]
# Data: as `tinykws train` (--data is not passed: $TINYKWS_DATA or ../shared/data).
set -euo pipefail
cd "$(dirname "$0")/.."
presets="default mfcc-64 course-dscnn seed-a seed-b"
seeds="0"
train=1
while [ $# -gt 0 ]; do
  case "$1" in
    --presets) presets=$2; shift 2 ;;
    --seeds) seeds=$2; shift 2 ;;
    --no-train) train=0; shift ;;
    *) echo "results: unknown argument $1" >&2; exit 2 ;;
  esac
done
bin=./build/tinykws
[ -x "$bin" ] || { echo "results: build first (scripts/build.sh)" >&2; exit 2; }
if [ "$train" = 1 ]; then
  for p in $presets; do
    for s in $seeds; do
      out=runs/results/$p-s$s
      [ -f "$out/model.tkws" ] && [ -f "$out/metrics.json" ] && continue
      echo "results: training $p seed $s -> $out" >&2
      "$bin" train --config "configs/$p.toml" --out "$out" --seed "$s" --resume --quiet >&2
    done
  done
fi
/usr/bin/python3 - "$presets" "$seeds" <<'PY'
import json, os, sys
presets, seeds = sys.argv[1].split(), sys.argv[2].split()
def pct(x): return f"{100 * x:.2f}"
print("| preset | command | seeds | val. accuracy | keyword misses | false accepts: other words / unseen words / background | file |")
print("|---|---|---|---|---|---|---|")
for p in presets:
    rows = []
    for s in seeds:
        f = f"runs/results/{p}-s{s}/metrics.json"
        if os.path.exists(f):
            rows.append(json.load(open(f)))
    if not rows:
        continue
    acc = " / ".join(pct(m["val_accuracy"]) for m in rows) + " %"
    miss, fa = [], []
    for m in rows:
        k = m.get("kws", {})
        g = k.get("groups", {})
        miss.append(pct(k.get("miss_rate", 1 - m["val_accuracy"])))
        def rate(name):
            return pct(g[name]["false_accept_rate"]) if name in g else "-"
        fa.append(" / ".join(rate(n) for n in ("unknown", "held_out", "background")))
    sizes = sorted(m["model_bytes"] for m in rows)
    size = f"{sizes[0]:,} B" if sizes[0] == sizes[-1] else f"{sizes[0]:,}-{sizes[-1]:,} B"
    cmd = f"`tinykws train --config configs/{p}.toml --seed S`"
    print(f"| `{p}` | {cmd} | {' '.join(seeds)} | {acc} | {' / '.join(miss)} % | {'; '.join(fa)} % | {size} |")
PY
