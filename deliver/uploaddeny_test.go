package deliver_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/auditor-dev/auditor/deliver"
)

// denyMessage is the <Message> of AWS's 403 for a policy's deny: its
// reason is at its end.
const denyMessage = `User: arn:aws:sts::111122223333:assumed-role/auditor-batch-job-role/i-0123456789abcdef0 is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::central-compliance-reports/auditor/weekly/2026-01-05/report.html" with an explicit deny in a resource-based policy`

// TestUploadDenyKeepsItsReason: the whole SDK error was cut at 300
// characters, and "operation error ..., RequestID, HostID" took so many of
// them that a policy's reason ("with an explicit deny in a resource-based
// policy") was cut off. S3's code and message are kept whole (cut alone),
// with the request ID and without the HostID, and a 403 says what a bucket
// policy may require, and the owner asked for.
func TestUploadDenyKeepsItsReason(t *testing.T) {
	const hostID = "Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4Zm9vYmFyYmF6cXV4=="
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.Header().Set("X-Amz-Request-Id", "4442587FB7D0A2F9")
		w.Header().Set("X-Amz-Id-2", hostID)
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>%s</Message><RequestId>4442587FB7D0A2F9</RequestId><HostId>%s</HostId></Error>`, denyMessage, hostID)
	}))
	t.Cleanup(srv.Close)
	client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	file := writeFile(t, t.TempDir(), "report.html", 10)
	for _, tt := range []struct {
		name    string
		opts    deliver.UploadOptions
		want    []string
		wantNot []string
	}{
		{name: "no owner asked", want: []string{"with an explicit deny in a resource-based policy", "4442587FB7D0A2F9", "bucket policy"}, wantNot: []string{hostID, "not owned by"}},
		{name: "owner asked", opts: deliver.UploadOptions{ExpectedBucketOwner: "444455556666"},
			want: []string{"with an explicit deny in a resource-based policy", "4442587FB7D0A2F9", "bucket policy", "not owned by 444455556666"}, wantNot: []string{hostID}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := deliver.Upload(context.Background(), client, "s3://central-compliance-reports/auditor/weekly/2026-01-05/", []string{file}, tt.opts)
			saysOnly(t, err, tt.want, tt.wantNot)
		})
	}
}

// TestS3URLWithAnARN: an access point's ARN as the bucket was refused as
// `invalid port ":accesspoint" after host`, which said nothing of what to
// give instead. It says that ARNs are not taken, and to give the access
// point's alias, which S3 takes where a bucket name goes.
func TestS3URLWithAnARN(t *testing.T) {
	for _, u := range []string{
		"s3://arn:aws:s3:us-east-1:111122223333:accesspoint/reports/auditor/",
		"s3://arn:aws:s3:us-east-1:111122223333:accesspoint/reports",
		"S3://ARN:aws-us-gov:s3-outposts:us-gov-west-1:111122223333:outpost/op-01/accesspoint/ap/x/",
	} {
		_, _, err := deliver.ParseS3URL(u)
		if err == nil || !strings.Contains(err.Error(), "ARN") || !strings.Contains(err.Error(), "alias") || strings.Contains(err.Error(), "invalid port") {
			t.Errorf("ParseS3URL(%q) = %v, want a refusal of the ARN that says to give the access point's alias", u, err)
		}
	}
	if b, p, err := deliver.ParseS3URL("s3://reports-ab12cd34ef56gh78ij90klmnopqrsus-east-1a-s3alias/auditor/"); err != nil || b != "reports-ab12cd34ef56gh78ij90klmnopqrsus-east-1a-s3alias" || p != "auditor/" {
		t.Errorf("ParseS3URL of an access point's alias = %q, %q, %v; want it taken", b, p, err)
	}
}

// TestUploadRefusalHints: every 403 was told to check the bucket policy,
// a key that does not match its secret or a clock S3 refuses as much; the
// hint named what the run had already asked for (the ACL, SSE-KMS); and a
// deny of a long key (a split's group, 64 hex characters) lost its
// reason, at the end of a message cut at its end.
func TestUploadRefusalHints(t *testing.T) {
	longKey := "auditor/platform-engineering/weekly/20261205T031500Z/by-tag-team-0a1b2c3d/" + strings.Repeat("0123456789abcdef", 4) + "/report.html"
	longDeny := `User: arn:aws:sts::111122223333:assumed-role/auditor-batch-job-role/i-0123456789abcdef0 is not authorized to perform: s3:PutObject on resource: "arn:aws:s3:::central-compliance-reports/` + longKey + `" with an explicit deny in a resource-based policy`
	for _, tt := range []struct {
		name, code, message string
		opts                deliver.UploadOptions
		want, wantNot       []string
	}{
		{name: "a deny of a long key", code: "AccessDenied", message: longDeny,
			want: []string{"with an explicit deny in a resource-based policy", "bucket policy"}},
		{name: "what the run asked for", code: "AccessDenied", message: denyMessage, opts: deliver.UploadOptions{SSE: deliver.SSEKMS, KMSKeyID: "alias/reports", ACL: "bucket-owner-full-control"},
			want: []string{"bucket policy", "key policy"}, wantNot: []string{"--upload-acl", "--upload-sse"}},
		{name: "a key that does not match", code: "SignatureDoesNotMatch", message: "The request signature we calculated does not match the signature you provided. Check your key and signing method.",
			want: []string{"credentials"}, wantNot: []string{"bucket policy"}},
		{name: "a key not known", code: "InvalidAccessKeyId", message: "The AWS Access Key Id you provided does not exist in our records.",
			want: []string{"credentials"}, wantNot: []string{"bucket policy"}},
		{name: "a clock", code: "RequestTimeTooSkewed", message: "The difference between the request time and the current time is too large.",
			want: []string{"clock"}, wantNot: []string{"bucket policy"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/xml")
				w.Header().Set("X-Amz-Request-Id", "4442587FB7D0A2F9")
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>%s</Code><Message>%s</Message><RequestId>4442587FB7D0A2F9</RequestId></Error>`, tt.code, tt.message)
			}))
			t.Cleanup(srv.Close)
			client := s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL), UsePathStyle: true, RetryMaxAttempts: 1,
				Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
			file := writeFile(t, t.TempDir(), "report.html", 10)
			_, err := deliver.Upload(context.Background(), client, "s3://central-compliance-reports/auditor/", []string{file}, tt.opts)
			saysOnly(t, err, tt.want, tt.wantNot)
		})
	}
}

// saysOnly fails the test unless err is an error whose text holds each of
// want and none of wantNot.
func saysOnly(t *testing.T, err error, want, wantNot []string) {
	t.Helper()
	if err == nil {
		t.Fatal("Upload: no error")
	}
	msg := err.Error()
	for _, s := range want {
		if !strings.Contains(msg, s) {
			t.Errorf("Upload = %q, want %q in it", msg, s)
		}
	}
	for _, s := range wantNot {
		if strings.Contains(msg, s) {
			t.Errorf("Upload = %q, want no %q in it", msg, s)
		}
	}
}
