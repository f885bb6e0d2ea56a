#!/usr/bin/env bash
# run.sh: every end-to-end benchmark in one run, so that each figure and
# its baseline are measured side by side: fetch.sh (about 2.5 minutes),
# scale.sh (about 2.5) and render.sh (about 3.5), about 8 minutes in all.
# The results are Markdown, printed at the end and kept in $RESULTS when it
# is set.
#
#   bash bench/run.sh
#   RESULTS=bench-results.md bash bench/run.sh
#
# It needs go, awk and GNU time (/usr/bin/time); the AWS CLI (aws) for the
# CLI loop, which is skipped without it. Temporary files go under a mktemp
# directory, removed at the end (KEEP_WORK=1 keeps it); servers it starts
# are stopped on exit.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

export WORK RESULTS BENCH_NESTED=1
build
: >"$RESULTS"
machine
start=$(date +%s)
for s in fetch scale render; do
	bash "$BENCH_DIR/$s.sh"
done
row "Whole run: $(($(date +%s) - start)) s; load average after: $(cut -d' ' -f1-3 /proc/loadavg 2>/dev/null || echo unknown)"
cat "$RESULTS"
