package cli

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// TestRedirectNotFollowed: an endpoint that answers with a redirect (a
// captive portal, a load balancer sending to its login page, a hostile
// endpoint) sent the call on to wherever it pointed, with its signature,
// the session token and the body: AWS never redirects an API call, and a
// call that is redirected is an answer not in its protocol, told as such.
func TestRedirectNotFollowed(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_SESSION_TOKEN", "session-token-secret")
	var mu sync.Mutex
	var reached []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		reached = append(reached, r.Method+" "+r.URL.Path+" "+r.Header.Get("X-Amz-Security-Token")+" "+r.Header.Get("Authorization"))
		mu.Unlock()
		w.Header().Set("Content-Type", "text/html")
		w.Write([]byte("<html>login</html>"))
	}))
	defer other.Close()
	for _, status := range []int{http.StatusFound, http.StatusTemporaryRedirect} {
		t.Run(http.StatusText(status), func(t *testing.T) {
			mu.Lock()
			reached = nil
			mu.Unlock()
			endpoint := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				http.Redirect(w, r, other.URL+"/portal", status)
			}))
			defer endpoint.Close()
			ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
			got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", endpoint.URL, "--region", "us-east-1",
				"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1")
			mu.Lock()
			defer mu.Unlock()
			if len(reached) > 0 {
				t.Errorf("the call was sent on to the redirect's target: %q", reached)
			}
			if got.code == int(exitOK) || !strings.Contains(got.stderr, "a redirect (not followed)") {
				t.Errorf("exit %d; stderr does not say the endpoint answered with a redirect:\n%s", got.code, got.stderr)
			}
		})
	}
}
