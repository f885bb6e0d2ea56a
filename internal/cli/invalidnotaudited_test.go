package cli

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestInvalidLinesAreNotAnAudit: the invalid lines that --skip-invalid
// records are no instance audited. A run that could audit nothing else (an
// endpoint that does not answer, a role that every account refuses) was
// exit 3 with reports of those lines and a record that a run again after
// the fix refused ("already holds a record: pass --resume"), where the same
// list without them is exit 4, run.json alone, and runs again as it was.
// So were credentials refused at the first call. Now each is exit 4,
// run.json alone, and the run again after the fix is the same run.
func TestInvalidLinesAreNotAnAudit(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	noReports := func(t *testing.T, out string) {
		t.Helper()
		for _, f := range []string{"report.html", "summary.json", "instances.csv", "report.xlsx"} {
			if _, err := os.Stat(filepath.Join(out, f)); !errors.Is(err, fs.ErrNotExist) {
				t.Errorf("%s: %v, want none: a report of invalid lines alone reads as an audit", f, err)
			}
		}
	}
	t.Run("endpoint that does not answer", func(t *testing.T) {
		var ids bytes.Buffer
		ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 20}).WriteIDs(&ids)
		ids.WriteString("not-an-instance\n")
		list := writeFile(t, "ids.txt", ids.String())
		ln, _ := net.Listen("tcp", "127.0.0.1:0")
		url := "http://" + ln.Addr().String()
		ln.Close()
		out := filepath.Join(t.TempDir(), "out")
		args := []string{"run", "--instances", list, "--skip-invalid", "--endpoint-url", url, "--region", "us-east-1",
			"--out", out, "--max-attempts", "1", "--concurrency", "2", "--quiet"}
		got := runCLI(t, "", args...)
		if got.code != int(exitFatal) {
			t.Fatalf("exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
		}
		checkSays(t, got.stderr, []string{"nothing was audited"}, []string{"--resume"})
		noReports(t, out)
		// The endpoint fixed (here: still down), the same command runs
		// again rather than being refused as another run's record.
		got = runCLI(t, "", args...)
		if got.code != int(exitFatal) {
			t.Fatalf("run again: exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
		}
		// And once it answers, the run is whole: the invalid line too.
		url2, _ := serve(t, ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 5, Size: 20}), ssmsim.Options{})
		for i, a := range args {
			if a == url {
				args[i] = url2
			}
		}
		got = runCLI(t, "", append(args, "--fail-on", "none")...)
		if got.code != int(exitOK) {
			t.Fatalf("run once it answers: exit %d\n%s", got.code, got.stderr)
		}
		if n := countLines(filepath.Join(out, audit.ResultsFile)); n != 21 {
			t.Errorf("%d results, want 21: 20 instances and the invalid line", n)
		}
	})
	t.Run("credentials refused", func(t *testing.T) {
		// STS takes them; SSM refuses its first call.
		denied := refusingSSM(t)
		list := writeFile(t, "ids.txt", "i-0123456789abcdef0\nnot-an-instance\n")
		out := filepath.Join(t.TempDir(), "out")
		args := []string{"run", "--instances", list, "--skip-invalid", "--endpoint-url", denied, "--region", "us-east-1",
			"--out", out, "--quiet"}
		got := runCLI(t, "", args...)
		if got.code != int(exitFatal) {
			t.Fatalf("exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
		}
		checkSays(t, got.stderr, []string{"UnrecognizedClientException", "audited 0 instances"}, []string{"--resume", "holds what was audited"})
		noReports(t, out)
		if got = runCLI(t, "", args...); got.code != int(exitFatal) {
			t.Fatalf("run again: exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
		}
	})
	t.Run("every account-region refused", func(t *testing.T) {
		org, _, accounts := serveOrg(t, 10)
		refusing := accounts[2].ID
		var rows bytes.Buffer
		rows.WriteString("instance_id,account_id,region\n")
		for _, id := range org.Fleet(refusing, "us-east-1").ManagedIDs()[:3] {
			fmt.Fprintf(&rows, "%s,%s,us-east-1\n", id, refusing)
		}
		fmt.Fprintf(&rows, "not-an-instance,%s,us-east-1\n", refusing)
		list := writeFile(t, "fleet.csv", rows.String())
		out := filepath.Join(t.TempDir(), "out")
		args := []string{"run", "--instances", list, "--skip-invalid", "--role-name", "AuditRole", "--region", "us-east-1",
			"--fail-on", "none", "--quiet", "--out", out}
		got := runCLI(t, "", args...)
		if got.code != int(exitFatal) {
			t.Fatalf("exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
		}
		checkSays(t, got.stderr, []string{"no account-region could be audited", "audited 0 instances"}, []string{"--resume"})
		noReports(t, out)
		if got = runCLI(t, "", args...); got.code != int(exitFatal) {
			t.Fatalf("run again: exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
		}
	})
}

// TestResumeThatAuditsNothingSaysResume: a resume whose endpoint never
// answers audits nothing, as a first run would (exit 4), but the record it
// continues holds its first attempt's instances in error: run again, as
// such a run says to, it is refused as a record to resume. It says to
// continue it instead.
func TestResumeThatAuditsNothingSaysResume(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{Faults: ssmsim.Faults{ErrorRate: 1}})
	list := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	out := filepath.Join(t.TempDir(), "out")
	args := []string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--max-attempts", "1", "--quiet"}
	if got := runCLI(t, "", args...); got.code != int(exitIncomplete) {
		t.Fatalf("first run: exit %d, want %d\n%s", got.code, exitIncomplete, got.stderr)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	closed := "http://" + ln.Addr().String()
	ln.Close()
	for i, a := range args {
		if a == url {
			args[i] = closed
		}
	}
	got := runCLI(t, "", append(args, "--resume")...)
	if got.code != int(exitFatal) {
		t.Fatalf("resume: exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
	}
	checkSays(t, got.stderr, []string{"nothing was audited", "--resume"}, []string{"then run again"})
	if n := countLines(filepath.Join(out, audit.ResultsFile)); n != 2 {
		t.Errorf("%d results left, want the first attempt's 2", n)
	}
	// The endpoint answers, but refuses the credentials: every
	// account-region fails, and the record still holds the first
	// attempt's instances.
	denied := refusingSSM(t)
	for i, a := range args {
		if a == closed {
			args[i] = denied
		}
	}
	got = runCLI(t, "", append(args, "--resume")...)
	if got.code != int(exitFatal) {
		t.Fatalf("resume refused: exit %d, want %d\n%s", got.code, exitFatal, got.stderr)
	}
	checkSays(t, got.stderr, []string{"UnrecognizedClientException", "continue with: auditor run --resume"}, nil)
	if n := countLines(filepath.Join(out, audit.ResultsFile)); n != 2 {
		t.Errorf("%d results left, want the first attempt's 2", n)
	}
}

// refusingSSM serves an endpoint whose STS takes the credentials and whose
// SSM refuses them at every association call.
func refusingSSM(t *testing.T) string {
	t.Helper()
	url, _, _ := serveLogged(t, handFleet(false), func(w http.ResponseWriter, r wireReq) bool {
		if r.op != ssmsim.OpDescribeInstanceAssociationsStatus {
			return false
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"UnrecognizedClientException","Message":"The security token included in the request is invalid."}`)
		return true
	})
	return url
}
