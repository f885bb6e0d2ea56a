package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestListedInPart: an account-region whose listing fails after its first
// page has that page's nodes audited, and is told as listed in part, with
// how many were audited and why the listing stopped: on stderr, in the
// HTML report and in summary.json, never as an account-region not audited,
// of which nothing is known.
func TestListedInPart(t *testing.T) {
	accounts := ssmsim.DefaultAccounts(1, 1)
	_, srv, _ := serveOrgOf(t, ssmsim.OrgConfig{
		Seed:     1,
		Accounts: accounts,
		Regions:  []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}},
		Fleet:    ssmsim.FleetConfig{Size: 120, BaseTime: time.Now().UTC().Truncate(time.Minute)},
	}, ssmsim.Faults{})
	// In front of the simulator: eu-west-1's listing is refused from its
	// second page on (from its first, once denyFirst is set).
	var denyFirst atomic.Bool
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		r.Body = io.NopCloser(bytes.NewReader(body))
		var in struct{ NextToken string }
		json.Unmarshal(body, &in)
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AmazonSSM.")
		if strings.Contains(r.Header.Get("Authorization"), "/eu-west-1/") && op == ssmsim.OpDescribeInstanceInformation && (in.NextToken != "" || denyFirst.Load()) {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			w.WriteHeader(http.StatusBadRequest)
			io.WriteString(w, `{"__type":"AccessDeniedException","message":"page two is denied"}`)
			return
		}
		srv.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Setenv("AWS_ENDPOINT_URL", hs.URL)

	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--accounts", accounts[0].ID, "--role-name", "AuditRole",
		"--regions", "us-east-1,eu-west-1", "--discover", "--region", "us-east-1", "--max-attempts", "1",
		"--format", "html,json", "--fail-on", "none", "--out", out)
	if got.code != int(exitIncomplete) {
		t.Fatalf("exit %d, want %d (an account-region listed in part)\n%s", got.code, exitIncomplete, got.stderr)
	}
	rs, err := audit.OpenRecords(filepath.Join(out, "results.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	audited := 0 // eu-west-1's nodes audited before its listing failed
	rs.Each(func(r audit.Result) error {
		if r.Region == "eu-west-1" {
			audited++
		}
		return nil
	})
	if audited == 0 {
		t.Fatalf("no node of eu-west-1 audited: its first page was not\n%s", got.stderr)
	}
	words := fmt.Sprintf("listed in part: %d nodes audited before the listing failed", audited)

	checkSays(t, got.stderr, []string{"in 2 account-regions (1 of them listed in part)",
		fmt.Sprintf("eu-west-1 listed in part: the listing failed after %d nodes (AccessDeniedException: page two is denied)", audited)},
		[]string{"could not be listed", "eu-west-1 could not be audited"})

	html, err := os.ReadFile(filepath.Join(out, report.HTMLFile))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(html, []byte(words)) || !bytes.Contains(html, []byte("AccessDeniedException")) {
		t.Errorf("report.html does not say %q with the listing's code", words)
	}
	if bytes.Contains(html, []byte("nothing in it is known")) {
		t.Errorf("report.html says of an account-region listed in part that nothing in it is known")
	}

	var summary struct {
		Run struct {
			Unaudited    []report.Site `json:"unaudited"`
			ListedInPart []report.Site `json:"listed_in_part"`
		} `json:"run"`
	}
	if b, err := os.ReadFile(filepath.Join(out, report.SummaryFile)); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	if u := summary.Run.Unaudited; len(u) != 0 {
		t.Errorf("summary.json run.unaudited %+v, want none", u)
	}
	if p := summary.Run.ListedInPart; len(p) != 1 || p[0].Region != "eu-west-1" || p[0].Code != "AccessDeniedException" || p[0].Audited != audited {
		t.Errorf("summary.json run.listed_in_part %+v, want eu-west-1 with AccessDeniedException and %d audited", p, audited)
	}

	// A resume whose listing of eu-west-1 fails on its first page: the
	// record still holds the nodes the first attempt audited there, so it
	// is listed in part still, not an account-region of which nothing is
	// known (it was told so, though the counts covered those nodes).
	denyFirst.Store(true)
	again := runCLI(t, "", "run", "--resume", "--accounts", accounts[0].ID, "--role-name", "AuditRole",
		"--regions", "us-east-1,eu-west-1", "--discover", "--region", "us-east-1", "--max-attempts", "1",
		"--format", "html,json", "--fail-on", "none", "--out", out)
	if again.code != int(exitIncomplete) {
		t.Fatalf("resume: exit %d, want %d\n%s", again.code, exitIncomplete, again.stderr)
	}
	if b, err := os.ReadFile(filepath.Join(out, report.SummaryFile)); err != nil {
		t.Fatal(err)
	} else if err := json.Unmarshal(b, &summary); err != nil {
		t.Fatal(err)
	}
	if u, p := summary.Run.Unaudited, summary.Run.ListedInPart; len(u) != 0 || len(p) != 1 || p[0].Audited != audited {
		t.Errorf("after a resume failing on the first page: run.unaudited %+v, run.listed_in_part %+v; want none, and eu-west-1 with %d audited", u, p, audited)
	}
	if html, err := os.ReadFile(filepath.Join(out, report.HTMLFile)); err != nil {
		t.Fatal(err)
	} else if bytes.Contains(html, []byte("nothing in it is known")) {
		t.Errorf("after the resume, report.html says of eu-west-1 that nothing in it is known")
	}
}
