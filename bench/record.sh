#!/usr/bin/env bash
# record.sh: what a change to the fetch's path costs or gains (written for
# the record's syncing, used since for the pacing's burst), this tree
# against a baseline revision built in the same run (BASE, default
# HEAD~1), the two alternated ROUNDS times against a fresh simulator each:
# the matrix cell of issue 9 where the pool binds at a high rate (R = 1000,
# burst R, latency 25 ± 10 ms, C = 16: at most C / latency = 640 calls/s),
# with --rate R and adaptive, and the SDK's own loop (bench/sdkadaptive)
# beside them as the floor of what a client costs.
#
#   bash bench/record.sh            (about 6 minutes)
#
# Knobs (environment): BASE (a revision), ROUNDS (2), SECS (20: the fleet
# is SECS times 640 instances).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

need git "to build the baseline revision"
need tar "to unpack the baseline revision"
BASE=${BASE:-HEAD~1}
ROUNDS=${ROUNDS:-2}
SECS=${SECS:-20}
R=1000 C=16 CAP=640
N=$((SECS * CAP))

build
(cd "$REPO" && go build -o "$WORK/bin/" ./bench/sdkadaptive)
BASE_REV=$(cd "$REPO" && git rev-parse --short "$BASE")
log "building the baseline $BASE_REV"
# A copy of the tree at BASE (git archive), so that the repository itself
# is not touched.
mkdir -p "$WORK/base"
git -C "$REPO" archive "$BASE_REV" | tar -x -C "$WORK/base"
(cd "$WORK/base" && go build -o "$WORK/base-bin/" ./cmd/auditor)
machine

# one BIN MODE: a run of BIN (auditor) in MODE (fixed, adaptive or sdk)
# over a fresh simulator; sets ONE_S (fetch seconds) and ONE_CPU (CPU
# seconds). It runs in this shell, so that the exit trap stops its
# simulator if the bench is interrupted.
one() {
	local bin=$1 mode=$2 out=$WORK/out
	start_sim --fleet-size "$N" --seed 42 --rate-limit "$R" --burst "$R" --latency 25ms --jitter 10ms
	rm -rf "$out"
	case $mode in
	sdk)
		timed sdk "$WORK/bin/sdkadaptive" -endpoint-url "$SIM_URL" -concurrency "$C" -max-seconds 300 "$WORK/ids.txt"
		ONE_S=$(awk '{print $4}' "$WORK/sdk.out") ONE_CPU=$T_CPU
		;;
	*)
		local args=()
		if [[ $mode == fixed ]]; then args=(--rate "$R"); fi
		timed "$mode" "$bin" run --instances "$WORK/ids.txt" --endpoint-url "$SIM_URL" --region us-east-1 --out "$out" \
			--fail-on none --quiet --format csv --concurrency "$C" "${args[@]}"
		ONE_S=$(runstat "$out" seconds) ONE_CPU=$T_CPU
		;;
	esac
	stop_sim
}

declare -A SECS_SUM CPU_SUM
for round in $(seq 1 "$ROUNDS"); do
	for mode in fixed adaptive; do
		for b in base new; do
			bin=$WORK/bin/auditor
			if [[ $b == base ]]; then bin=$WORK/base-bin/auditor; fi
			one "$bin" "$mode"
			s=$ONE_S cpu=$ONE_CPU
			log "round $round $mode $b: ${s}s, ${cpu} CPU s"
			SECS_SUM[$mode-$b]=$(calc "${SECS_SUM[$mode-$b]:-0} + $s")
			CPU_SUM[$mode-$b]=$(calc "${CPU_SUM[$mode-$b]:-0} + $cpu")
		done
	done
	one "" sdk
	s=$ONE_S cpu=$ONE_CPU
	log "round $round sdk: ${s}s, ${cpu} CPU s"
	SECS_SUM[sdk]=$(calc "${SECS_SUM[sdk]:-0} + $s")
	CPU_SUM[sdk]=$(calc "${CPU_SUM[sdk]:-0} + $cpu")
done

row "R = $R, burst R, latency 25 ± 10 ms, C = $C, $N instances; mean of $ROUNDS rounds; baseline $BASE_REV, this tree $(cd "$REPO" && git rev-parse --short HEAD)$(cd "$REPO" && git diff --quiet HEAD -- . || echo ' (with changes)')"
row ""
row "| Run | Fetch s | Of C / latency | CPU s (whole process) | CPU ms / 1k instances | Fetch s, this tree ÷ baseline | CPU, this tree ÷ baseline |"
row "|---|---|---|---|---|---|---|"
for mode in fixed adaptive; do
	for b in base new; do
		k=$mode-$b
		s=$(calc "${SECS_SUM[$k]} / $ROUNDS")
		cpu=$(calc "${CPU_SUM[$k]} / $ROUNDS")
		label="\`auditor run\` adaptive"
		if [[ $mode == fixed ]]; then label="\`auditor run --rate $R\`"; fi
		ratio="" cratio=""
		if [[ $b == new ]]; then
			ratio=$(calc "${SECS_SUM[$k]} / ${SECS_SUM[$mode-base]}")
			cratio=$(calc "${CPU_SUM[$k]} / ${CPU_SUM[$mode-base]}")
		fi
		row "| $label, $(if [[ $b == base ]]; then echo "baseline $BASE_REV"; else echo "this tree"; fi) | $s | $(calc "$N / $s / $CAP") | $cpu | $(calc "1000 * $cpu / $N * 1000") | $ratio | $cratio |"
	done
done
s=$(calc "${SECS_SUM[sdk]} / $ROUNDS")
cpu=$(calc "${CPU_SUM[sdk]} / $ROUNDS")
row "| the SDK's loop (\`bench/sdkadaptive\`) | $s | $(calc "$N / $s / $CAP") | $cpu | $(calc "1000 * $cpu / $N * 1000") | | |"
cat "$RESULTS"
