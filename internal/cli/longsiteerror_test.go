package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestSiteFailureCut: an endpoint refused discovery with a message of
// 100,000 characters, and run.json held it whole, as did the line on
// stderr that ended the run ("no account-region could be audited: ..."),
// where the service's words are one line of at most 500 characters. A
// site's failure is cut as an answer's fields are, and its message on
// stderr as the service's words are.
func TestSiteFailureCut(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	long := strings.Repeat("v", 100_004)
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", "11111111-2222-3333-4444-555555555555")
		w.WriteHeader(http.StatusBadRequest)
		io.WriteString(w, `{"__type":"ValidationException","message":"`+long+`"}`)
	}))
	defer endpoint.Close()
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", "run", "--discover", "--endpoint-url", endpoint.URL, "--region", "us-east-1",
		"--out", out, "--max-attempts", "1")
	if !strings.Contains(got.stderr, "no account-region could be audited") {
		t.Fatalf("exit %d, want the run ended for no account-region audited:\n%.3000s", got.code, got.stderr)
	}
	for _, line := range strings.Split(got.stderr, "\n") {
		if len(line) > 1000 {
			t.Errorf("a stderr line of %d characters, want the service's words cut to 500: %.200q", len(line), line)
		}
	}
	b, err := os.ReadFile(filepath.Join(out, "run.json"))
	if err != nil {
		t.Fatal(err)
	}
	if len(b) > 64<<10 || !strings.Contains(string(b), "[cut: ") {
		t.Errorf("run.json of %d bytes, want the failure's message cut to 4 KiB, saying so: %.300s", len(b), b)
	}
}
