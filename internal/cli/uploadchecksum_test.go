package cli

import (
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestUploadWithChecksumsWhenRequired: AWS_REQUEST_CHECKSUM_CALCULATION=
// when_required, or request_checksum_calculation in the profile, is how an
// S3-compatible store (MinIO, Ceph, an older appliance) that refuses the
// SDK's checksum headers is written to. --upload sent them anyway (the
// transfer manager put its own default over the client's), and such a
// store refused every upload, exit 5. The setting is the upload's, and
// without it the checksums are sent as the SDK sends them.
func TestUploadWithChecksumsWhenRequired(t *testing.T) {
	tests := []struct {
		name    string
		env     string // AWS_REQUEST_CHECKSUM_CALCULATION
		profile string // the config file's [default]
		want    bool   // checksum headers on every PUT
	}{
		{name: "the SDK's default", want: true},
		{name: "when_required in the environment", env: "when_required", want: false},
		{name: "when_required in the profile", profile: "request_checksum_calculation = when_required\n", want: false},
		{name: "when_supported in the environment", env: "when_supported", want: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t, "AKIATESTTESTTESTTEST")
			t.Setenv("AWS_REQUEST_CHECKSUM_CALCULATION", tt.env)
			if tt.profile != "" {
				t.Setenv("AWS_CONFIG_FILE", writeFile(t, "config", "[default]\n"+tt.profile))
			}
			url, _ := serve(t, handFleet(true), ssmsim.Options{})
			var mu sync.Mutex
			puts := map[string][]string{} // key: its checksum headers
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if r.Method != http.MethodPut {
					w.WriteHeader(http.StatusNotImplemented)
					return
				}
				var got []string
				for k := range r.Header {
					if strings.HasPrefix(k, "X-Amz-Checksum-") || k == "X-Amz-Sdk-Checksum-Algorithm" || k == "X-Amz-Trailer" {
						got = append(got, k)
					}
				}
				slices.Sort(got)
				mu.Lock()
				puts[r.URL.Path] = got
				mu.Unlock()
				w.Header().Set("ETag", `"abc"`)
			}))
			t.Cleanup(srv.Close)
			t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
			ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--fail-on", "none", "--upload", "s3://reports/r/")
			if got.code != int(exitOK) {
				t.Fatalf("exit %d, want %d\n%s", got.code, exitOK, got.stderr)
			}
			mu.Lock()
			defer mu.Unlock()
			if _, ok := puts["/reports/r/report.html"]; !ok {
				t.Fatalf("put %d objects, none of them report.html", len(puts))
			}
			for key, h := range puts {
				if tt.want && len(h) == 0 {
					t.Errorf("PUT %s: no checksum header, want one", key)
				}
				if !tt.want && len(h) > 0 {
					t.Errorf("PUT %s: checksum headers %q, want none", key, h)
				}
			}
		})
	}
}
