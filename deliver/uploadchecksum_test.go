package deliver_test

import (
	"context"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/auditor-dev/auditor/deliver"
)

// checksumHeaders are the headers of r that send or announce a checksum of
// the body: an S3-compatible store that does not know them refuses the
// request.
func checksumHeaders(r s3Request) []string {
	var out []string
	for k := range r.header {
		k = http.CanonicalHeaderKey(k)
		if strings.HasPrefix(k, "X-Amz-Checksum-") || k == "X-Amz-Sdk-Checksum-Algorithm" || k == "X-Amz-Trailer" {
			out = append(out, k)
		}
	}
	slices.Sort(out)
	return out
}

// TestUploadTakesTheClientsChecksumSetting: the transfer manager puts its
// own request checksum setting (when_supported unless told) on every call,
// over the client's, so that AWS_REQUEST_CHECKSUM_CALCULATION=when_required
// (or request_checksum_calculation in the profile), the usual cure for an
// S3-compatible store that refuses the checksum headers, was ignored: every
// PUT carried a CRC32 and such a store refused every upload. The client's
// setting is the upload's, both ways.
func TestUploadTakesTheClientsChecksumSetting(t *testing.T) {
	dir := t.TempDir()
	files := []string{writeFile(t, dir, "report.html", 30_000)}
	if !testing.Short() {
		files = append(files, writeFile(t, dir, "associations.csv", deliver.MinPartSize+1)) // two parts
	}
	tests := []struct {
		name    string
		setting aws.RequestChecksumCalculation
		want    bool // checksum headers on every write
	}{
		{"when supported (the default)", aws.RequestChecksumCalculationWhenSupported, true},
		{"when required", aws.RequestChecksumCalculationWhenRequired, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeS3(t, "reports")
			client := s3.New(f.client.Options(), func(o *s3.Options) { o.RequestChecksumCalculation = tt.setting })
			if _, err := deliver.Upload(context.Background(), client, "s3://reports/r/", files, deliver.UploadOptions{PartSize: deliver.MinPartSize}); err != nil {
				t.Fatal(err)
			}
			n := 0
			for _, r := range f.requests() {
				got := checksumHeaders(r)
				if !tt.want && len(got) > 0 {
					t.Errorf("%s %s?%s: checksum headers %q, want none (the client's setting is %s)", r.method, r.path, r.query, got, tt.name)
				}
				if r.method != http.MethodPut {
					continue // the start and end of a multipart upload send no body
				}
				n++
				if tt.want && len(got) == 0 {
					t.Errorf("%s %s?%s: no checksum header, want one (the client's setting is %s)", r.method, r.path, r.query, tt.name)
				}
			}
			if want := 1 + 2*(len(files)-1); n != want {
				t.Errorf("%d PUTs, want %d", n, want)
			}
		})
	}
}
