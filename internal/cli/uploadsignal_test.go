package cli

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// bigRecord writes a results.jsonl past deliver.DefaultPartSize, so that
// its upload goes in parts: the record of a run of one instance, its line
// repeated under other instance IDs.
func bigRecord(t *testing.T) string {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	b, err := os.ReadFile(filepath.Join(out, audit.ResultsFile))
	if err != nil {
		t.Fatal(err)
	}
	line := strings.SplitAfter(string(b), "\n")[0]
	var sb strings.Builder
	for i := 0; sb.Len() <= deliver.DefaultPartSize+deliver.MinPartSize; i++ {
		sb.WriteString(strings.ReplaceAll(line, "i-0123456789abcdef0", fmt.Sprintf("i-%017x", i)))
	}
	p := filepath.Join(t.TempDir(), "big.jsonl")
	if err := os.WriteFile(p, []byte(sb.String()), 0o666); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSignalDuringMultipartUpload: a signal while the parts of a large
// file went was told as S3's failure ("upload multipart failed ... failed
// to abort multipart upload (... context canceled)") and left the upload
// in the bucket, its parts billed, without a word: the abort went with
// the context just cancelled. The abort is sent, the signal is told as
// one, and an abort S3 refuses is told with the command that aborts it.
func TestSignalDuringMultipartUpload(t *testing.T) {
	if testing.Short() {
		t.Skip("uploads a record of 13 MB")
	}
	big := bigRecord(t)
	for _, tt := range []struct {
		name        string
		refuseAbort bool
	}{
		{name: "aborted"},
		{name: "abort refused", refuseAbort: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t, "AKIATESTTESTTESTTEST")
			backend := s3mem.New()
			if err := backend.CreateBucket("reports"); err != nil {
				t.Fatal(err)
			}
			fake := gofakes3.New(backend).Server()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			stop := make(chan struct{})
			var mu sync.Mutex
			var aborts []string
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				q := r.URL.Query()
				switch {
				case r.Method == http.MethodPut && q.Has("partNumber"):
					io.Copy(io.Discard, r.Body)
					cancel()
					select {
					case <-r.Context().Done():
					case <-stop:
					}
					return
				case r.Method == http.MethodDelete && q.Has("uploadId"):
					mu.Lock()
					aborts = append(aborts, q.Get("uploadId"))
					mu.Unlock()
					if tt.refuseAbort {
						w.Header().Set("Content-Type", "application/xml")
						w.WriteHeader(http.StatusForbidden)
						w.Write([]byte(`<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied</Message><RequestId>1</RequestId></Error>`))
						return
					}
				}
				fake.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			t.Cleanup(func() { close(stop) }) // before srv.Close
			t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)

			out := filepath.Join(t.TempDir(), "out")
			got := runCtx(ctx, nil, "report", big, "--out", out, "--quiet", "--fail-on", "none", "--region", "us-east-1",
				"--format", "csv", "--upload", "s3://reports/big/")
			if got.code != int(exitDelivery) {
				t.Errorf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if len(aborts) != 1 {
				t.Fatalf("aborts of %q sent, want the upload's\n%s", aborts, got.stderr)
			}
			if want := "interrupted by a signal during the upload"; !strings.Contains(got.stderr, want) {
				t.Errorf("stderr does not say %q:\n%s", want, got.stderr)
			}
			for _, s := range []string{"context canceled", "upload multipart failed"} {
				if strings.Contains(got.stderr, s) {
					t.Errorf("stderr tells the signal as S3's failure (%q):\n%s", s, got.stderr)
				}
			}
			abort := "aws s3api abort-multipart-upload --bucket reports --key big/results.jsonl --upload-id " + aborts[0] + " --region us-east-1"
			if said := strings.Contains(got.stderr, abort); said != tt.refuseAbort {
				t.Errorf("stderr gives %q: %v, want %v\n%s", abort, said, tt.refuseAbort, got.stderr)
			}
			// Why S3 refused the abort, so that the one who runs the
			// command knows what to allow first.
			if said := strings.Contains(got.stderr, "AccessDenied"); said != tt.refuseAbort {
				t.Errorf("stderr says why the abort was refused: %v, want %v\n%s", said, tt.refuseAbort, got.stderr)
			}
		})
	}
}

// TestUploadMarkersLast: the upload went in sorted order, the output's
// run.json and summary.json first, then the groups of --split-by: an
// upload that failed midway left in the bucket the run.json of a run
// whose reports were not all there (or, on a fixed prefix, beside an
// earlier run's), and a reader waiting for run.json took the set as
// whole. Each directory's markers (the split's index.csv, summary.json,
// run.json last) go after every other file under it, and the output's
// run.json last of all.
func TestUploadMarkersLast(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	backend := s3mem.New()
	if err := backend.CreateBucket("reports"); err != nil {
		t.Fatal(err)
	}
	fake := gofakes3.New(backend).Server()
	var mu sync.Mutex
	var keys []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPut {
			mu.Lock()
			keys = append(keys, strings.TrimPrefix(r.URL.Path, "/reports/w/"))
			mu.Unlock()
		}
		fake.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
	list := writeFile(t, "fleet.csv", "instance_id,owner\ni-0123456789abcdef0,alice\ni-0123456789abcdef1,bob\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--upload", "s3://reports/w/")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(keys) < 10 || keys[len(keys)-1] != audit.RunFile {
		t.Fatalf("keys put in the order %q, want run.json last", keys)
	}
	rank := map[string]int{report.SplitIndex: 1, report.SummaryFile: 2, audit.RunFile: 3}
	for i, k := range keys {
		dir, base := path.Split(k)
		if rank[base] == 0 {
			continue
		}
		for _, later := range keys[i+1:] {
			d, b := path.Split(later)
			if strings.HasPrefix(later, dir) && (d != dir || rank[b] <= rank[base]) {
				t.Errorf("%s put before %s, which it marks complete", k, later)
			}
		}
	}
}

// TestUploadLocationDecoded: the location said after an upload (and named
// in the mail) was --upload as given, %40 and %20 and all, while the keys
// it names are decoded: "uploaded 3 files to s3://reports/team%20reports/
// alice%40example.com/" of keys under "team reports/alice@example.com/".
func TestUploadLocationDecoded(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	serveS3(t, "reports")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out,
		"--fail-on", "none", "--upload", "s3://reports/team%20reports/alice%40example.com")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	if want := " to s3://reports/team reports/alice@example.com/"; !strings.Contains(got.stderr, want) || strings.Contains(got.stderr, "%40") {
		t.Errorf("stderr does not say %q, or says %%40:\n%s", want, got.stderr)
	}
}

// TestMailOfAnUploadSaysItDecoded: auditor mail of a run that uploaded
// named the location as --upload was given (s3://reports/alice%40example.com/),
// a prefix the bucket's console and the AWS CLI do not list, where the
// run's own mail named its keys' (s3://reports/alice@example.com/).
func TestMailOfAnUploadSaysItDecoded(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	serveS3(t, "reports")
	ms := newMailSetup(t, smtptest.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--fail-on", "none", "--upload", "s3://reports/team%20reports/alice%40example.com")
	if got.code != 0 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	got = runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if got.code != 0 {
		t.Fatalf("mail: exit %d\n%s", got.code, got.stderr)
	}
	text := textTo(t, ms, 0, "ops@example.com")
	if want := "s3://reports/team reports/alice@example.com/"; !strings.Contains(text, want) || strings.Contains(text, "%40") {
		t.Errorf("the mail does not name %q, or says %%40:\n%s", want, text)
	}
}
