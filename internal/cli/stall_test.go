package cli

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// stallTimeout is the --timeout of a run that a stallable endpoint stops
// part-way: long enough for the run's start (the credentials, --out, a
// baseline read) on a loaded machine under -race, which took more than
// the 500 ms the tests once gave the whole run, so that the timeout finds
// the run at the stall, not before its first call.
const stallTimeout = 3 * time.Second

// stallable is a simulated endpoint whose calls for instances'
// associations can be made to wait until their caller gives up: a run
// stopped by --timeout (stallTimeout) then stops with the same calls
// answered however busy the machine is, where a latency raced the timer
// and, on a loaded machine, lost before the first call.
type stallable struct {
	*ssmsim.Server
	calls, from atomic.Int64
}

// StallFrom makes the nth call for an instance's associations from now
// on, and every one after it, wait until its caller gives up; 0 answers
// them all again.
func (s *stallable) StallFrom(n int64) {
	s.from.Store(0)
	s.calls.Store(0)
	s.from.Store(n)
}

// serveStallable serves f as serve does, through a stallable endpoint.
func serveStallable(t *testing.T, f *ssmsim.Fleet, opts ssmsim.Options) (string, *stallable) {
	t.Helper()
	s := &stallable{Server: ssmsim.NewServer(f, opts)}
	done := make(chan struct{})
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), "."+ssmsim.OpDescribeInstanceAssociationsStatus) {
			if n := s.from.Load(); n > 0 && s.calls.Add(1) >= n {
				select {
				case <-r.Context().Done():
				case <-done:
				}
				return
			}
		}
		s.ServeHTTP(w, r)
	}))
	t.Cleanup(hs.Close)
	t.Cleanup(func() { close(done) }) // first: a call left stalled ends
	t.Setenv("AWS_ENDPOINT_URL_STS", hs.URL)
	return hs.URL, s
}
