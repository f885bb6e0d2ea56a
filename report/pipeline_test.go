package report_test

// The real pipeline for the report tests that compare what a report says
// with what the endpoint served: the simulated SSM endpoint (package ssmsim,
// which knows the wire protocol only), the real SDK client over real HTTP,
// audit.Run, the record, and report.Render.

import (
	"context"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// pipelineRegion is the region every target of a pipeline run is audited in.
const pipelineRegion = "us-east-1"

// runPipeline serves fleet, audits every one of its IDs with cfg (Client,
// Region and OnResult are filled in here), renders every format into a new
// directory and returns the Options it rendered with (Records open until the
// test ends).
func runPipeline(t *testing.T, fleet *ssmsim.Fleet, cfg audit.Config) report.Options {
	t.Helper()
	srv := ssmsim.NewServer(fleet, ssmsim.Options{})
	url, stop, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)

	// The client factory cmd/auditor builds (awsconn, with its retryer and
	// HTTP client), with static credentials.
	conn, err := awsconn.Load(context.Background(), awsconn.Settings{
		Credentials: credentials.NewStaticCredentialsProvider("AKIATESTTESTTESTTEST", "secret", ""),
		EndpointURL: url,
		MaxAttempts: 3,
		CallTimeout: 10 * time.Second,
		Conns:       8,
	})
	if err != nil {
		t.Fatal(err)
	}
	cfg.Client = func(_, region string) (audit.API, error) { return conn.SSM(region) }
	cfg.Region = pipelineRegion
	if cfg.Concurrency == 0 {
		cfg.Concurrency = 8
	}
	if cfg.Rate == 0 && testing.Short() {
		// Not a test of pacing: under -short, a fixed rate spares the
		// adaptive limiter's slow start, most of a small run's time.
		cfg.Rate = 5000
	}

	path := filepath.Join(t.TempDir(), audit.ResultsFile)
	w, err := audit.CreateRecord(path)
	if err != nil {
		t.Fatal(err)
	}
	cfg.OnResult = w.Write
	var targets []audit.Target
	for _, id := range fleet.IDs() {
		targets = append(targets, audit.Target{InstanceID: id})
	}
	started := time.Now().UTC()
	stats, err := audit.Run(context.Background(), cfg, slices.Values(targets))
	if err != nil {
		t.Fatalf("audit.Run: %v", err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	rs, err := audit.OpenRecords(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { rs.Close() })
	outcomes := rs.Outcomes()
	opts := report.Options{
		Dir:     t.TempDir(),
		Records: rs,
		Run: audit.RunInfo{
			Schema: audit.Schema, Version: "test", StartedAt: started, EndedAt: time.Now().UTC(),
			Complete: outcomes[audit.OutcomeError] == 0, Targets: len(targets), Outcomes: outcomes, Stats: stats,
			Options: map[string]any{"max_pages": cfg.MaxPages, "max_results": cfg.MaxResults},
		},
		StaleAfter: audit.DefaultStaleAfter,
	}
	if _, err := report.Render(context.Background(), opts); err != nil {
		t.Fatalf("rendering: %v", err)
	}
	return opts
}
