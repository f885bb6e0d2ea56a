#!/usr/bin/env bash
# fetch.sh: "auditor run" against "auditor simulate", with and without
# --rate, against a server-side limit and without one, and the ways
# operators audit a fleet today on the same simulator and fleet: a shell
# loop of the AWS CLI and a sequential loop of SDK calls.
#
#   bash bench/fetch.sh            (about 2.5 minutes)
#
# Knobs (environment): RATE_LIMIT (200 calls/s), FLEET (3000 instances),
# CONC (16), SDK_N (200 instances for the SDK loop), CLI_N (50 for the
# AWS CLI loop; 0 skips it), OPEN_FLEET (20000, the fleet of the runs
# without a server limit).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

RATE_LIMIT=${RATE_LIMIT:-200}
FLEET=${FLEET:-3000}
CONC=${CONC:-16}
SDK_N=${SDK_N:-200}
CLI_N=${CLI_N:-50}
OPEN_FLEET=${OPEN_FLEET:-20000}
LATENCY=25ms
JITTER=10ms

build
if [[ -z "${BENCH_NESTED:-}" ]]; then machine; fi
AUD=$WORK/bin/auditor

# sim_cpu: CPU seconds the simulator has used so far.
sim_cpu() {
	awk -v hz="$(getconf CLK_TCK)" '{print ($14 + $15) / hz}' "/proc/$SIM_PID/stat"
}

# audit NAME ARGS...: one "auditor run" over $WORK/ids.txt; sets the T_*
# figures and F_* from run.json.
audit() {
	local name=$1
	shift
	rm -rf "${WORK:?}/$name"
	timed "$name" "$AUD" run --instances "$WORK/ids.txt" --endpoint-url "$SIM_URL" --region us-east-1 \
		--out "$WORK/$name" --fail-on none --quiet "$@"
	F_CALLS=$(runstat "$WORK/$name" calls)
	F_THR=$(runstat "$WORK/$name" throttled)
	F_SECS=$(calc "$(runstat "$WORK/$name" seconds)")
	F_N=$(wc -l <"$WORK/$name/results.jsonl")
	F_ERR=$(grep -c '"outcome":"error"' "$WORK/$name/results.jsonl" || true)
	F_LOST=$((FLEET_N - F_N + F_ERR))
}

log "fetch: server limit $RATE_LIMIT calls/s, latency $LATENCY ± $JITTER, $FLEET instances"
start_sim --fleet-size "$FLEET" --seed 42 --rate-limit "$RATE_LIMIT" --latency "$LATENCY" --jitter "$JITTER"
FLEET_N=$(wc -l <"$WORK/ids.txt")

row "### Fetch against a server limit of R = $RATE_LIMIT calls/s, latency $LATENCY ± $JITTER, $FLEET_N instances, --concurrency $CONC"
row ""
row "Rate is the calls answered (not throttled) per second of the fetch, start to end (run.json stats). Instances/s is over the whole process (reading the list, fetching, writing every report)."
row ""
row "| Run | Calls | Throttled | Fetch s | Rate | % of R | Lost | Wall s | Instances/s | Peak RSS MB |"
row "|---|---|---|---|---|---|---|---|---|---|"
declare -A IPS
for mode in fixed adaptive; do
	if [[ $mode == fixed ]]; then
		audit "rate-$mode" --concurrency "$CONC" --rate "$RATE_LIMIT"
		label="auditor run --rate $RATE_LIMIT"
	else
		audit "rate-$mode" --concurrency "$CONC"
		label="auditor run (adaptive, no --rate)"
	fi
	rate=$(calc "($F_CALLS - $F_THR) / $F_SECS")
	IPS[$mode]=$(calc "$F_N / $T_WALL")
	row "| \`$label\` | $F_CALLS | $F_THR ($(calc "100 * $F_THR / $F_CALLS")%) | $F_SECS | $rate | $(calc "100 * $rate / $RATE_LIMIT")% | $F_LOST | $T_WALL | ${IPS[$mode]} | $T_RSS_MB |"
done

