#!/usr/bin/env bash
# limiter.sh: the adaptive limiter (auditor run without --rate) against the
# matrix of issue 9 over real HTTP, side by side in the same run with
# "auditor run --rate R", the SDK's adaptive retry mode (bench/sdkadaptive)
# and boto3's adaptive and standard retry modes (bench/boto3/fleet.py).
# Every tool of a cell gets a simulator of its own, with the same bucket,
# fleet and latency, and they run at the same time; at R = 1000 and at the
# cells of more than 400 calls a second they run one after another, as the
# two cores would otherwise be the bound.
#
#   bash bench/limiter.sh            (about 70 minutes)
#
# Knobs (environment): RATES="10 50" (the server limits of the matrix to
# run; default all four: 10 50 200 1000), EXTRAS=0
# (skip the drop, background and shared-bucket cases), SCALE=1 (multiplies
# every duration), PYTHON (a python3 that imports boto3; otherwise the
# first such of python3 and /usr/bin/python3, and without one the boto3
# columns are skipped with a note).
#
# Durations, so that the first burst does not dominate: 300 s at R = 10,
# 60 s at R = 50 and 200, 45 s at R = 1000 where the server limit binds,
# 20 s where latency does; the fleet is that many seconds of
# min(R, C / latency), and every tool stops starting instances after 1.2
# times as long (its rate is over what it did).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATES=${RATES:-10 50 200 1000}
EXTRAS=${EXTRAS:-1}
SCALE=${SCALE:-1}

build
(cd "$REPO" && go build -o "$WORK/bin/" ./bench/sdkadaptive)
AUD=$WORK/bin/auditor

PY=""
for p in ${PYTHON:-} python3 /usr/bin/python3; do
	if command -v "$p" >/dev/null 2>&1 && "$p" -c 'import boto3' 2>/dev/null; then
		PY=$(command -v "$p")
		break
	fi
done
if [[ -z "$PY" ]]; then
	log "no python3 that can import boto3 (Debian: apt-get install -y python3-boto3): the boto3 columns are skipped"
	BOTO_NOTE="boto3 columns skipped: no python3 that can import boto3 on this machine"
else
	BOTO_NOTE="boto3 $("$PY" -c 'import boto3; print(boto3.__version__)') on $("$PY" --version 2>&1)"
fi

# --- simulators -----------------------------------------------------------

declare -A SIMPID
# sim NAME ARGS...: starts "auditor simulate" on a free port with the
# counters logged every half second to $WORK/NAME.sim; sets URL.
sim() {
	local name=$1
	shift
	: >"$WORK/$name.sim"
	"$AUD" simulate --listen 127.0.0.1:0 --ids "$WORK/$name.ids" --log-stats 500ms "$@" 2>"$WORK/$name.sim" &
	SIMPID[$name]=$!
	echo "$!" >"$WORK/$name.pid"
	for _ in $(seq 1 100); do
		URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/$name.sim" | head -n 1 || true)
		if [[ -n "$URL" ]]; then return; fi
		sleep 0.1
	done
	cat "$WORK/$name.sim" >&2
	echo "bench: the simulator $name did not start" >&2
	exit 1
}

# unsim NAME: stops the simulator; sets S_REQ, S_THR and S_THROUGH (answers
# that were not throttled nor failed) from its last counters.
unsim() {
	local name=$1 line
	kill "${SIMPID[$name]}" 2>/dev/null || true
	wait "${SIMPID[$name]}" 2>/dev/null || true
	unset "SIMPID[$name]"
	line=$(grep '^stats ' "$WORK/$name.sim" | tail -n 1)
	S_REQ=$(stat_of "$line" requests)
	S_THR=$(stat_of "$line" throttled)
	S_THROUGH=$((S_REQ - S_THR - $(stat_of "$line" errors) - $(stat_of "$line" dropped)))
}

stat_of() { sed -E "s/.* $2=([0-9.]+).*/\1/" <<<"$1"; }

