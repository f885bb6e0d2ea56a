package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"path/filepath"
	"strings"
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
	demoRole   = "OrganizationAccountAccessRole"
)

// activeAccounts counts the organisation's active accounts, by State, as
// --accounts org finds them.
func activeAccounts(org *ssmsim.Org) int {
	n := 0
	for _, a := range org.Accounts() {
		if a.State == ssmsim.AccountActive {
			n++
		}
	}
	return n
}

// demoRegionNames are the regions of a simulated organisation, in order.
var demoRegionNames = []string{"us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2", "eu-central-1", "ap-northeast-1", "ca-central-1", "sa-east-1"}

// maxFleet is the largest simulated fleet: about half a GiB of memory,
// built in seconds. A larger one took the machine's memory, or panicked,
// before a word was printed or a signal heard.
const maxFleet = 1_000_000

// simulatedOrg builds an organisation of accounts (its management account
// among them) with fleets in the first regions of demoRegionNames, size
// instance IDs in all, for the demo and the simulator.
func simulatedOrg(accounts, regions, size int, seed int64, base time.Time, failing float64) (*ssmsim.Org, []string, error) {
	accounts, regions = max(accounts, 1), max(regions, 1)
	if regions > len(demoRegionNames) {
		return nil, nil, fmt.Errorf("--regions %d: at most %d", regions, len(demoRegionNames))
	}
	if accounts > 50 {
		return nil, nil, fmt.Errorf("--accounts %d: at most 50", accounts)
	}
	names := demoRegionNames[:regions]
	var rs []ssmsim.Region
	for _, n := range demoRegionNames {
		rs = append(rs, ssmsim.Region{Name: n})
	}
	// DefaultAccounts opts one member in to af-south-1: an opt-in region
	// enabled in one account only, with no instances.
	rs = append(rs, ssmsim.Region{Name: "af-south-1", OptIn: true})
	org, err := ssmsim.NewOrg(ssmsim.OrgConfig{
		Seed:         seed,
		Accounts:     ssmsim.DefaultAccounts(accounts, seed),
		Regions:      rs,
		FleetRegions: names,
		Fleet:        ssmsim.FleetConfig{Size: max(1, size/(accounts*regions)), BaseTime: base, Failing: failing},
	})
	return org, names, err
}

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
	c := newCommand("demo", stdout, stderr)
	o, size, seed := c.o, c.fleetSize, c.seed
	pos, err := c.parse(ctx, args, false, stdout)
	if err != nil {
		return err
	}
	if len(pos) > 0 {
		return usagef("demo: unexpected argument %q", shownArg(pos[0]))
	}
	if *size < 1 || *size > maxFleet {
		return usagef("--fleet-size %d: want 1 to %d", *size, maxFleet)
	}
	// Counts here, not run's lists: a zero given is refused as a count.
	for _, f := range []struct {
		name string
		n    int
		hint string
	}{{"accounts", *c.orgAccounts, "a single fleet"}, {"regions", *c.orgRegions, "one region"}} {
		if f.n < 1 && o.given[f.name] {
			return usagef("demo: --%s %d: want at least 1 (leave it out for %s)", f.name, f.n, f.hint)
		}
	}
	// As for run: {date} and {time} filled in, and e/y/.. is e, made
	// alone.
	o.outNamed = expandOut(o.out, o.now())
	o.out = outdir.Clean(o.outNamed)
	// Execution dates are relative to now, so that staleness reads as in a
	// real fleet.
	base := time.Now().UTC().Truncate(time.Minute)
	var ids bytes.Buffer
	var srv *ssmsim.Server
	var what string
	if *c.orgAccounts > 0 || *c.orgRegions > 0 {
		org, regions, err := simulatedOrg(*c.orgAccounts, *c.orgRegions, *size, *seed, base, 0)
		if err != nil {
			return usagef("demo: %v", err)
		}
		srv = ssmsim.NewServer(nil, ssmsim.Options{Seed: *seed, Org: org})
		// The whole organisation, found as a real one would be: its
		// accounts from Organizations, a role assumed in each, every node
		// discovered.
		o.accounts, o.roleName, o.regions, o.discover = "org", demoRole, strings.Join(regions, ","), true
		what = fmt.Sprintf("an organisation of %s with fleets in %s", plural(activeAccounts(org), "account"), plural(len(regions), "region"))
	} else {
		fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: *seed, Size: *size, BaseTime: base})
		srv = ssmsim.NewServer(fleet, ssmsim.Options{Seed: *seed})
		if err := fleet.WriteIDs(&ids); err != nil {
			return err
		}
		o.instances.vals = []string{"-"}
		what = fmt.Sprintf("%d instances", *size)
	}
	url, stop, err := srv.Start()
	if err != nil {
		return fmt.Errorf("starting the simulated SSM endpoint: %w", err)
	}
	defer stop()
	o.endpointURL = url
	o.region = demoRegion
	o.credentials = credentials.NewStaticCredentialsProvider(demoKeyID, demoSecret, "")
	o.demo = true
	o.openDir = func(dir string) (*outdir.Dir, error) {
		d, err := outdir.OpenDemo(dir, demoOutputs()...)
		if errors.Is(err, outdir.ErrNotDemo) {
			// Without its directory, which outError names as --out's.
			var oe *outdir.Error
			if errors.As(err, &oe) {
				err = oe.Err
			}
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
	if ids.Len() > 0 {
		p := filepath.Join(o.out, demoIDs)
		if err := atomicfile.WriteFile(p, ids.Bytes()); err != nil {
			return fmt.Errorf("%w: %w", atomicfile.ErrNotWritable, err)
		}
		fmt.Fprintln(stdout, p) // in the list of written files
	}
	o.logf(stderr, "demo: simulated AWS endpoint at %s with %s (seed %d)", url, what, *seed)

	err = j.execute(ctx, stdout, stderr)
	if errors.Is(err, errFindings) {
		// The simulated fleet has failures by design: finding them is the
		// demo working.
		err = nil
	}
	return err
}
