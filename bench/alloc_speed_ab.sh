#!/usr/bin/env bash
# Seconds of `compress` with calibration data (`bench/alloc_speed.py --data`, objective fisher) for the library at git
# revision REV and for the working tree, one after the other, RUNS times each. On a shared machine single runs vary by
# 10-20% and the machine's speed drifts over minutes: alternating the two libraries keeps the comparison fair where
# timings stored at another time would not. Prints one JSON document: per library and network, the median and every run.
# Usage: bash bench/alloc_speed_ab.sh REV MODELS [RUNS]     e.g. bash bench/alloc_speed_ab.sh c19d733 resnet18 3
set -euo pipefail
rev=$1; models=$2; runs=${3:-3}
root=$(git rev-parse --show-toplevel)
head=$(git -C "$root" describe --always --dirty --exclude '*')
tmp=$(mktemp -d); trap 'rm -rf "$tmp"' EXIT
mkdir "$tmp/lib"; git -C "$root" archive "$rev" lowrank_nb | tar -x -C "$tmp/lib"
for i in $(seq "$runs"); do
  for lib in rev work; do
    path=$([ "$lib" = rev ] && echo "$tmp/lib" || echo "$root")
    PYTHONPATH="$path" python "$root/bench/alloc_speed.py" --data --objectives fisher --threads 2 --models "$models" \
      > "$tmp/$lib.$i.json" 2> "$tmp/$lib.$i.err" || { cat "$tmp/$lib.$i.err" >&2; exit 1; }
  done
done
python - "$tmp" "$rev" "$runs" "$head" <<'EOF'
import json, statistics, sys
tmp, rev, runs, head = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
docs = {lib: [json.load(open(f'{tmp}/{lib}.{i}.json')) for i in range(1, runs + 1)] for lib in ('rev', 'work')}
first = docs['work'][0]
def merged(ds):
    out = []
    for rs in zip(*(d['results'] for d in ds)):
        t = [r['total_s'] for r in rs]
        kernel = {k: statistics.median(r[k] for r in rs) for k in ('system_s', 'faults') if k in rs[0]}
        out.append(dict(rs[0], **kernel, total_s=round(statistics.median(t), 2), runs=t))
    return out
print(json.dumps(dict(torch=first['torch'], threads=first['threads'], cpu=first['cpu'], malloc=first['malloc'], thp=first.get('thp'),
                      revision=rev, working_tree=head, results={rev: merged(docs['rev']), 'working tree': merged(docs['work'])}), indent=1))
EOF
