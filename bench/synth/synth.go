// Package synth writes synthetic audit records (results.jsonl and run.json)
// for the benchmarks: any number of instances with a fixed number of
// association rows each, deterministic for a seed, with the shapes of a real
// fleet (shared associations, a mix of statuses, stale dates, output URLs,
// labels).
package synth

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/atomicfile"
)

// Config says what Write generates. The zero value of a field means its
// default.
type Config struct {
	// Instances is the number of managed instances, each with PerInstance
	// associations.
	Instances int
	// PerInstance is the number of associations of every managed instance
	// (default 5; at most the 24 of the pool).
	PerInstance int
	// NotManaged and Errors add that many instances with no associations,
	// outcome not_managed and error, so that the problem lists have rows.
	NotManaged, Errors int
	// Seed selects the record: the same Config gives the same bytes.
	Seed uint64
	// StartedAt is the run's start, run.json's started_at and the instances'
	// audited_at; execution dates fall in the ten weeks before it. Zero means
	// 2025-06-02T12:00:00Z.
	StartedAt time.Time
}

// LabelKeys are the label keys of every generated instance, sorted, as
// report.Model.LabelKeys lists them.
var LabelKeys = []string{"env", "owner"}

// Account and Region are the account and region of every generated instance.
const (
	Account = "111122223333"
	Region  = "us-east-1"
)

type poolEntry struct{ id, doc, name, version string }

var docs = [...]struct{ doc, name string }{
	{"AWS-GatherSoftwareInventory", "Inventory-Association"},
	{"AWS-UpdateSSMAgent", "UpdateSSMAgent-Weekly"},
	{"AWS-RunPatchBaseline", "PatchScan-Daily"},
	{"AWS-RunPatchBaseline", "PatchInstall-SundayWindow"},
	{"AWS-ConfigureAWSPackage", "Install-CloudWatchAgent"},
	{"AmazonCloudWatch-ManageAgent", "CloudWatch-Config"},
	{"AWS-ConfigureAWSPackage", "Install-InspectorAgent"},
	{"AWS-RunShellScript", "rotate-logs"},
	{"AWS-RunPowerShellScript", "Set-TimeZone"},
	{"AWS-ApplyAnsiblePlaybooks", "ansible-baseline"},
	{"Custom-CISHardening", "cis-level1"},
	{"Acme-DiskCleanup", ""},
	{"Ops-SplunkForwarder", "splunk-forwarder"},
	{"AWS-ConfigureAWSPackage", "Install-CrowdStrike"},
	{"Custom-ComplianceCheck.v2", "compliance_check.v2"},
	{"AWS-RunShellScript", "ntp-sync"},
	{"AWS-RunPatchBaselineWithHooks", "patch-with-hooks"},
	{"AWS-RunRemoteScript", "pull-config-from-s3"},
	{"AWSEC2-ConfigureSTIG", "stig-hardening"},
	{"AWS-ConfigureWindowsUpdate", "windows-update-schedule"},
	{"Acme-AppDeploy", "app-deploy"},
	{"Acme-AppConfig", "app-config"},
	{"Acme-FeatureFlags", "feature-flags"},
	{"AWS-GatherSoftwareInventory", ""},
}

var (
	errorCodes = []string{"ExecutionError", "StuckAtInProgress", "InvalidAssoc", "ListAssocError"}
	owners     = []string{"payments", "search", "platform", "data", "identity", "web", "batch"}
	envs       = []string{"prod", "staging", "dev"}
)

const (
	summaryOK     = "1 out of 1 plugin processed, 1 success, 0 failed, 0 timedout, 0 skipped. "
	summaryFailed = "1 out of 1 plugin processed, 0 success, 1 failed, 0 timedout, 0 skipped. "
)

func pool(r *rand.Rand) []poolEntry {
	p := make([]poolEntry, len(docs))
	for i, d := range docs {
		p[i] = poolEntry{
			id:      fmt.Sprintf("%08x-%04x-4%03x-8%03x-%012x", r.Uint32(), r.Uint32()&0xffff, r.Uint32()&0xfff, r.Uint32()&0xfff, r.Uint64()&0xffffffffffff),
			doc:     d.doc,
			name:    d.name,
			version: fmt.Sprint(1 + r.IntN(9)),
		}
	}
	return p
}

