package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestAnswerTooLargeRefused: an endpoint that answers with a body of
// hundreds of megabytes (a typo'd --endpoint-url pointing at another
// server, a gzip bomb, a body that never ends) was read whole into memory:
// one instance was enough to kill a run for want of memory, exit 2, read
// as a usage error. An answer is read up to a bound far over any of
// SSM's, and one over it is an answer not in the service's protocol.
func TestAnswerTooLargeRefused(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	var served atomic.Int64
	endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Header().Set("X-Amzn-Requestid", "11111111-2222-3333-4444-555555555555")
		// A valid answer whose one field never ends: 64 MiB of it.
		io.WriteString(w, `{"InstanceAssociationStatusInfos":[{"AssociationId":"a","Name":"`)
		chunk := strings.Repeat("x", 1<<20)
		for range 64 {
			n, err := io.WriteString(w, chunk)
			served.Add(int64(n))
			if err != nil {
				return
			}
		}
		io.WriteString(w, `","Status":"Success"}]}`)
	}))
	defer endpoint.Close()
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", endpoint.URL, "--region", "us-east-1",
		"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1")
	if got.code != int(exitIncomplete) || !strings.Contains(got.stderr, "BadResponse") || !strings.Contains(got.stderr, "larger than 16 MiB") {
		t.Errorf("exit %d, want %d with the instance in error as an answer larger than the bound:\n%.3000s", got.code, exitIncomplete, got.stderr)
	}
	// The SDK drains a body it closes: a body that went on failing made
	// it warn of a connection it could not reuse, after every such answer.
	if strings.Contains(got.stderr, "failed to discard") {
		t.Errorf("an SDK warning of the body left unread:\n%.3000s", got.stderr)
	}
	if n := served.Load(); n >= 64<<20 {
		t.Errorf("the whole %d bytes were read", n)
	}
}
