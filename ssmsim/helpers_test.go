package ssmsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/ssmsim"
)

const (
	testKey    = "AKIDSSMSIMTEST"
	testSecret = "ssmsim-test-secret"
)

// start serves f with opts on loopback until the test ends.
func start(t *testing.T, f *ssmsim.Fleet, opts ssmsim.Options) (*ssmsim.Server, string) {
	t.Helper()
	s := ssmsim.NewServer(f, opts)
	url, stop, err := s.Start()
	if err != nil {
		t.Fatalf("starting server: %v", err)
	}
	t.Cleanup(stop)
	return s, url
}

// client returns a real SDK client for url that signs with key and does not
// retry, so that every error reaches the test. Its transport is
// ssmsim.BufferedTransport: without it, the SDK's request-body race fails a
// call now and then on a loaded machine (see BufferedTransport).
func client(url, key string) *ssm.Client {
	cfg := aws.Config{
		Region:           "us-east-1",
		Credentials:      credentials.NewStaticCredentialsProvider(key, testSecret, ""),
		RetryMaxAttempts: 1,
		HTTPClient:       &http.Client{Transport: ssmsim.BufferedTransport(nil)},
	}
	return ssm.NewFromConfig(cfg, func(o *ssm.Options) { o.BaseEndpoint = aws.String(url) })
}

// ctx returns a context that ends with the test, bounded in time.
func ctx(t *testing.T) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	t.Cleanup(cancel)
	return c
}

// fetchAll pages through id's associations with the SDK's paginator.
func fetchAll(t *testing.T, c *ssm.Client, id string, max *int32) ([]ssmsim.Association, int) {
	t.Helper()
	p := ssm.NewDescribeInstanceAssociationsStatusPaginator(c, &ssm.DescribeInstanceAssociationsStatusInput{
		InstanceId: aws.String(id), MaxResults: max,
	})
	var got []ssmsim.Association
	pages := 0
	for p.HasMorePages() {
		out, err := p.NextPage(ctx(t))
		if err != nil {
			t.Fatalf("page %d of %s: %v", pages+1, id, err)
		}
		pages++
		if max != nil && len(out.InstanceAssociationStatusInfos) > int(*max) {
			t.Fatalf("page %d of %s: %d items, more than MaxResults %d", pages, id, len(out.InstanceAssociationStatusInfos), *max)
		}
		for _, a := range out.InstanceAssociationStatusInfos {
			got = append(got, fromSDK(a))
		}
	}
	return got, pages
}

func fromSDK(a types.InstanceAssociationStatusInfo) ssmsim.Association {
	out := ssmsim.Association{
		AssociationID:      aws.ToString(a.AssociationId),
		Name:               aws.ToString(a.Name),
		DocumentVersion:    aws.ToString(a.DocumentVersion),
		AssociationVersion: aws.ToString(a.AssociationVersion),
		InstanceID:         aws.ToString(a.InstanceId),
		Status:             aws.ToString(a.Status),
		DetailedStatus:     aws.ToString(a.DetailedStatus),
		ExecutionSummary:   aws.ToString(a.ExecutionSummary),
		ErrorCode:          aws.ToString(a.ErrorCode),
		AssociationName:    aws.ToString(a.AssociationName),
	}
	if a.ExecutionDate != nil {
		out.ExecutionDate = *a.ExecutionDate
	}
	if a.OutputUrl != nil && a.OutputUrl.S3OutputUrl != nil {
		out.OutputURL = aws.ToString(a.OutputUrl.S3OutputUrl.OutputUrl)
	}
	return out
}

// sameAssociations compares field by field, dates to the millisecond (the
// wire's precision).
func sameAssociations(t *testing.T, got, want []ssmsim.Association) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("got %d associations, want %d", len(got), len(want))
	}
	for k := range want {
		if !got[k].ExecutionDate.Equal(want[k].ExecutionDate) {
			t.Errorf("association %d (%s): ExecutionDate %v, want %v", k, want[k].AssociationID, got[k].ExecutionDate, want[k].ExecutionDate)
		}
		g, w := got[k], want[k]
		g.ExecutionDate, w.ExecutionDate = time.Time{}, time.Time{}
		if g != w {
			t.Errorf("association %d:\n got %+v\nwant %+v", k, g, w)
		}
	}
}

// apiCode returns the error's API code, message and HTTP status, failing the
// test when err is not an API error.
func apiCode(t *testing.T, err error) (code, msg string, status int) {
	t.Helper()
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("error %v (%T) is not a smithy.APIError", err, err)
	}
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
	}
	return ae.ErrorCode(), ae.ErrorMessage(), status
}

// heavyID returns a managed instance with more than 100 associations.
func heavyID(t *testing.T, f *ssmsim.Fleet) string {
	t.Helper()
	for _, id := range f.ManagedIDs() {
		if len(f.Associations(id)) > 100 {
			return id
		}
	}
	t.Fatal("fleet has no instance with more than 100 associations")
	return ""
}

func unmanagedID(t *testing.T, f *ssmsim.Fleet) string {
	t.Helper()
	for _, id := range f.IDs() {
		if !f.Managed(id) {
			return id
		}
	}
	t.Fatal("fleet has no unmanaged ID")
	return ""
}

// rawResponse is an answer to a hand-made request.
type rawResponse struct {
	status int
	header http.Header
	body   []byte
	typ    string // __type
	msg    string // message or Message
}

// signTime is the X-Amz-Date of a request a test signs by hand, now (the
// server refuses a signature more than 5 minutes off its clock), and
// signDay the day of one, as the credential scope gives it.
func signTime() string { return time.Now().UTC().Format("20060102T150405Z") }

func signDay(amzDate string) string { return amzDate[:8] }

// signedHeaders is what a well-formed request carries; a test deletes or
// overrides entries to break it.
func signedHeaders(target string) map[string]string {
	at := signTime()
	return map[string]string{
		"Content-Type":  ssmsim.ContentType,
		"X-Amz-Target":  "AmazonSSM." + target,
		"X-Amz-Date":    at,
		"Authorization": "AWS4-HMAC-SHA256 Credential=" + testKey + "/" + signDay(at) + "/us-east-1/ssm/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + sig64,
	}
}

const sig64 = "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

// raw sends one request with exactly the given headers ("" values omitted).
func raw(t *testing.T, method, url, body string, headers map[string]string) rawResponse {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx(t), method, url, bytes.NewBufferString(body))
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		if v != "" {
			req.Header.Set(k, v)
		}
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("reading answer: %v", err)
	}
	r := rawResponse{status: resp.StatusCode, header: resp.Header, body: b}
	var e struct {
		Type    string  `json:"__type"`
		Lower   *string `json:"message"`
		Capital *string `json:"Message"`
	}
	if json.Unmarshal(b, &e) == nil {
		r.typ = e.Type
		switch {
		case e.Lower != nil:
			r.msg = *e.Lower
		case e.Capital != nil:
			r.msg = *e.Capital
		}
	}
	return r
}
