package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// reportCmd renders every report from one or more records without calling
// AWS; several records (shards, or runs of several accounts) are merged, one
// result per instance, the later record winning. Its exit code is run's:
// 1 for findings at the --fail-on level, 3 when a merged run was
// interrupted or holds instances in error.
func reportCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := defaultRunOptions()
	fs := newFlagSet("report", "report RECORD... --out DIR [flags]", stdout, stderr)
	o.bindOutput(fs, "")
	paths, err := parseInterspersed(fs, args)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return usagef("report: name at least one results.jsonl (see auditor report --help)")
	}
	if o.out == "" {
		return usagef("report: --out DIR is required")
	}
	set, err := o.check()
	if err != nil {
		return err
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err != nil {
			return usagef("report: %v", err)
		} else if st.IsDir() {
			return usagef("report: %s is a directory: name its %s", p, audit.ResultsFile)
		}
	}
	// Opened once: the merged record and every report are written from
	// this index, since decoding the record is most of the cost.
	rs, err := audit.OpenRecords(paths...)
	if err != nil {
		return usagef("report: %v", err)
	}
	defer rs.Close()
	unlock, err := lockOut(o.out)
	if err != nil {
		return err
	}
	defer unlock()

	info := mergeRunInfo(paths, o.now)
	info.Options = o.record()
	recordPath := filepath.Join(o.out, audit.ResultsFile)
	inPlace := sameFile(paths, recordPath)
	if !inPlace {
		if _, err := os.Stat(recordPath); err == nil {
			return usagef("report: %s already holds a record that is not among the inputs; choose another --out, or name it as an input to merge into it", o.out)
		}
	}
	if len(paths) > 1 || !inPlace {
		// The merged record goes beside the reports, so that they can be
		// rebuilt, diffed or resumed from the output alone. Where it
		// replaces one of the inputs, the index opened above still reads
		// the old file, which the rename leaves intact until closed.
		if err := writeMerged(rs, recordPath); err != nil {
			return fmt.Errorf("%w: %v", atomicfile.ErrNotWritable, err)
		}
	}
	written, outcomes, err := o.renderRecords(ctx, rs, recordPath, &info, set)
	if err != nil {
		return err
	}
	for _, p := range written {
		fmt.Fprintln(stdout, p)
	}
	o.summarize(stderr, info, outcomes)
	// The same exit codes as run, so that a merge job can gate on them.
	return verdict(info, outcomes, set.failOn)
}

// parseInterspersed parses flags that may stand before, between or after the
// positional arguments, as in "auditor report a.jsonl b.jsonl --out all".
func parseInterspersed(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := parseFlags(fs, args); err != nil {
			return nil, err
		}
		if fs.NArg() == 0 {
			return pos, nil
		}
		pos = append(pos, fs.Arg(0))
		args = fs.Args()[1:]
	}
}

// mergeRunInfo joins the run.json files beside the records: the earliest
// start, the latest end, summed stats, complete only if every run was.
func mergeRunInfo(paths []string, now func() time.Time) audit.RunInfo {
	info := audit.RunInfo{Schema: audit.Schema, Version: appVersion()}
	complete := true
	for _, p := range paths {
		ri, err := audit.ReadRunInfo(filepath.Join(filepath.Dir(p), audit.RunFile))
		if err != nil {
			continue
		}
		if info.StartedAt.IsZero() || ri.StartedAt.Before(info.StartedAt) {
			info.StartedAt = ri.StartedAt
		}
		if ri.EndedAt.After(info.EndedAt) {
			info.EndedAt = ri.EndedAt
		}
		complete = complete && ri.Complete
		info.Interrupted = info.Interrupted || ri.Interrupted
		info.Targets += ri.Targets
		info.Duplicates += ri.Duplicates
		info.Invalid += ri.Invalid
		info.Stats.Calls += ri.Stats.Calls
		info.Stats.Pages += ri.Stats.Pages
		info.Stats.Throttled += ri.Stats.Throttled
		info.Stats.Retries += ri.Stats.Retries
		info.Stats.Seconds = max(info.Stats.Seconds, ri.Stats.Seconds)
		if ri.Error != "" {
			info.Error = ri.Error
		}
	}
	if info.StartedAt.IsZero() {
		info.StartedAt = now().UTC()
		info.EndedAt = info.StartedAt
	}
	if info.Stats.Seconds > 0 {
		info.Stats.Rate = float64(info.Stats.Calls) / info.Stats.Seconds
	}
	// render sets Complete from the outcomes; an interrupted shard keeps it
	// false through Interrupted or Error.
	if !complete && !info.Interrupted && info.Error == "" {
		info.Error = "a merged run was incomplete"
	}
	return info
}

func sameFile(paths []string, target string) bool {
	tst, err := os.Stat(target)
	if err != nil {
		return false
	}
	for _, p := range paths {
		if st, err := os.Stat(p); err == nil && os.SameFile(st, tst) {
			return true
		}
	}
	return false
}

// writeMerged writes the merged, sorted record rs to dst.
func writeMerged(rs *audit.Records, dst string) error {
	return atomicfile.Write(dst, func(w io.Writer) error {
		return rs.Each(func(r audit.Result) error {
			return audit.EncodeResult(w, r)
		})
	})
}
