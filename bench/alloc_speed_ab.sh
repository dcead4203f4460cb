#!/usr/bin/env bash
# Seconds of `compress` with calibration data (`bench/alloc_speed.py --data`, objective fisher) for the library at git
# revision REV and for the working tree, one after the other, RUNS times each. On a shared machine single runs vary by
# 10-20% and the machine's speed drifts over minutes: alternating the two libraries keeps the comparison fair where
# timings stored at another time would not. Prints one JSON document: per library and network, the median and every run.
# Usage: bash bench/alloc_speed_ab.sh REV MODELS [RUNS [ARGS...]]     e.g. bash bench/alloc_speed_ab.sh c19d733 resnet18 3
# ARGS go to bench/alloc_speed.py as they are (e.g. --samples 512).
set -euo pipefail
rev=$1; models=$2; runs=${3:-3}; extra=("${@:4}")
root=$(git rev-parse --show-toplevel)
head=$(git -C "$root" describe --always --dirty --exclude '*')
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/lib"; git -C "$root" archive "$rev" lowrank_nb | tar -x -C "$tmp/lib"
for i in $(seq "$runs"); do
  for lib in rev work; do
    path=$([ "$lib" = rev ] && echo "$tmp/lib" || echo "$root")
    PYTHONPATH="$path" python "$root/bench/alloc_speed.py" --data --objectives fisher --threads 2 --models "$models" \
      ${extra[@]+"${extra[@]}"} > "$tmp/$lib.$i.json" 2> "$tmp/$lib.$i.err" || { cat "$tmp/$lib.$i.err" >&2; exit 1; }
  done
done
python - "$tmp" "$rev" "$runs" "$head" "$root/bench" <<'EOF'
import json, sys
tmp, rev, runs, head = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
sys.path.insert(0, sys.argv[5])
from alloc_speed import merged_runs
docs = {lib: [json.load(open(f'{tmp}/{lib}.{i}.json')) for i in range(1, runs + 1)] for lib in ('rev', 'work')}
first = docs['work'][0]
def merged(ds): return [merged_runs(list(rs)) for rs in zip(*(d['results'] for d in ds))]
print(json.dumps(dict(torch=first['torch'], threads=first['threads'], cpu=first['cpu'], malloc=first['malloc'], thp=first.get('thp'),
                      revision=rev, working_tree=head, results={rev: merged(docs['rev']), 'working tree': merged(docs['work'])}), indent=1))
EOF
