// Command baseline writes the cells of auditor's CSV or XLSX report from a
// record with the bare libraries only (see package bare), so that a
// benchmark can time "auditor report" against it on the same rows.
//
//	baseline -format csv -out DIR RECORD
//	baseline -format xlsx -out DIR RECORD
//
// The label columns are -labels, or else the union of the instances' label
// keys, sorted, as the product lists them (found by one more pass over the
// record). A run.json beside RECORD sets the stale cut-off as the product
// does: its started_at less seven days.
package main

import (
	"flag"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/bench/bare"
)

func main() {
	format := flag.String("format", "csv", "csv or xlsx")
	out := flag.String("out", "", "output `DIR` (must exist)")
	labels := flag.String("labels", "", "comma-separated label keys; empty means: read the record once more to find them")
	flag.Parse()
	if *out == "" || flag.NArg() != 1 || (*format != "csv" && *format != "xlsx") {
		fmt.Fprintln(os.Stderr, "usage: baseline -format csv|xlsx -out DIR [-labels k1,k2] RECORD")
		os.Exit(2)
	}
	if err := run(*format, *out, *labels, flag.Arg(0)); err != nil {
		fmt.Fprintf(os.Stderr, "baseline: %v\n", err)
		os.Exit(1)
	}
}

func run(format, out, labelList, record string) error {
	start := time.Now()
	rs, err := audit.OpenRecords(record)
	if err != nil {
		return err
	}
	defer rs.Close()
	var keys []string
	if labelList != "" {
		keys = strings.Split(labelList, ",")
	} else {
		set := map[string]bool{}
		err := rs.Each(func(r audit.Result) error {
			for k := range r.Labels {
				set[k] = true
			}
			return nil
		})
		if err != nil {
			return err
		}
		keys = slices.Sorted(maps.Keys(set))
	}
	staleBefore := time.Now().Add(-7 * 24 * time.Hour)
	if ri, err := audit.ReadRunInfo(filepath.Join(filepath.Dir(record), audit.RunFile)); err == nil && !ri.StartedAt.IsZero() {
		staleBefore = ri.StartedAt.Add(-7 * 24 * time.Hour)
	}
	switch format {
	case "csv":
		err = bare.CSV(rs, out, keys, staleBefore)
	case "xlsx":
		err = bare.XLSX(rs, filepath.Join(out, "bare.xlsx"), keys, staleBefore)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "baseline %s: %d instances in %.1fs\n", format, rs.Len(), time.Since(start).Seconds())
	return nil
}