// Write writes cfg's record to w, one audit.Result per line, in a shuffled
// instance order (as a concurrent run writes it), and returns the number of
// association rows written. Associations are in AssociationId order within
// each instance.
func Write(w io.Writer, cfg Config) (rows int, err error) {
	cfg = cfg.withDefaults()
	r := rand.New(rand.NewPCG(cfg.Seed, 0x5ee7))
	p := pool(r)
	bw := bufio.NewWriterSize(w, 1<<20)
	total := cfg.Instances + cfg.NotManaged + cfg.Errors
	// A random permutation: results arrive in completion order.
	order := r.Perm(total)
	picks := make([]int, len(p))
	for i := range picks {
		picks[i] = i
	}
	for _, i := range order {
		res := audit.Result{
			AccountID:  Account,
			Region:     Region,
			InstanceID: fmt.Sprintf("i-0%016x", uint64(i)*0x9e3779b97f4a7c15),
			Labels:     map[string]string{"owner": owners[i%len(owners)], "env": envs[i%len(envs)]},
			Source:     fmt.Sprintf("fleet.csv:%d", i+2),
			AuditedAt:  cfg.StartedAt,
		}
		switch {
		case i >= cfg.Instances+cfg.NotManaged:
			res.Outcome = audit.OutcomeError
			res.Error = &audit.Error{Code: "Transport", Message: "dial tcp: connection reset by peer"}
			res.Calls = 8
		case i >= cfg.Instances:
			res.Outcome = audit.OutcomeNotManaged
			res.Error = &audit.Error{Code: audit.CodeInvalidInstanceID, Message: "Instances [[" + res.InstanceID + "]] not in a valid state for account " + Account}
			res.Calls = 1
		default:
			res.Pages, res.Calls = 1, 1
			res.Associations = associations(r, p, picks, res.InstanceID, cfg)
			res.Outcome = audit.Judge(res.Associations)
			rows += len(res.Associations)
		}
		if err := audit.EncodeResult(bw, res); err != nil {
			return rows, err
		}
	}
	return rows, bw.Flush()
}

func associations(r *rand.Rand, p []poolEntry, picks []int, id string, cfg Config) []audit.Association {
	// The first PerInstance of a partial shuffle are this instance's.
	for k := range cfg.PerInstance {
		j := k + r.IntN(len(picks)-k)
		picks[k], picks[j] = picks[j], picks[k]
	}
	as := make([]audit.Association, cfg.PerInstance)
	for k := range as {
		e := p[picks[k]]
		a := audit.Association{
			AssociationID: e.id, Name: e.doc, AssociationName: e.name,
			AssociationVersion: e.version, DocumentVersion: "$DEFAULT", InstanceID: id,
			Status: audit.StatusSuccess, DetailedStatus: "Success", ExecutionSummary: summaryOK,
		}
		// Mostly within the last day; one in twenty weeks old (stale).
		ago := time.Duration(r.Int64N(int64(24 * time.Hour)))
		if r.IntN(20) == 0 {
			ago = time.Duration(r.Int64N(int64(70*24*time.Hour))) + 8*24*time.Hour
		}
		when := cfg.StartedAt.Add(-ago).Truncate(time.Millisecond)
		a.ExecutionDate = &when
		switch x := r.IntN(100); {
		case x < 8:
			a.Status, a.DetailedStatus = audit.StatusFailed, "Failed"
			a.ErrorCode = errorCodes[r.IntN(len(errorCodes))]
			a.ExecutionSummary = summaryFailed
		case x < 13:
			a.Status, a.DetailedStatus, a.ExecutionSummary = audit.StatusPending, "Pending", ""
			a.ExecutionDate = nil
		}
		if r.IntN(3) == 0 {
			a.OutputURL = &audit.OutputURL{S3OutputURL: &audit.S3OutputURL{
				OutputURL: "https://s3.amazonaws.com/acme-ssm-logs/associations/" + e.id + "/" + id + "/awsrunShellScript/0.awsrunShellScript/stdout",
			}}
		}
		as[k] = a
	}
	slices.SortFunc(as, func(x, y audit.Association) int { return strings.Compare(x.AssociationID, y.AssociationID) })
	return as
}

func (c Config) withDefaults() Config {
	if c.PerInstance <= 0 {
		c.PerInstance = 5
	}
	c.PerInstance = min(c.PerInstance, len(docs))
	if c.StartedAt.IsZero() {
		c.StartedAt = time.Date(2025, time.June, 2, 12, 0, 0, 0, time.UTC)
	}
	c.StartedAt = c.StartedAt.UTC()
	return c
}

// WriteDir writes dir/results.jsonl and dir/run.json for cfg (a complete run
// that started at cfg.StartedAt), and returns the path of results.jsonl and
// the number of association rows.
func WriteDir(dir string, cfg Config) (path string, rows int, err error) {
	cfg = cfg.withDefaults()
	path = filepath.Join(dir, audit.ResultsFile)
	err = atomicfile.Write(path, func(w io.Writer) error {
		rows, err = Write(w, cfg)
		return err
	})
	if err != nil {
		return "", 0, fmt.Errorf("writing %s: %w", path, err)
	}
	n := cfg.Instances + cfg.NotManaged + cfg.Errors
	info := audit.RunInfo{
		Schema: audit.Schema, Version: "synthetic",
		StartedAt: cfg.StartedAt, EndedAt: cfg.StartedAt.Add(time.Duration(n) * time.Second / 950),
		Complete: cfg.Errors == 0, Options: map[string]any{"region": Region},
		Targets: n, Outcomes: map[audit.Outcome]int{},
	}
	b, err := json.MarshalIndent(info, "", "  ")
	if err == nil {
		err = atomicfile.WriteFile(filepath.Join(dir, audit.RunFile), append(b, '\n'))
	}
	return path, rows, err
}
