package audit_test

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"syscall"
	"testing"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/auditor-dev/auditor/audit"
)

// answered is the error the SDK returns for an answer of status (with
// that Content-Type, when not empty) whose reading ended in err: an
// OperationError of SSM's around the ResponseError that carries the
// response. Status 0 is the SDK's own for a request that got no response.
func answered(status int, contentType string, err error) error {
	h := http.Header{}
	if contentType != "" {
		h.Set("Content-Type", contentType)
	}
	return &smithy.OperationError{ServiceID: "SSM", OperationName: "DescribeInstanceAssociationsStatus",
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: h}},
			Err:      err,
		}}}
}

// TestClassify: the code and message a Result records for an error. An
// answer that came but could not be read (an HTML page from a proxy, a
// body cut short, an error without a type) was recorded as Transport,
// which says that no answer came at all: an operator looking for a
// network fault behind it would look in the wrong place. It is
// BadResponse, with the status and the content type in the message;
// Transport stays for calls that got no answer.
func TestClassify(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	html := &smithy.DeserializationError{Err: fmt.Errorf("failed to decode response body, %w", fmt.Errorf("invalid character '<' looking for beginning of value"))}
	tests := []struct {
		name     string
		err      error
		wantCode string
		wantMsg  []string // what the message must say
	}{
		{"the service's error", answered(400, "application/x-amz-json-1.1", &smithy.GenericAPIError{Code: "InvalidInstanceId", Message: "not managed"}),
			"InvalidInstanceId", []string{"not managed"}},
		{"the service's server error", answered(500, "application/x-amz-json-1.1", &smithy.GenericAPIError{Code: "InternalServerError", Message: "oops"}),
			"InternalServerError", []string{"oops"}},
		{"a proxy's HTML page", answered(403, "text/html; charset=utf-8", html),
			audit.CodeBadResponse, []string{"HTTP 403", "text/html", "not SSM's", "invalid character '<'"}},
		{"a load balancer's 502 page", answered(502, "text/html", html),
			audit.CodeBadResponse, []string{"HTTP 502", "text/html"}},
		{"a success cut short", answered(200, "application/x-amz-json-1.1", &smithy.DeserializationError{Err: io.ErrUnexpectedEOF}),
			audit.CodeBadResponse, []string{"HTTP 200", "unexpected EOF"}},
		{"an error without a type", answered(403, "application/json", &smithy.GenericAPIError{Code: "UnknownError", Message: "Forbidden"}),
			audit.CodeBadResponse, []string{"HTTP 403", "application/json", "Forbidden"}},
		{"no content type", answered(404, "", html),
			audit.CodeBadResponse, []string{"HTTP 404"}},
		{"no response at all", answered(0, "", &smithyhttp.RequestSendError{Err: refused}),
			audit.CodeTransport, []string{"connection refused"}},
		{"connection refused", &smithy.OperationError{ServiceID: "SSM", OperationName: "DescribeInstanceAssociationsStatus", Err: refused},
			audit.CodeTransport, []string{"connection refused"}},
		{"timed out", context.DeadlineExceeded, audit.CodeTransport, []string{"deadline exceeded"}},
		{"a role STS refused", &audit.CredentialsError{Source: "assumed role", AccountID: "111122223333", Code: "AccessDenied", Message: "not authorized"},
			"AccessDenied", []string{"not authorized"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, msg := audit.Classify(tt.err)
			if code != tt.wantCode {
				t.Errorf("code %q (%q), want %q", code, msg, tt.wantCode)
			}
			for _, w := range tt.wantMsg {
				if !strings.Contains(msg, w) {
					t.Errorf("message %q: want it to say %q", msg, w)
				}
			}
		})
	}
}
