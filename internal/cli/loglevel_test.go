package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// jsonRecords decodes stderr written with --log-format json.
func jsonRecords(t *testing.T, stderr string) []map[string]any {
	t.Helper()
	var recs []map[string]any
	for _, line := range strings.Split(strings.TrimSpace(stderr), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON record: %q (%v)", line, err)
		}
		recs = append(recs, rec)
	}
	return recs
}

// levelOf returns the level of the first record whose message contains
// part, or "" with none.
func levelOf(recs []map[string]any, part string) string {
	for _, r := range recs {
		if msg, _ := r["msg"].(string); strings.Contains(msg, part) {
			level, _ := r["level"].(string)
			return level
		}
	}
	return ""
}

// TestLogLevelOfOutcomes: with --log-format json, the closing lines of a
// run that ends partial (exit 3) or whose delivery failed (exit 5) carry
// their level, so that a collector alerting on WARN or ERROR sees them;
// they came out as INFO, the level being guessed from an "auditor: "
// prefix they do not have.
func TestLogLevelOfOutcomes(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	for _, tt := range []struct {
		name   string
		setup  func(t *testing.T) []string
		code   int
		levels map[string]string // part of a message: its level
	}{
		{
			name: "interrupted",
			setup: func(t *testing.T) []string {
				fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 3, Size: 40})
				url, srv := serveStallable(t, fleet, ssmsim.Options{})
				srv.StallFrom(11)
				ids := filepath.Join(t.TempDir(), "ids.txt")
				writeIDs(ids, fleet)
				return []string{"--instances", ids, "--endpoint-url", url, "--concurrency", "2", "--timeout", stallTimeout.String(), "--grace", "0s"}
			},
			code:   int(exitIncomplete),
			levels: map[string]string{"interrupted: the reports are partial": "WARN"},
		},
		{
			name: "delivery failed",
			setup: func(t *testing.T) []string {
				url, _ := serve(t, handFleet(false), ssmsim.Options{})
				s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					w.Header().Set("Content-Type", "application/xml")
					w.WriteHeader(http.StatusForbidden)
					fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>`)
				}))
				t.Cleanup(s3.Close)
				t.Setenv("AWS_ENDPOINT_URL_S3", s3.URL)
				ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
				return []string{"--instances", ids, "--endpoint-url", url, "--upload", "s3://reports/x/"}
			},
			code:   int(exitDelivery),
			levels: map[string]string{"delivery failed (exit 5)": "ERROR", "AccessDenied": "ERROR"},
		},
		{
			// The lines that tell what a partial run left out were INFO:
			// the account-region, its hint, and the instances in error.
			name: "account-region refused",
			setup: func(t *testing.T) []string {
				_, _, accounts := serveOrg(t, 4)
				return []string{"--role-name", "AuditRole", "--discover", "--accounts", accounts[1].ID + "," + accounts[2].ID, "--regions", "us-east-1", "--fail-on", "none"}
			},
			code:   int(exitIncomplete),
			levels: map[string]string{" us-east-1 could not be audited: AccessDenied": "WARN", "trust policy": "WARN"},
		},
		{
			name: "instances in error",
			setup: func(t *testing.T) []string {
				url, _ := serve(t, handFleet(false), ssmsim.Options{Faults: ssmsim.Faults{ErrorRate: 1}})
				ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
				return []string{"--instances", ids, "--endpoint-url", url, "--max-attempts", "1"}
			},
			code:   int(exitIncomplete),
			levels: map[string]string{"instances ended in error": "WARN"},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			args := append([]string{"run", "--region", "us-east-1", "--quiet", "--log-format", "json",
				"--out", filepath.Join(t.TempDir(), "out")}, tt.setup(t)...)
			got := runCLI(t, "", args...)
			if got.code != tt.code {
				t.Fatalf("exit %d, want %d\n%s", got.code, tt.code, got.stderr)
			}
			recs := jsonRecords(t, got.stderr)
			for part, want := range tt.levels {
				if level := levelOf(recs, part); level != want {
					t.Errorf("%q at level %q, want %q\n%s", part, level, want, got.stderr)
				}
			}
		})
	}
}
