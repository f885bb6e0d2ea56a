package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/internal/outdir"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// Demo credentials: the simulator checks that requests are signed, not by
// whom.
const (
	demoKeyID  = "AKIADEMODEMODEMODEMO"
	demoSecret = "demo-secret-not-a-real-key"
	demoRegion = "us-east-1"
	demoIDs    = "fleet.txt"
)

// demoOutputs are the files a demo run writes, which the next demo run in
// the same directory replaces.
func demoOutputs() []string {
	return []string{audit.ResultsFile, audit.RunFile, demoIDs, report.AssociationsCSV, report.InstancesCSV,
		report.ErrorCodesCSV, report.XLSXFile, report.HTMLFile, report.SummaryFile}
}

// demoCmd serves a generated fleet on loopback and audits it through the
// real SDK exactly as run does, writing every report. It writes only into a
// directory of its own (marked with outdir.DemoMarker), so that it can never
// replace a real audit's record.
func demoCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	c := newCommand("demo", stdout)
	o, size, seed := c.o, c.fleetSize, c.seed
	pos, err := c.parse(args, false, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo: unexpected argument %q", pos[0])
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

	var ids bytes.Buffer
	if err := fleet.WriteIDs(&ids); err != nil {
		return err
	}
	o.instances.vals = []string{"-"}
	o.endpointURL = url
	o.region = demoRegion
	o.credentials = credentials.NewStaticCredentialsProvider(demoKeyID, demoSecret, "")
	o.demo = true
	o.openDir = func(dir string) (*outdir.Dir, error) {
		d, err := outdir.OpenDemo(dir, demoOutputs()...)
		if errors.Is(err, outdir.ErrNotDemo) {
			return nil, fmt.Errorf("%w; the demo writes only into a directory of its own", err)
		}
		return d, err
	}
	j, err := o.prepare(ctx, bytes.NewReader(ids.Bytes()), stderr)
	if err != nil {
		return err
	}
	defer j.close()
	if err := j.open(); err != nil {
		return err
	}
	if err := atomicfile.WriteFile(filepath.Join(o.out, demoIDs), ids.Bytes()); err != nil {
		return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
	}
	o.logf(stderr, "demo: simulated SSM endpoint at %s with %d instances (seed %d)", url, *size, *seed)

	err = j.execute(ctx, stdout, stderr)
	if errors.Is(err, errFindings) {
		// The simulated fleet has failures by design: finding them is the
		// demo working.
		err = nil
	}
	return err
}
