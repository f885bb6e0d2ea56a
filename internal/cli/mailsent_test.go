package cli

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// mailedSince returns the recipients of the messages the server took
// after the first before, sorted.
func mailedSince(ms mailSetup, before int) []string {
	var to []string
	for _, m := range ms.srv.Messages()[before:] {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	return to
}

// TestKilledBeforeItsMailLooksUndelivered: a run killed once its run.json
// was written and before its mail was tried (here during its upload,
// which goes first) left no mark: the next run under --mail-when changes
// saw no change since it and mailed nobody, and what changed in the
// killed run reached no one. The marks are there before the reports are
// written, and gone once the mail went or turned out not to be due.
func TestKilledBeforeItsMailLooksUndelivered(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("bob"), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	backend := s3mem.New()
	if err := backend.CreateBucket("reports"); err != nil {
		t.Fatal(err)
	}
	fake := gofakes3.New(backend).Server()
	var once sync.Once
	reached, release := make(chan struct{}), make(chan struct{})
	s3 := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			once.Do(func() { close(reached); <-release })
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(s3.Close)
	t.Setenv("AWS_ENDPOINT_URL_S3", s3.URL)
	root := t.TempDir()
	list := writeFile(t, "fleet.csv", ownersList)
	args := func(week string, more ...string) []string {
		return append(append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1",
			"--out", filepath.Join(root, week), "--quiet", "--fail-on", "none", "--mail-when", "changes", "--mail-to", "ops@example.com",
			"--split-by", "owner", "--mail-to-label", "owner_email"}, more...), ms.args...)
	}
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, "", args("w1", "--upload", "s3://reports/w1/")...) }()
	select {
	case <-reached:
	case r := <-done:
		t.Fatalf("week 1 ended before its upload: exit %d\n%s", r.code, r.stderr)
	}
	killed := filepath.Join(root, "killed")
	if err := os.CopyFS(killed, os.DirFS(filepath.Join(root, "w1"))); err != nil {
		t.Fatal(err)
	}
	close(release)
	if r := <-done; r.code != 0 {
		t.Fatalf("week 1: exit %d\n%s", r.code, r.stderr)
	}

	before := len(ms.srv.Messages())
	got := runCLI(t, "", args("w2", "--baseline", killed)...)
	to := mailedSince(ms, before)
	for _, want := range []string{"ops@example.com", "alice@example.com", "bob@example.com", "carol@example.com"} {
		if got.code != 0 || !slices.Contains(to, want) {
			t.Errorf("week 2, compared with week 1 killed before its mail: exit %d, mailed %q, want %s among them\n%s", got.code, to, want, got.stderr)
		}
	}
	// Week 1 itself mailed: compared with it, nothing changed, nobody is
	// mailed, and week 3, whose mail was not due, is left unmarked.
	before = len(ms.srv.Messages())
	got = runCLI(t, "", args("w3", "--baseline", filepath.Join(root, "w1"))...)
	if got.code != 0 || len(ms.srv.Messages()) != before {
		t.Errorf("week 3, compared with week 1 whose mail went: exit %d, %d mails, want none\n%s", got.code, len(ms.srv.Messages())-before, got.stderr)
	}
	// A temporary file that a kill left while a mark was written is no
	// mark.
	stray := filepath.Join(root, "w1", "."+undeliveredFile+".tmp-0123456789ab")
	if err := os.WriteFile(stray, []byte(`{"to":["ops@example.com"]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	before = len(ms.srv.Messages())
	if got := runCLI(t, "", args("w4", "--baseline", filepath.Join(root, "w1"))...); got.code != 0 || len(ms.srv.Messages()) != before {
		t.Errorf("week 4, compared with week 1 and a stray temporary mark: exit %d, %d mails, want none\n%s", got.code, len(ms.srv.Messages())-before, got.stderr)
	}
	for _, week := range []string{"w1", "w3"} {
		for _, mark := range []string{undeliveredFile, groupsPendingFile} {
			if _, err := os.Stat(filepath.Join(root, week, mark)); err == nil {
				t.Errorf("%s: %s left by a run whose mail went or was not due", week, mark)
			}
		}
	}
}
