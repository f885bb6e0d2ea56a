// Command genrecord writes a synthetic record (results.jsonl and run.json)
// for the rendering benchmarks: -instances managed instances with
// -per-instance associations each.
//
//	go run ./bench/genrecord -instances 200000 -per-instance 5 -out DIR
package main

import (
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/auditor-dev/auditor/bench/synth"
)

func main() {
	var cfg synth.Config
	flag.IntVar(&cfg.Instances, "instances", 200_000, "managed instances")
	flag.IntVar(&cfg.PerInstance, "per-instance", 5, "associations per managed instance (1 to 24)")
	flag.IntVar(&cfg.NotManaged, "not-managed", 0, "extra instances that are not managed")
	flag.IntVar(&cfg.Errors, "errors", 0, "extra instances that ended in error")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed: the same flags, the same bytes")
	out := flag.String("out", "", "output `DIR` (must exist)")
	flag.Parse()
	if *out == "" || flag.NArg() > 0 {
		fmt.Fprintln(os.Stderr, "usage: genrecord -out DIR [-instances N] [-per-instance K] [-not-managed N] [-errors N] [-seed S]")
		os.Exit(2)
	}
	start := time.Now()
	path, rows, err := synth.WriteDir(*out, cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "genrecord: %v\n", err)
		os.Exit(1)
	}
	st, err := os.Stat(path)
	if err != nil {
		fmt.Fprintf(os.Stderr, "genrecord: %v\n", err)
		os.Exit(1)
	}
	fmt.Fprintf(os.Stderr, "genrecord: %s: %d instances, %d association rows, %.1f MB in %.1fs\n",
		path, cfg.Instances+cfg.NotManaged+cfg.Errors, rows, float64(st.Size())/1e6, time.Since(start).Seconds())
}
