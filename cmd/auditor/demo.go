package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// Demo credentials: the simulator checks that requests are signed, not by
// whom.
const (
	demoKeyID  = "AKIADEMODEMODEMODEMO"
	demoSecret = "demo-secret-not-a-real-key"
	demoRegion = "us-east-1"
)

// demoCmd serves a generated fleet on loopback and audits it through the
// real SDK exactly as run does, writing every report.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o := defaultRunOptions()
	fs := newFlagSet("demo", "demo [--fleet-size N] [--seed S] [--out DIR] [flags]", stdout, stderr)
	size := fs.Int("fleet-size", 300, "instances in the simulated fleet")
	seed := fs.Int64("seed", 1, "seed of the simulated fleet: the same seed, the same fleet")
	o.bindFetch(fs)
	o.bindOutput(fs, "auditor-demo")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("demo: unexpected argument %q", fs.Arg(0))
	}
	if *size < 1 {
		return usagef("--fleet-size %d: want at least 1", *size)
	}
	// Execution dates are relative to now, so that staleness reads as in a
	// real fleet.
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: *seed, Size: *size, BaseTime: time.Now().UTC().Truncate(time.Minute)})
	srv := ssmsim.NewServer(fleet, ssmsim.Options{Seed: *seed})
	url, stop, err := srv.Start()
	if err != nil {
		return fmt.Errorf("starting the simulated SSM endpoint: %w", err)
	}
	defer stop()

	// The demo starts a new record each time: its own earlier output is
	// removed (so that no stale report is left beside the new ones), and
	// nothing else in the directory is touched.
	if err := os.MkdirAll(o.out, 0o777); err == nil {
		for _, name := range []string{audit.ResultsFile, audit.RunFile, report.AssociationsCSV, report.InstancesCSV,
			report.ErrorCodesCSV, report.XLSXFile, report.HTMLFile, report.SummaryFile} {
			if err := os.Remove(filepath.Join(o.out, name)); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("--out %s: %w", o.out, err)
			}
		}
	}
	idsPath := filepath.Join(o.out, "fleet.txt")
	if err := writeIDs(idsPath, fleet); err != nil {
		return err
	}
	o.instances.vals = []string{idsPath}
	o.endpointURL = url
	o.region = demoRegion
	o.credentials = credentials.NewStaticCredentialsProvider(demoKeyID, demoSecret, "")
	o.logf(stderr, "demo: simulated SSM endpoint at %s with %d instances (seed %d)", url, *size, *seed)

	err = o.execute(ctx, nil, stdout, stderr)
	if errors.Is(err, errFindings) {
		// The simulated fleet has failures by design: finding them is the
		// demo working.
		err = nil
	}
	if err == nil {
		names := []string{audit.ResultsFile, audit.RunFile}
		entries, _ := os.ReadDir(o.out)
		for _, e := range entries {
			if n := e.Name(); !strings.HasPrefix(n, ".") && n != "fleet.txt" && n != audit.ResultsFile && n != audit.RunFile {
				names = append(names, n)
			}
		}
		fmt.Fprintf(stderr, "demo: wrote %s in %s\n", strings.Join(names, ", "), o.out)
	}
	return err
}

func writeIDs(path string, f *ssmsim.Fleet) error {
	fh, err := os.Create(path)
	if err != nil {
		return fmt.Errorf("--out: %w", err)
	}
	if err := f.WriteIDs(fh); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}
