package deliver_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver"
)

// refusingProxy is an HTTP client as awsconn's is behind a proxy that
// will not open the tunnel: every request fails with the proxy's refusal.
type refusingProxy struct{}

func (refusingProxy) Do(r *http.Request) (*http.Response, error) {
	return nil, &url.Error{Op: r.Method, URL: r.URL.String(), Err: &audit.ProxyRefusedError{Proxy: "10.0.0.5:3128", Status: http.StatusProxyAuthRequired}}
}

// TestUploadThroughARefusingProxy: an upload through a proxy that refused
// to connect said the SDK's chain ("operation error S3: PutObject,
// exceeded maximum number of attempts, ... StatusCode: 0, ..."), where a
// run's calls to SSM name the proxy and the variables to check. The
// upload's error says so too.
func TestUploadThroughARefusingProxy(t *testing.T) {
	client := s3.New(s3.Options{Region: "eu-west-1", RetryMaxAttempts: 1, HTTPClient: refusingProxy{},
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""), BaseEndpoint: aws.String("https://s3.eu-west-1.amazonaws.com")})
	file := writeFile(t, t.TempDir(), "report.html", 10)
	_, err := deliver.Upload(context.Background(), client, "s3://central-compliance-reports/auditor/", []string{file}, deliver.UploadOptions{})
	saysOnly(t, err, []string{"S3 PutObject: cannot reach https://", "through the proxy 10.0.0.5:3128: the proxy refused to connect: 407 Proxy Authentication Required",
		"check HTTPS_PROXY (the proxy) and NO_PROXY (the hosts reached without it)"}, []string{"operation error", "StatusCode"})
}
