#!/usr/bin/env bash
# render.sh: "auditor report" over 1,000,000 association rows (200,000
# instances with five each, a synthetic record from bench/genrecord), one
# format at a time and all of them, against the bare libraries writing the
# same cells from the same record in the same run (bench/baseline: bare
# encoding/csv, bare excelize StreamWriter).
#
#   bash bench/render.sh           (about 3.5 minutes)
#
# Knobs (environment): INSTANCES (200000), PER_INSTANCE (5).
#
# Like with like: each side starts from the same results.jsonl, indexes it
# with audit.OpenRecords and writes into its own directory.
#   CSV:  the product writes associations.csv, instances.csv and
#         error_codes.csv; the baseline writes associations.csv and
#         instances.csv, which this script checks are byte for byte the
#         product's (error_codes.csv is a few lines from the model).
#   XLSX: the product writes report.xlsx (Summary with charts, Failures,
#         Error codes, By association, Instances, Associations, Problems,
#         styled, filtered, frozen, with links); the baseline writes the
#         cell values of the four list sheets (Failures, Instances,
#         Associations, Problems: all but a few hundred of the cells) with
#         one StreamWriter each and no style but the date format.
# The record sits in the product's output directory already (a hard link),
# so that "auditor report" does not copy it: only rendering is timed.
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

INSTANCES=${INSTANCES:-200000}
PER_INSTANCE=${PER_INSTANCE:-5}

build
if [[ -z "${BENCH_NESTED:-}" ]]; then machine; fi
AUD=$WORK/bin/auditor

mkdir -p "$WORK/record"
log "render: generating $INSTANCES instances × $PER_INSTANCE associations"
"$WORK/bin/genrecord" -instances "$INSTANCES" -per-instance "$PER_INSTANCE" -out "$WORK/record" 2>"$WORK/genrecord.err"
cat "$WORK/genrecord.err" >&2
ROWS=$((INSTANCES * PER_INSTANCE))
MB=$(($(wc -c <"$WORK/record/results.jsonl") / 1000000))

# product NAME FORMAT-ARGS...: "auditor report" of the record into its own
# directory.
product() {
	local name=$1
	shift
	rm -rf "${WORK:?}/$name"
	mkdir -p "$WORK/$name"
	ln "$WORK/record/results.jsonl" "$WORK/$name/results.jsonl"
	cp "$WORK/record/run.json" "$WORK/$name/run.json"
	log "render: $name"
	timed "$name" "$AUD" report "$WORK/$name/results.jsonl" --out "$WORK/$name" --fail-on none --quiet "$@"
}

baseline() {
	local name=$1 format=$2
	rm -rf "${WORK:?}/$name"
	mkdir -p "$WORK/$name"
	log "render: $name"
	timed "$name" "$WORK/bin/baseline" -format "$format" -labels env,owner -out "$WORK/$name" "$WORK/record/results.jsonl"
}

row "### Rendering $ROWS association rows ($INSTANCES instances, a ${MB} MB record)"
row ""
row "Each line is one process from the record on disk to the files written (GNU time: wall, user+system CPU, peak resident memory). The ratio is the product's wall time over the bare library's, both measured in this run."
row ""
row "| Format | What is written | Wall s | CPU s | Peak RSS MB | Bare library wall s | Bare CPU s | Bare peak RSS MB | Product ÷ bare |"
row "|---|---|---|---|---|---|---|---|---|"

baseline bare-csv csv
b_wall=$T_WALL b_cpu=$T_CPU b_rss=$T_RSS_MB
product report-csv --format csv
for f in associations.csv instances.csv; do
	if ! cmp -s "$WORK/bare-csv/$f" "$WORK/report-csv/$f"; then
		echo "bench: the baseline's $f differs from the product's: the comparison would not be like with like" >&2
		exit 1
	fi
done
row "| CSV | associations.csv, instances.csv (byte-identical on both sides), error_codes.csv | $T_WALL | $T_CPU | $T_RSS_MB | $b_wall | $b_cpu | $b_rss | $(calc "$T_WALL / $b_wall") |"

baseline bare-xlsx xlsx
b_wall=$T_WALL b_cpu=$T_CPU b_rss=$T_RSS_MB
product report-xlsx --format xlsx
row "| XLSX | report.xlsx, 7 sheets (bare: the cells of the 4 list sheets) | $T_WALL | $T_CPU | $T_RSS_MB | $b_wall | $b_cpu | $b_rss | $(calc "$T_WALL / $b_wall") |"

product report-html --format html
row "| HTML | report.html (capped lists) | $T_WALL | $T_CPU | $T_RSS_MB | | | | |"
product report-json --format json
row "| JSON | summary.json | $T_WALL | $T_CPU | $T_RSS_MB | | | | |"
product report-all
row "| All (the default) | every file above, one process | $T_WALL | $T_CPU | $T_RSS_MB | | | | |"
row ""
row "Resident memory of the all-formats process, sampled every half second (seconds MB): $(awk 'NR % 10 == 1 {printf "%s %s; ", $1, $2}' "$WORK/report-all.rss")"
row ""

if [[ -z "${BENCH_NESTED:-}" ]]; then cat "$RESULTS"; fi