# stop_sims stops every simulator this script started, by the PIDs they
# recorded.
stop_sims() {
	local f
	for f in "$WORK"/*.pid; do
		if [[ -f "$f" ]]; then kill "$(cat "$f")" 2>/dev/null || true; fi
	done
}
trap 'stop_sims; cleanup' EXIT

# --- tools ----------------------------------------------------------------

TOOLS=(auditor fixed sdk)
if [[ -n "$PY" ]]; then TOOLS+=(boto-adaptive boto-standard); fi

# tool TOOL NAME URL C R BUDGET: runs one tool over $WORK/NAME.ids for at
# most BUDGET seconds (the auditor is interrupted with SIGINT, after which
# it lets calls in flight finish and records what it did; the peers start
# no instance after it); its seconds (the fetch, start to end) go to
# $WORK/NAME.secs.
tool() {
	local t=$1 name=$2 url=$3 c=$4 r=$5 budget=$6 out
	out=$WORK/$name
	case $t in
	auditor | fixed)
		local args=(--concurrency "$c")
		if [[ $t == fixed ]]; then args+=(--rate "$r"); fi
		rm -rf "$out.dir"
		timeout --signal=INT --kill-after=60 "$budget" "$AUD" run --instances "$out.ids" --endpoint-url "$url" --region us-east-1 --out "$out.dir" \
			--fail-on none --quiet --format csv --grace 10s "${args[@]}" >"$out.out" 2>"$out.err" || true
		runstat "$out.dir" seconds >"$out.secs"
		runstat "$out.dir" limiter_peak >"$out.peak" || true
		;;
	sdk)
		"$WORK/bin/sdkadaptive" -endpoint-url "$url" -concurrency "$c" -max-seconds "$budget" "$out.ids" >"$out.out" 2>"$out.err"
		awk '{print $4}' "$out.out" >"$out.secs"
		;;
	boto-adaptive | boto-standard)
		"$PY" "$BENCH_DIR/boto3/fleet.py" --endpoint-url "$url" --mode "${t#boto-}" --concurrency "$c" --max-seconds "$budget" "$out.ids" >"$out.out" 2>"$out.err"
		awk '{print $4}' "$out.out" >"$out.secs"
		;;
	esac
}

# --- the matrix -----------------------------------------------------------

# fleet SECONDS CAP: instances for SECONDS at CAP calls a second.
fleet() { awk -v s="$1" -v c="$2" -v k="$SCALE" 'BEGIN{printf "%d", s * c * k + 0.5}'; }

# cell R BURST LAT_MS JIT_MS C: one cell, every tool; writes its row to
# $WORK/c-R-BURST-LAT-C.row.
cell() {
	local r=$1 b=$2 lat=$3 jit=$4 c=$5
	local cap secs n parallel t name
	cap=$(awk -v r="$r" -v c="$c" -v l="$lat" 'BEGIN{x = c / (l / 1000); print (x < r ? x : r)}')
	if ((r == 10)); then secs=300; elif ((r < 1000)); then secs=60; elif awk -v c="$cap" -v r="$r" 'BEGIN{exit !(c >= r)}'; then secs=45; else secs=20; fi
	n=$(fleet "$secs" "$cap")
	budget=$(awk -v s="$secs" -v k="$SCALE" 'BEGIN{printf "%d", 1.2 * s * k + 1}')
	parallel=1
	if awk -v c="$cap" 'BEGIN{exit !(c > 400)}'; then parallel=0; fi
	log "cell R=$r burst=$b latency=${lat}±${jit}ms C=$c: $n instances, $(if ((parallel)); then echo together; else echo one after another; fi)"
	local base="c-$r-$b-$lat-$c"
	run_one() {
		local t=$1 name="$base-$1"
		sim "$name" --fleet-size "$n" --seed 42 --rate-limit "$r" --burst "$b" --latency "${lat}ms" --jitter "${jit}ms"
		tool "$t" "$name" "$URL" "$c" "$r" "$budget"
	}
	if ((parallel)); then
		for t in "${TOOLS[@]}"; do run_one "$t" & done
		wait
		# The simulators were started in the subshells: stop them by port.
		for t in "${TOOLS[@]}"; do stop_by_log "$base-$t"; done
	else
		for t in "${TOOLS[@]}"; do
			name="$base-$t"
			sim "$name" --fleet-size "$n" --seed 42 --rate-limit "$r" --burst "$b" --latency "${lat}ms" --jitter "${jit}ms"
			tool "$t" "$name" "$URL" "$c" "$r" "$budget"
			unsim "$name"
			echo "$S_REQ $S_THR $S_THROUGH" >"$WORK/$name.counts"
		done
	fi
	local line="| $r | $b | ${lat} ± ${jit} | $c | $(calc "$cap") |"
	local aud_tp aud_thr miss=""
	for t in "${TOOLS[@]}"; do
		name="$base-$t"
		read -r q th thru <"$WORK/$name.counts"
		local s tp share
		s=$(cat "$WORK/$name.secs")
		tp=$(awk -v x="$thru" -v s="${s:-0}" -v c="$cap" 'BEGIN{if (s > 0) printf "%.2f", x / s / c; else print "—"}')
		share=$(awk -v t="$th" -v q="$q" 'BEGIN{printf "%.1f", 100 * t / q}')
		if [[ $t == auditor ]]; then
			local pk
			pk=$(cat "$WORK/$name.peak" 2>/dev/null || true)
			pk=$(awk -v p="${pk:-0}" -v r="$r" 'BEGIN{if (p == 0) print "—"; else printf "%.2f", p / r}')
			line+=" **$tp** | **$share%** | $pk |"
			aud_tp=$tp aud_thr=$share
			if [[ $tp == — ]] || awk -v x="$tp" 'BEGIN{exit !(x < 0.95)}'; then miss+=" throughput"; fi
			if awk -v x="$share" 'BEGIN{exit !(x > 3)}'; then miss+=" throttled"; fi
			if [[ $pk != — ]] && awk -v x="$pk" 'BEGIN{exit !(x > 2)}'; then miss+=" peak"; fi
		else
			line+=" $tp | $share% |"
			if [[ $t != fixed && $tp != — && $aud_tp != — ]]; then
				if awk -v a="$aud_tp" -v p="$tp" 'BEGIN{exit !(p > a)}'; then miss+=" $t:throughput"; fi
				if awk -v a="$aud_thr" -v p="$share" 'BEGIN{exit !(p < a)}'; then miss+=" $t:throttled"; fi
			fi
		fi
	done
	line+=" ${miss:-—} |"
	echo "$line" >"$WORK/$base.row"
}

# stop_by_log NAME: stops a simulator started in a subshell, by the PID it
# recorded, and records its counters in $WORK/NAME.counts.
stop_by_log() {
	local name=$1 pid line
	pid=$(cat "$WORK/$name.pid")
	kill "$pid" 2>/dev/null || true
	while kill -0 "$pid" 2>/dev/null; do sleep 0.1; done
	line=$(grep '^stats ' "$WORK/$name.sim" | tail -n 1)
	S_REQ=$(stat_of "$line" requests)
	S_THR=$(stat_of "$line" throttled)
	S_THROUGH=$((S_REQ - S_THR - $(stat_of "$line" errors) - $(stat_of "$line" dropped)))
	echo "$S_REQ $S_THR $S_THROUGH" >"$WORK/$name.counts"
}

header() {
	local h="| R /s | Burst | Latency ms | C | Target /s | auditor tp | auditor thr | auditor peak/R | --rate R tp | --rate R thr | SDK adaptive tp | SDK adaptive thr |"
	local s="|---|---|---|---|---|---|---|---|---|---|---|---|"
	if [[ -n "$PY" ]]; then
		h+=" boto3 adaptive tp | boto3 adaptive thr | boto3 standard tp | boto3 standard thr |"
		s+="---|---|---|---|"
	fi
	row "$h Misses |"
	row "$s---|"
}

if [[ -z "${BENCH_NESTED:-}" ]]; then machine; fi
row "### The matrix (\`bash bench/limiter.sh\`)"
row ""
row "tp is the calls answered (not throttled) per second of the tool's fetch, start to end, over the target min(R, C / latency); thr the throttled share of every call the server saw; peak/R the highest rate the auditor's limiter set once it had cut for throttling (run.json \`limiter_peak\`), over R. Bold: the auditor (adaptive, no \`--rate\`). Misses: the auditor's own targets (tp ≥ 0.95, thr ≤ 3%, peak ≤ 2R) and the peers that did better than it on tp or thr. $BOTO_NOTE."
row ""
header
# Cells at a time: the calls of all of them stay under about 600 a second.
for r in $RATES; do
	case $r in 10) at_once=4 ;; 50) at_once=2 ;; *) at_once=1 ;; esac
	cells=()
	for bf in 0.1 1 5; do
		b=$(awk -v r="$r" -v f="$bf" 'BEGIN{x = r * f; printf "%d", (x < 1 ? 1 : (x == int(x) ? x : int(x) + 1))}')
		for lj in "25 10" "150 50"; do
			for c in 16 64; do cells+=("$r $b $lj $c"); done
		done
	done
	for ((i = 0; i < ${#cells[@]}; i += at_once)); do
		for spec in "${cells[@]:i:at_once}"; do
			# shellcheck disable=SC2086
			cell $spec &
		done
		wait
	done
	for spec in "${cells[@]}"; do
		read -r _ b lat _ c <<<"$spec"
		row "$(cat "$WORK/c-$r-$b-$lat-$c.row")"
	done
done
row ""

# --- the other cases ----------------------------------------------------------

if ((EXTRAS)); then
	R=200
	# Drop: R, R/2 from 20 s, R again from 50 s; 80 s of work at the mean.
	log "drop: $R/s, $((R / 2))/s from 20 s, $R/s from 50 s"
	n=$(fleet 80 $((R * 13 / 16)))
	row "### The limit dropping mid-run: $R/s, $((R / 2))/s from 20 s to 50 s, then $R/s (burst R, latency 25 ± 10 ms, C = 16, $n instances)"
	row ""
	row "Under: seconds after the drop until the calls the server saw, over 5 s, are within 10% of $((R / 2))/s; back: seconds after the limit returned until the calls answered, over 5 s, reach 90% of $R/s (targets 10 s and 30 s). From the simulator's counters every half second."
	row ""
	row "| Tool | Under s | Back s | Throttled |"
	row "|---|---|---|---|"
	for t in "${TOOLS[@]}"; do
		(
			sim "drop-$t" --fleet-size "$n" --seed 42 --rate-limit "$R" --rate-schedule "0s:$R,20s:$((R / 2)),50s:$R" --latency 25ms --jitter 10ms
			tool "$t" "drop-$t" "$URL" 16 "$R" 100
		) &
	done
	wait
	for t in "${TOOLS[@]}"; do
		stop_by_log "drop-$t"
		read -r under back < <(awk -v r="$R" '
			/^stats / {
				for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1]] = kv[2] }
				n++; T[n] = v["t"]; Q[n] = v["requests"]; X[n] = v["requests"] - v["throttled"] - v["errors"] - v["dropped"]
			}
			END {
				under = -1; back = -1
				for (i = 1; i + 10 <= n; i++) {
					dt = T[i + 10] - T[i]; if (dt <= 0) continue
					q = (Q[i + 10] - Q[i]) / dt; x = (X[i + 10] - X[i]) / dt
					if (under < 0 && T[i] >= 20 && q <= 1.1 * r / 2) under = T[i] - 20
					if (back < 0 && T[i] >= 50 && x >= 0.9 * r) back = T[i] - 50
				}
				printf "%s %s\n", (under < 0 ? "never" : sprintf("%.1f", under)), (back < 0 ? "never" : sprintf("%.1f", back))
			}' "$WORK/drop-$t.sim")
		row "| $t | $under | $back | $(calc "100 * $S_THR / $S_REQ")% |"
	done
	row ""

	# Background: 5% of calls throttled whatever the rate.
	n=$(fleet 60 $R)
	log "background: 5% throttled whatever the rate, R = $R"
	row "### 5% of calls throttled whatever the rate: R = $R, burst R, latency 25 ± 10 ms, C = 16, $n instances (target: tp ≥ 0.90 of R)"
	row ""
	row "| Tool | tp | Throttled |"
	row "|---|---|---|"
	for t in "${TOOLS[@]}"; do
		(
			sim "bg-$t" --fleet-size "$n" --seed 42 --rate-limit "$R" --throttle-rate 0.05 --latency 25ms --jitter 10ms
			tool "$t" "bg-$t" "$URL" 16 "$R" 75
		) &
	done
	wait
	for t in "${TOOLS[@]}"; do
		stop_by_log "bg-$t"
		row "| $t | $(awk -v x="$S_THROUGH" -v s="$(cat "$WORK/bg-$t.secs")" -v r="$R" 'BEGIN{printf "%.2f", x / s / r}') | $(calc "100 * $S_THR / $S_REQ")% |"
	done
	row ""

	# Shared bucket: N auditor processes, each with 1/N of the fleet: as
	# the shards of one list whose directories are side by side (RUN/shard-K,
	# they hear each other's pace), and as processes of lists of their own
	# in directories apart (they cannot).
	row "### N auditor processes sharing one bucket: R = $R, burst R, latency 25 ± 10 ms, C = 16 each, 60 s of work together (targets: together ≥ 0.90 of R, ≤ 5% throttled, each within 25% of R / N)"
	row ""
	row "Together is the calls answered over the longest process's fetch; each process's rate its own answered calls over its own fetch. Shards: --shard K/N of one list, --out RUN/shard-K side by side; apart: a list of its own each, in a directory of its own."
	row ""
	row "| N | Processes | Together / R | Throttled | Each / (R / N) |"
	row "|---|---|---|---|---|"
	for N in 2 4 8; do
		for mode in shards apart; do
			log "shared bucket: $N auditor processes ($mode), R = $R"
			n=$(fleet 60 $R)
			sim "shared-$N-$mode" --fleet-size "$n" --seed 42 --rate-limit "$R" --latency 25ms --jitter 10ms
			pids=() dirs=()
			if [[ $mode == shards ]]; then
				for i in $(seq 0 $((N - 1))); do
					d=$WORK/shared-$N-shards/shard-$i
					mkdir -p "$d"
					dirs+=("$d")
					"$AUD" run --instances "$WORK/shared-$N-$mode.ids" --shard "$i/$N" --endpoint-url "$URL" --region us-east-1 --out "$d" \
						--fail-on none --quiet --format csv --concurrency 16 >/dev/null 2>"$d.err" &
					pids+=($!)
				done
			else
				split -n "l/$N" -d "$WORK/shared-$N-$mode.ids" "$WORK/shared-$N-$mode.part"
				i=0
				for part in "$WORK/shared-$N-$mode".part*; do
					i=$((i + 1))
					mv "$part" "$WORK/shared-$N-$mode-$i.ids"
					d=$WORK/shared-$N-$mode-$i.dir
					dirs+=("$d")
					"$AUD" run --instances "$WORK/shared-$N-$mode-$i.ids" --endpoint-url "$URL" --region us-east-1 --out "$d" \
						--fail-on none --quiet --format csv --concurrency 16 >/dev/null 2>"$d.err" &
					pids+=($!)
				done
			fi
			wait "${pids[@]}"
			unsim "shared-$N-$mode"
			longest=0 each=""
			for d in "${dirs[@]}"; do
				s=$(runstat "$d" seconds)
				longest=$(awk -v a="$longest" -v b="$s" 'BEGIN{print (b > a ? b : a)}')
				each+="$(awk -v c="$(runstat "$d" calls)" -v t="$(runstat "$d" throttled)" -v s="$s" -v f="$(calc "$R / $N")" 'BEGIN{printf "%.2f", (c - t) / s / f}') "
			done
			row "| $N | $mode | $(awk -v x="$S_THROUGH" -v s="$longest" -v r="$R" 'BEGIN{printf "%.2f", x / s / r}') | $(calc "100 * $S_THR / $S_REQ")% | ${each% } |"
		done
	done
	row ""
fi
row "Load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
row ""

if [[ -z "${BENCH_NESTED:-}" ]]; then cat "$RESULTS"; fi
