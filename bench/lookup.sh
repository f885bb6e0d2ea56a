#!/usr/bin/env bash
# lookup.sh: two cases of the adaptive limiter where the service answers
# some calls with an error of its own, over real HTTP against one bucket
# (auditor simulate --rate-limit 200 --burst 200, latency 25 ± 10 ms):
#
#   shards: two shards of one list of 12,000 instances (--shard K/2, --out
#     RUN/shard-K side by side) with --with-instance-info, whose lookup
#     halves every batch of 50 that holds an unmanaged node (about 3% of
#     the fleet), so that about half its calls are refused;
#   gone: one process, a list of 6,000 instances and 3,000 the service
#     does not know (InvalidInstanceId), shuffled together.
#
# Each run's baseline is the time its own calls take at the limit:
# (calls − burst) ÷ R. The ratio is that over the whole run (from the
# first start to the last end, as the processes saw it, startup
# included); 1.00 is the limit.
#
#   bash bench/lookup.sh             (about 7 minutes)
#
# Knobs (environment): RUNS=3 (runs of each case), AUDITOR (a binary to
# measure instead of this tree's, such as an earlier build's).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RUNS=${RUNS:-3}
RATE=200
need python3 "to shuffle the list of the gone case and read run.json"

build
AUD=${AUDITOR:-$WORK/bin/auditor}

now() { date +%s.%N; }

# stat FILE FIELD: a number from run.json's stats.
stat() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["stats"][sys.argv[2]])' "$1" "$2"; }

machine
row "### Service errors and the limiter (\`bash bench/lookup.sh\`): R = $RATE, burst $RATE, latency 25 ms ± 10 ms, C = 16"
row ""
if [[ -n "${AUDITOR:-}" ]]; then
	row "Build: the binary AUDITOR names"
else
	row "Build: this tree, at $(git -C "$REPO" rev-parse --short HEAD 2>/dev/null || echo unknown)"
fi
row ""
row "| Case | Run | Calls | Throttled | Whole run | (calls − burst) ÷ R | Ratio | Ends |"
row "|---|---|---|---|---|---|---|---|"

for i in $(seq 1 "$RUNS"); do
	# Two shards with --with-instance-info.
	start_sim --fleet-size 12000 --seed 3 --rate-limit $RATE --burst $RATE --latency 25ms --jitter 10ms
	run=$WORK/shards-$i
	rm -rf "$run"
	mkdir -p "$run"
	t0=$(now)
	pids=()
	for k in 0 1; do
		(
			AWS_ENDPOINT_URL_STS=$SIM_URL "$AUD" run --instances "$WORK/ids.txt" --shard "$k/2" --with-instance-info \
				--endpoint-url "$SIM_URL" --region us-east-1 --out "$run/shard-$k" --quiet --fail-on none >"$run/out-$k.log" 2>&1
			now >"$run/end-$k"
		) &
		pids+=($!)
	done
	for p in "${pids[@]}"; do wait "$p"; done
	stop_sim
	calls=0 thr=0 ends=""
	for k in 0 1; do
		calls=$((calls + $(stat "$run/shard-$k/run.json" calls)))
		thr=$((thr + $(stat "$run/shard-$k/run.json" throttled)))
		ends="$ends $(calc "$(cat "$run/end-$k") - $t0") s"
	done
	whole=$(calc "$(sort -n "$run"/end-* | tail -n 1) - $t0")
	ideal=$(calc "($calls - $RATE) / $RATE")
	row "| shards, --with-instance-info | $i | $calls | $(calc "100 * $thr / $calls")% | $whole s | $ideal s | $(calc "$ideal / $whole") |$ends |"
	log "shards $i: $whole s (ideal $ideal s)"

	# One process, a third of its list gone.
	start_sim --fleet-size 6000 --seed 3 --rate-limit $RATE --burst $RATE --latency 25ms --jitter 10ms
	run=$WORK/gone-$i
	rm -rf "$run"
	mkdir -p "$run"
	python3 - "$WORK/ids.txt" "$run/ids.txt" <<'PY'
import random, sys
ids = open(sys.argv[1]).read().split()
ids += ["i-0dead%012d" % n for n in range(len(ids) // 2)]
random.Random(1).shuffle(ids)
open(sys.argv[2], "w").write("\n".join(ids) + "\n")
PY
	t0=$(now)
	AWS_ENDPOINT_URL_STS=$SIM_URL "$AUD" run --instances "$run/ids.txt" --endpoint-url "$SIM_URL" --region us-east-1 \
		--out "$run/out" --quiet --fail-on none >"$run/out.log" 2>&1
	whole=$(calc "$(now) - $t0")
	stop_sim
	calls=$(stat "$run/out/run.json" calls)
	thr=$(stat "$run/out/run.json" throttled)
	ideal=$(calc "($calls - $RATE) / $RATE")
	row "| one process, 3,000 of 9,000 gone | $i | $calls | $(calc "100 * $thr / $calls")% | $whole s | $ideal s | $(calc "$ideal / $whole") | |"
	log "gone $i: $whole s (ideal $ideal s)"
done
row ""
cat "$RESULTS"