log "fetch: sequential SDK loop over $SDK_N instances"
timed sdkloop "$WORK/bin/sdkloop" -endpoint-url "$SIM_URL" -region us-east-1 -n "$SDK_N" "$WORK/ids.txt"
read -r _ sdk_n _ sdk_s <"$WORK/sdkloop.out"
SDK_IPS=$(calc "$sdk_n / $sdk_s")

CLI_IPS=""
if ((CLI_N > 0)) && command -v aws >/dev/null 2>&1; then
	log "fetch: AWS CLI loop over $CLI_N instances"
	head -n "$CLI_N" "$WORK/ids.txt" >"$WORK/cli-ids.txt"
	# An operator's loop goes on past an instance that is not managed.
	timed awscli bash -c 'for id in $(cat "$1"); do aws ssm describe-instance-associations-status --instance-id "$id" --endpoint-url "$2" --region us-east-1 >/dev/null 2>&1 || true; done' \
		_ "$WORK/cli-ids.txt" "$SIM_URL"
	CLI_IPS=$(calc "$CLI_N / $T_WALL")
	CLI_VERSION=$(aws --version 2>&1 | head -n 1)
else
	log "fetch: no aws on PATH (or CLI_N=0): the AWS CLI loop is skipped"
fi

row ""
row "| Way | Instances timed | Instances/s | auditor --rate $RATE_LIMIT is | auditor adaptive is |"
row "|---|---|---|---|---|"
row "| Sequential SDK loop (\`bench/sdkloop\`, default config, paginator) | $sdk_n | $SDK_IPS | $(calc "${IPS[fixed]} / $SDK_IPS")x faster | $(calc "${IPS[adaptive]} / $SDK_IPS")x faster |"
if [[ -n "$CLI_IPS" ]]; then
	row "| Shell loop of \`aws ssm describe-instance-associations-status\` ($CLI_VERSION) | $CLI_N (per-instance time extrapolated to the fleet) | $CLI_IPS | $(calc "${IPS[fixed]} / $CLI_IPS")x faster | $(calc "${IPS[adaptive]} / $CLI_IPS")x faster |"
	row ""
	row "At that pace the AWS CLI loop would take $(calc "$FLEET_N / $CLI_IPS / 60") minutes for these $FLEET_N instances (extrapolated from $CLI_N) and the SDK loop $(calc "$FLEET_N / $SDK_IPS / 60") minutes (extrapolated from $sdk_n); auditor --rate $RATE_LIMIT took $(calc "$FLEET_N / ${IPS[fixed]}") seconds, all reports included."
fi
row ""

log "fetch: no server limit, $OPEN_FLEET instances"
start_sim --fleet-size "$OPEN_FLEET" --seed 43 --latency "$LATENCY" --jitter "$JITTER"
FLEET_N=$(wc -l <"$WORK/ids.txt")
row "### Fetch without a server limit, latency $LATENCY ± $JITTER, $FLEET_N instances"
row ""
row "The ceiling is C calls per latency (C / 25 ms). CPU is the whole auditor process (fetch, record with its fsyncs, every report) and the simulator's, per thousand instances."
row ""
row "| Run | Calls/s (fetch) | % of C / latency | Fetch s | Wall s | auditor CPU ms / 1k instances | simulator CPU ms / 1k | Peak RSS MB |"
row "|---|---|---|---|---|---|---|---|"
for run in "16 adaptive" "64 adaptive" "64 10000"; do
	read -r c r <<<"$run"
	args=(--concurrency "$c")
	label="auditor run --concurrency $c"
	if [[ $r != adaptive ]]; then
		args+=(--rate "$r")
		label+=" --rate $r"
	fi
	s0=$(sim_cpu)
	audit "open-$c-$r" "${args[@]}"
	s1=$(sim_cpu)
	rate=$(calc "$F_CALLS / $F_SECS")
	row "| \`$label\` | $rate | $(calc "100 * $rate / ($c / 0.025)")% | $F_SECS | $T_WALL | $(calc "1000 * 1000 * $T_CPU / $F_N") | $(calc "1000 * 1000 * ($s1 - $s0) / $F_N") | $T_RSS_MB |"
done
row ""
stop_sim

if [[ -z "${BENCH_NESTED:-}" ]]; then cat "$RESULTS"; fi
