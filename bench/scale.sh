#!/usr/bin/env bash
# scale.sh: how the cost of "auditor run" grows with the fleet: 1,000,
# 10,000 and 100,000 instances against one simulator with a server limit,
# the auditor pinned just under it with --rate, every report written.
#
#   bash bench/scale.sh            (about 2.5 minutes)
#
# Knobs (environment): SIZES ("1000 10000 100000"), RATE_LIMIT (1000
# calls/s on the server), RATE (950, the auditor's --rate), CONC (32),
# LATENCY (5ms), JITTER (2ms).
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

SIZES=${SIZES:-"1000 10000 100000"}
RATE_LIMIT=${RATE_LIMIT:-1000}
RATE=${RATE:-950}
CONC=${CONC:-32}
LATENCY=${LATENCY:-5ms}
JITTER=${JITTER:-2ms}

build
if [[ -z "${BENCH_NESTED:-}" ]]; then machine; fi
AUD=$WORK/bin/auditor

largest=0
for n in $SIZES; do ((n > largest)) && largest=$n; done
log "scale: one simulator of $largest instances, server limit $RATE_LIMIT calls/s, latency $LATENCY ± $JITTER"
start_sim --fleet-size "$largest" --seed 7 --rate-limit "$RATE_LIMIT" --latency "$LATENCY" --jitter "$JITTER"

row "### How cost grows: auditor run --rate $RATE --concurrency $CONC against a server limit of $RATE_LIMIT calls/s, latency $LATENCY ± $JITTER, every report"
row ""
row "Expected fetch time is calls ÷ rate (the issue: within 10%). Reports is the rest of the wall time: reading the list, run.json, and the CSV, XLSX, HTML and JSON reports. Memory is resident memory sampled every half second: the highest reached by a tenth, half and nine tenths of the fetch, and the peak of the whole process (GNU time), reports included."
row ""
row "| Instances | Calls | Throttled | Fetch s | Calls ÷ rate s | Fetch ÷ expected | Reports s | Wall s | RSS by 10% / 50% / 90% of the fetch, MB | Peak RSS MB |"
row "|---|---|---|---|---|---|---|---|---|---|"
for n in $SIZES; do
	log "scale: $n instances"
	head -n "$n" "$WORK/ids.txt" >"$WORK/ids-$n.txt"
	rm -rf "${WORK:?}/scale-$n"
	timed "scale-$n" "$AUD" run --instances "$WORK/ids-$n.txt" --endpoint-url "$SIM_URL" --region us-east-1 \
		--out "$WORK/scale-$n" --rate "$RATE" --concurrency "$CONC" --fail-on none --quiet
	calls=$(runstat "$WORK/scale-$n" calls)
	thr=$(runstat "$WORK/scale-$n" throttled)
	secs=$(calc "$(runstat "$WORK/scale-$n" seconds)")
	want=$(calc "$calls / $RATE")
	got=$(wc -l <"$WORK/scale-$n/results.jsonl")
	if ((got != n)); then
		echo "bench: scale $n: $got results, want $n" >&2
		exit 1
	fi
	# The fetch starts a moment after the process: the samples up to a
	# share of the fetch time approximate the fetch.
	r10=$(rss_at "scale-$n" "$(calc "$secs * 0.1 + 0.5")")
	r50=$(rss_at "scale-$n" "$(calc "$secs * 0.5 + 0.5")")
	r90=$(rss_at "scale-$n" "$(calc "$secs * 0.9 + 0.5")")
	row "| $n | $calls | $thr | $secs | $want | $(calc "$secs / $want") | $(calc "$T_WALL - $secs") | $T_WALL | $r10 / $r50 / $r90 | $T_RSS_MB |"
done
row ""
stop_sim

if [[ -z "${BENCH_NESTED:-}" ]]; then cat "$RESULTS"; fi
