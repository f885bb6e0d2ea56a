package cli

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// regionalS3 is an S3 fake of one bucket, "reports", in one region, as
// AWS's S3 answers: a request signed for another region is refused with
// 301 PermanentRedirect, its x-amz-bucket-region header naming the
// bucket's region (an S3-compatible store sends none).
type regionalS3 struct {
	home   string // the bucket's region
	names  string // the region the header names: home when empty; "-" for no header
	refuse string // the error code of every request in home; "" takes them

	mu     sync.Mutex
	signed []string // the region each request was signed for, in order
	keys   []string // the keys put
}

var credentialScope = regexp.MustCompile(`Credential=[^/]+/[0-9]+/([^/]+)/`)

func (s *regionalS3) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	region := "-"
	if m := credentialScope.FindStringSubmatch(r.Header.Get("Authorization")); m != nil {
		region = m[1]
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.signed = append(s.signed, region)
	names := s.names
	if names == "" {
		names = s.home
	}
	if names != "-" {
		w.Header().Set("X-Amz-Bucket-Region", names)
	}
	fail := func(status int, code, msg string) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(status)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><Bucket>reports</Bucket><RequestId>R</RequestId><HostId>H</HostId></Error>`, code, msg)
	}
	switch {
	case region != s.home:
		fail(http.StatusMovedPermanently, "PermanentRedirect", "The bucket you are attempting to access must be addressed using the specified endpoint. Please send all future requests to this endpoint.")
	case s.refuse != "":
		fail(http.StatusForbidden, s.refuse, "Access Denied")
	case r.Method == http.MethodPut && strings.HasPrefix(r.URL.Path, "/reports/"):
		s.keys = append(s.keys, strings.TrimPrefix(r.URL.Path, "/reports/"))
		w.Header().Set("ETag", `"abc"`)
	default:
		fail(http.StatusBadRequest, "NotImplemented", "not a call of an upload")
	}
}

// serveRegionalS3 serves s and points the run's S3 client at it.
func serveRegionalS3(t *testing.T, s *regionalS3) *regionalS3 {
	t.Helper()
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
	return s
}

// uploadCommand is the AWS CLI command that stderr says uploads again.
func uploadCommand(t *testing.T, stderr string) []string {
	t.Helper()
	for _, l := range strings.Split(stderr, "\n") {
		if _, h, ok := strings.Cut(l, "once fixed, deliver them with: "); ok && strings.HasPrefix(h, "aws ") {
			args, err := shellWords(h)
			if err != nil {
				t.Fatalf("%q: %v", h, err)
			}
			return args
		}
	}
	t.Fatalf("no aws command on stderr:\n%s", stderr)
	return nil
}

// flagValue is the value of the last --name in args, "" without one.
func flagValue(args []string, name string) string {
	v := ""
	for i, a := range args {
		if a == name && i+1 < len(args) {
			v = args[i+1]
		}
	}
	return v
}

// TestUploadToABucketInAnotherRegion: a bucket in another region than
// --region (a central compliance bucket, one region for every run) is
// uploaded to in its own region, which S3 names when it refuses the first
// request, as the AWS CLI does: the upload failed with exit 5 and S3's
// PermanentRedirect, without naming the region, and run has no other flag
// for the upload's region. A region S3 does not name (an S3-compatible
// store sends no header), or names wrong, is not guessed at.
func TestUploadToABucketInAnotherRegion(t *testing.T) {
	tests := []struct {
		name       string
		s3         *regionalS3
		want       exitCode
		wantSigned []string // the regions of the requests, the last repeated
		wantInErr  []string
		wantRegion string // the --region of the command that uploads again
	}{
		{name: "named by S3", s3: &regionalS3{home: "eu-west-1"}, want: exitOK,
			wantSigned: []string{"us-east-1", "eu-west-1"}},
		{name: "in its own region already", s3: &regionalS3{home: "us-east-1"}, want: exitOK,
			wantSigned: []string{"us-east-1"}},
		{name: "refused in its own region", s3: &regionalS3{home: "eu-west-1", refuse: "AccessDenied"}, want: exitDelivery,
			wantSigned: []string{"us-east-1", "eu-west-1"}, wantInErr: []string{"AccessDenied", "the bucket is in eu-west-1"}, wantRegion: "eu-west-1"},
		{name: "no header", s3: &regionalS3{home: "eu-west-1", names: "-"}, want: exitDelivery,
			wantSigned: []string{"us-east-1"}, wantInErr: []string{"PermanentRedirect"}, wantRegion: "us-east-1"},
		{name: "a header that is no region", s3: &regionalS3{home: "eu-west-1", names: "eu-west-1.attacker.example"}, want: exitDelivery,
			wantSigned: []string{"us-east-1"}, wantInErr: []string{"PermanentRedirect"}, wantRegion: "us-east-1"},
		{name: "sent on again", s3: &regionalS3{home: "ap-south-1", names: "eu-west-1"}, want: exitDelivery,
			wantSigned: []string{"us-east-1", "eu-west-1"}, wantInErr: []string{"PermanentRedirect"}, wantRegion: "eu-west-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t, "AKIATESTTESTTESTTEST")
			url, _ := serve(t, handFleet(true), ssmsim.Options{})
			s3 := serveRegionalS3(t, tt.s3)
			ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--fail-on", "none", "--upload", "s3://reports/r/")
			if got.code != int(tt.want) {
				t.Fatalf("exit %d, want %d\n%s", got.code, tt.want, got.stderr)
			}
			s3.mu.Lock()
			signed := slices.Compact(slices.Clone(s3.signed))
			keys := slices.Clone(s3.keys)
			s3.mu.Unlock()
			if !slices.Equal(signed, tt.wantSigned) {
				t.Errorf("requests signed for %q, want %q", s3.signed, tt.wantSigned)
			}
			for _, w := range tt.wantInErr {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%s", w, got.stderr)
				}
			}
			if tt.want == exitOK {
				written := strings.Fields(got.stdout)
				if len(keys) != len(written) || !slices.Contains(keys, "r/report.html") {
					t.Errorf("put %q, want the %d files written, report.html among them", keys, len(written))
				}
				return
			}
			if len(keys) != 0 {
				t.Errorf("put %q, want nothing", keys)
			}
			if r := flagValue(uploadCommand(t, got.stderr), "--region"); r != tt.wantRegion {
				t.Errorf("the command that uploads again has --region %q, want %q\n%s", r, tt.wantRegion, got.stderr)
			}
		})
	}
}
