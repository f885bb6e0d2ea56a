# Shared by the bench/*.sh scripts; sourced, not run.
#
# It makes a work directory under mktemp (removed on exit unless
# KEEP_WORK=1), builds the binaries into it, starts and stops the simulated
# endpoint, times commands under GNU time, and appends Markdown rows to
# $RESULTS (default: WORK/results.md, printed at the end).

set -euo pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO=$(cd "$BENCH_DIR/.." && pwd)

# Every call goes to the simulator on loopback with dummy credentials;
# nothing from this machine's AWS configuration takes part.
export AWS_ACCESS_KEY_ID=AKIABENCHBENCHBENCH0 AWS_SECRET_ACCESS_KEY=bench
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null
export AWS_PAGER="" AWS_EC2_METADATA_DISABLED=true
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ENDPOINT_URL AWS_ENDPOINT_URL_SSM AWS_REGION AWS_DEFAULT_REGION AWS_CA_BUNDLE

# need TOOL WHY: stop with a clear message when TOOL is missing.
need() {
	if ! command -v "$1" >/dev/null 2>&1; then
		echo "bench: needs $1 ($2)" >&2
		exit 2
	fi
}

if [[ ! -r /proc/self/status ]]; then
	echo "bench: needs Linux (/proc) to sample memory and CPU" >&2
	exit 2
fi
need go "to build auditor and the baselines"
need awk "to compute the figures"
need pgrep "to find the process GNU time runs (procps)"
need cmp "to check that the CSV baseline writes the product's bytes (diffutils)"
if ! /usr/bin/time -f %M true >/dev/null 2>&1; then
	echo "bench: needs GNU time at /usr/bin/time for peak memory (Debian/Ubuntu: apt-get install -y time)" >&2
	exit 2
fi

if [[ -z "${WORK:-}" ]]; then
	WORK=$(mktemp -d "${TMPDIR:-/tmp}/auditor-bench.XXXXXX")
	OWN_WORK=1
fi
RESULTS=${RESULTS:-$WORK/results.md}
SIM_PID=""
# The GNU time process and its command, while timed runs one.
TIMED_PIDS=""

cleanup() {
	if [[ -n "$TIMED_PIDS" ]]; then kill $TIMED_PIDS 2>/dev/null || true; fi
	if [[ -n "$SIM_PID" ]]; then kill "$SIM_PID" 2>/dev/null || true; wait "$SIM_PID" 2>/dev/null || true; fi
	if [[ -n "${OWN_WORK:-}" && -z "${KEEP_WORK:-}" ]]; then rm -rf "$WORK"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

log() { echo "bench: $*" >&2; }

# build compiles auditor and the bench programs into $WORK/bin once.
build() {
	if [[ -x "$WORK/bin/auditor" ]]; then return; fi
	log "building into $WORK/bin"
	(cd "$REPO" && go build -o "$WORK/bin/" ./cmd/auditor ./bench/genrecord ./bench/baseline ./bench/sdkloop)
}

# start_sim ARGS...: starts "auditor simulate" on a free loopback port with
# ARGS, writes the fleet's IDs to $WORK/ids.txt, sets SIM_URL.
start_sim() {
	stop_sim
	: >"$WORK/sim.log"
	"$WORK/bin/auditor" simulate --listen 127.0.0.1:0 --ids "$WORK/ids.txt" "$@" 2>"$WORK/sim.log" &
	SIM_PID=$!
	for _ in $(seq 1 100); do
		SIM_URL=$(grep -o 'http://127\.0\.0\.1:[0-9]*' "$WORK/sim.log" | head -n 1 || true)
		if [[ -n "$SIM_URL" ]]; then return; fi
		if ! kill -0 "$SIM_PID" 2>/dev/null; then break; fi
		sleep 0.1
	done
	cat "$WORK/sim.log" >&2
	echo "bench: the simulator did not start" >&2
	exit 1
}

stop_sim() {
	if [[ -n "$SIM_PID" ]]; then
		kill "$SIM_PID" 2>/dev/null || true
		wait "$SIM_PID" 2>/dev/null || true
		SIM_PID=""
	fi
}

# timed NAME CMD...: runs CMD under GNU time; sets T_WALL, T_CPU (user+sys
# seconds) and T_RSS_MB (peak resident memory). CMD's stdout and stderr go
# to $WORK/NAME.out and .err, and its resident memory is sampled every half
# second into $WORK/NAME.rss ("seconds MB" lines). An exit status above 1
# (1 means findings) stops the bench.
timed() {
	local name=$1
	shift
	local rc=0 tpid cpid kb start
	: >"$WORK/$name.rss"
	start=$(date +%s.%N)
	/usr/bin/time -f '%e %U %S %M' -o "$WORK/$name.time" "$@" >"$WORK/$name.out" 2>"$WORK/$name.err" &
	tpid=$!
	TIMED_PIDS=$tpid
	cpid=""
	while kill -0 "$tpid" 2>/dev/null; do
		# The command is the only child of GNU time.
		if [[ -z "$cpid" ]]; then
			cpid=$(pgrep -P "$tpid" | head -n 1 || true)
			TIMED_PIDS="$cpid $tpid"
		fi
		if [[ -n "$cpid" ]]; then
			kb=$(awk '/^VmRSS:/{print $2}' "/proc/$cpid/status" 2>/dev/null || true)
			if [[ -n "$kb" ]]; then
				awk -v s="$start" -v n="$(date +%s.%N)" -v k="$kb" 'BEGIN{printf "%.1f %.0f\n", n-s, k/1024}' >>"$WORK/$name.rss"
			fi
		fi
		sleep 0.5
	done
	wait "$tpid" || rc=$?
	TIMED_PIDS=""
	if ((rc > 1)); then
		cat "$WORK/$name.err" >&2
		echo "bench: $name exited with $rc" >&2
		exit 1
	fi
	# GNU time puts "Command exited with non-zero status N" first.
	read -r T_WALL T_USER T_SYS T_RSS_KB < <(tail -n 1 "$WORK/$name.time")
	T_CPU=$(awk -v u="$T_USER" -v s="$T_SYS" 'BEGIN{printf "%.2f", u+s}')
	T_RSS_MB=$(awk -v k="$T_RSS_KB" 'BEGIN{printf "%.0f", k/1024}')
}

# rss_at NAME T: the largest sampled resident memory (MB) of NAME up to T
# seconds after its start.
rss_at() {
	awk -v t="$2" '$1 <= t && $2 > m {m = $2} END{print m + 0}' "$WORK/$1.rss"
}

# runstat DIR KEY: a number from the "stats" of DIR/run.json.
runstat() {
	awk -v k="\"$2\":" '$1 == k {gsub(/,/, "", $2); print $2; exit}' "$1/run.json"
}

# calc EXPR: awk arithmetic, two decimals.
calc() { awk "BEGIN{printf \"%.2f\", $1}"; }

row() { echo "$*" >>"$RESULTS"; }

machine() {
	local cpu mem
	cpu=$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo 2>/dev/null || echo unknown)
	mem=$(awk '/^MemTotal:/{printf "%.0f GiB", $2/1048576}' /proc/meminfo 2>/dev/null || echo unknown)
	row "Machine: $(nproc) CPUs ($cpu), $mem memory, $(go version | awk '{print $3, $4}'), $(uname -sr); $(date -u +%Y-%m-%dT%H:%MZ); load average before: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
	row ""
}
