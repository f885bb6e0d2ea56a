#!/usr/bin/env bash
# org.sh: an organisation of 200,000 managed nodes over 20 account-regions,
# each account-region limited to 40 calls/s by the simulator, 5% of nodes
# failing. It runs, side by side in one run:
#
#   - --discover --triage, every account-region in parallel (the product);
#   - --discover, every node fetched in full, in parallel;
#   - --discover --triage, one account-region at a time (20 runs in a row);
#
# and checks the first against the capacity model: the time of the largest
# account-region, whose calls are ceil(nodes / 50) pages of discovery plus
# the detail of its nodes that triage could not summarise, at 40 calls/s.
#
#   bash bench/org.sh            (about 12 minutes)
#
# Knobs (environment): ACCOUNTS (10), REGIONS (2), NODES (200000), FAILING
# (0.05), RATE_LIMIT (40 calls/s per account-region), LATENCY (25ms),
# JITTER (10ms), CONC (16), BURST (the simulator's token bucket; its default
# is one second of RATE_LIMIT), SKIP_FULL=1 and SKIP_SERIAL=1 to leave those
# out.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
need python3 "to read run.json"

ACCOUNTS=${ACCOUNTS:-10}
REGIONS=${REGIONS:-2}
NODES=${NODES:-200000}
FAILING=${FAILING:-0.05}
RATE_LIMIT=${RATE_LIMIT:-40}
LATENCY=${LATENCY:-25ms}
JITTER=${JITTER:-10ms}
CONC=${CONC:-16}

build
if [[ -z "${BENCH_NESTED:-}" ]]; then machine; fi
AUD=$WORK/bin/auditor

log "org: $ACCOUNTS accounts x $REGIONS regions, $NODES node IDs, $FAILING failing, $RATE_LIMIT calls/s per account-region"
start_sim --accounts "$ACCOUNTS" --regions "$REGIONS" --fleet-size "$NODES" --failing "$FAILING" --seed 11 \
	--rate-limit "$RATE_LIMIT" --latency "$LATENCY" --jitter "$JITTER" ${BURST:+--burst "$BURST"}
export AWS_ENDPOINT_URL=$SIM_URL
regions=$(grep -o -- '--regions [^ ]*' "$WORK/sim.log" | head -n 1 | cut -d' ' -f2)
role=$(grep -o -- '--role-name [^ ]*' "$WORK/sim.log" | head -n 1 | cut -d' ' -f2)
first=${regions%%,*}

# summary DIR: "nodes calls throttled seconds predicted largest_site_calls
# overview" from run.json and the record.
summary() {
	python3 - "$1" "$RATE_LIMIT" <<'PY'
import json, math, sys
d, rate = sys.argv[1], float(sys.argv[2])
ri = json.load(open(d + "/run.json"))
detail = {}
nodes = overview = 0
for line in open(d + "/results.jsonl"):
    r = json.loads(line)
    nodes += 1
    k = (r.get("account_id", ""), r["region"])
    if r.get("detail") == "overview":
        overview += 1
    else:
        detail[k] = detail.get(k, 0) + 1
worst = 0
for s in ri.get("sites", []):
    k = (s.get("account_id", ""), s["region"])
    calls = math.ceil(s.get("discovered", 0) / 50) + detail.get(k, 0)
    worst = max(worst, calls)
st = ri["stats"]
print(nodes, st["calls"], st["throttled"], "%.1f" % st["seconds"], "%.1f" % (worst / rate), worst, overview)
PY
}

run_org() { # NAME ARGS...
	local name=$1
	shift
	rm -rf "${WORK:?}/$name"
	timed "$name" "$AUD" run --accounts org --role-name "$role" --region "$first" --discover \
		--concurrency "$CONC" --out "$WORK/$name" --fail-on none --quiet "$@"
}

row "### An organisation: $NODES node IDs over $((ACCOUNTS * REGIONS)) account-regions, $RATE_LIMIT calls/s each, $FAILING failing, latency $LATENCY ± $JITTER"
row ""
row "The capacity model predicts the time of the largest account-region: ceil(nodes ÷ 50) discovery pages plus one detail call per node that triage could not summarise, at $RATE_LIMIT calls/s. Calls are every HTTP attempt, retries and throttled ones included; memory is the peak of the whole process (GNU time)."
row ""
row "| Run | Nodes | SSM calls | Calls per node | Throttled | Wall s | Fetch s | Model s | Fetch ÷ model | Peak RSS MB |"
row "|---|---|---|---|---|---|---|---|---|---|"

log "org: --discover --triage, account-regions in parallel"
run_org triage --regions "$regions" --triage
read -r nodes calls thr secs model worst overview < <(summary "$WORK/triage")
row "| --discover --triage, in parallel | $nodes | $calls | $(calc "$calls / $nodes") | $thr | $T_WALL | $secs | $model | $(calc "$secs / $model") | $T_RSS_MB |"
TRIAGE_WALL=$T_WALL

if [[ -z "${SKIP_FULL:-}" ]]; then
	log "org: --discover, every node in full, in parallel"
	run_org full --regions "$regions"
	read -r nodes calls thr secs model worst overview < <(summary "$WORK/full")
	row "| --discover (every node in full), in parallel | $nodes | $calls | $(calc "$calls / $nodes") | $thr | $T_WALL | $secs | — | — | $T_RSS_MB |"
fi

if [[ -z "${SKIP_SERIAL:-}" ]]; then
	log "org: --discover --triage, one account-region at a time"
	total=0 tcalls=0 tnodes=0 peak=0
	accounts=$(python3 -c 'import json,sys; print(" ".join(sorted({s["account_id"] for s in json.load(open(sys.argv[1]))["sites"] if not s.get("error")})))' "$WORK/triage/run.json")
	for a in $accounts; do
		for r in ${regions//,/ }; do
			rm -rf "${WORK:?}/one"
			timed one "$AUD" run --accounts "$a" --role-name "$role" --region "$r" --regions "$r" --discover --triage \
				--concurrency "$CONC" --out "$WORK/one" --fail-on none --quiet
			read -r n c _ _ _ _ _ < <(summary "$WORK/one")
			total=$(calc "$total + $T_WALL")
			tcalls=$((tcalls + c))
			tnodes=$((tnodes + n))
			((T_RSS_MB > peak)) && peak=$T_RSS_MB
		done
	done
	row "| --discover --triage, one account-region at a time | $tnodes | $tcalls | $(calc "$tcalls / $tnodes") | | $total | | | | $peak |"
	row ""
	row "In parallel the organisation took $(calc "$total / $TRIAGE_WALL") times less than one account-region at a time."
fi
row ""
stop_sim

if [[ -z "${BENCH_NESTED:-}" ]]; then cat "$RESULTS"; fi
