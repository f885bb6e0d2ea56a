package audit_test

import (
	"errors"
	"fmt"
	"net/http"
	"sort"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/awsconn"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// httpError wraps err as the SDK does for an answer with that HTTP status.
func httpError(status int, err error) error {
	return &smithy.OperationError{ServiceID: "SSM", OperationName: "DescribeInstanceAssociationsStatus",
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}}, Err: err}}}
}

func TestIsThrottle(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"ThrottlingException, as SSM sends it", httpError(400, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}), true},
		{"ThrottledException, missing from the old hand-kept list", httpError(400, &smithy.GenericAPIError{Code: "ThrottledException"}), true},
		{"RequestThrottledException", httpError(400, &smithy.GenericAPIError{Code: "RequestThrottledException"}), true},
		{"HTTP 429 without a modeled error", httpError(429, &smithy.GenericAPIError{Code: "SomethingElse"}), true},
		{"HTTP 429 with a modeled error that is no throttle", httpError(429, &types.InvalidInstanceId{}), false},
		{"InvalidInstanceId", httpError(400, &types.InvalidInstanceId{}), false},
		{"AccessDeniedException", httpError(400, &smithy.GenericAPIError{Code: "AccessDeniedException"}), false},
		{"InternalServerError", httpError(500, &smithy.GenericAPIError{Code: "InternalServerError"}), false},
		{"no answer", errors.New("connection refused"), false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := audit.IsThrottle(tc.err); got != tc.want {
				t.Errorf("IsThrottle(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}

// TestEveryRetriedThrottleReachesTheLimiter: every error code the SDK
// counts as a throttle is retried by the auditor's retryer and classified
// as a throttle for the Limiter, so that no throttle is retried unseen.
func TestEveryRetriedThrottleReachesTheLimiter(t *testing.T) {
	retryer := awsconn.NewRetryer(8)()
	codes := make([]string, 0, len(retry.DefaultThrottleErrorCodes))
	for code := range retry.DefaultThrottleErrorCodes {
		codes = append(codes, code)
	}
	sort.Strings(codes)
	if len(codes) < 10 {
		t.Fatalf("only %d throttle codes in the SDK: %v", len(codes), codes)
	}
	for _, code := range codes {
		err := httpError(400, &smithy.GenericAPIError{Code: code})
		if !retryer.IsErrorRetryable(err) {
			t.Errorf("%s: not retried", code)
		}
		if !audit.IsThrottle(err) {
			t.Errorf("%s: retried, but not a throttle for the Limiter", code)
		}
	}
	t.Log(fmt.Sprint(len(codes), " codes: ", codes))
}

// TestPassedLimit: the service's own errors went through the rate limit
// (the Limiter counts them as it does a success); a throttle, a 5xx, an
// answer not in the protocol or none at all did not, or cannot tell.
func TestPassedLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		want bool
	}{
		{"InvalidInstanceId", httpError(400, &types.InvalidInstanceId{}), true},
		{"AccessDeniedException", httpError(400, &smithy.GenericAPIError{Code: "AccessDeniedException"}), true},
		{"ThrottlingException", httpError(400, &smithy.GenericAPIError{Code: "ThrottlingException", Message: "Rate exceeded"}), false},
		{"HTTP 429 without a modeled error", httpError(429, &smithy.GenericAPIError{Code: "SomethingElse"}), false},
		{"InternalServerError", httpError(500, &smithy.GenericAPIError{Code: "InternalServerError"}), false},
		{"HTTP 503", httpError(503, &smithy.GenericAPIError{Code: "ServiceUnavailable"}), false},
		{"a proxy's page", httpError(403, &smithy.GenericAPIError{Code: "UnknownError"}), false},
		{"no answer", errors.New("connection refused"), false},
		{"none", nil, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := audit.PassedLimit(tc.err); got != tc.want {
				t.Errorf("PassedLimit(%v) = %v, want %v", tc.err, got, tc.want)
			}
		})
	}
}
