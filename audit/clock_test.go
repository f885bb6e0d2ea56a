package audit_test

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/auditor-dev/auditor/audit"
)

// refusal is a service's error answer to a request signed at signed,
// dated answered by the service.
func refusal(code string, signed, answered time.Time) error {
	req, _ := http.NewRequest("POST", "https://ssm.us-east-1.amazonaws.com/", nil)
	if !signed.IsZero() {
		req.Header.Set("X-Amz-Date", signed.UTC().Format("20060102T150405Z"))
	}
	resp := &http.Response{StatusCode: 400, Header: http.Header{}, Request: req}
	if !answered.IsZero() {
		resp.Header.Set("Date", answered.UTC().Format(http.TimeFormat))
	}
	return &smithy.OperationError{ServiceID: "EC2", OperationName: "DescribeTags", Err: &awshttp.ResponseError{
		ResponseError: &smithyhttp.ResponseError{Response: &smithyhttp.Response{Response: resp},
			Err: &smithy.GenericAPIError{Code: code, Message: "Request has expired."}}}}
}

// TestClockOff: a refusal is the clock's when its code may say so and the
// answer's Date is more than 4 minutes from the request's signing time,
// either way; not for a code of something else, nor within 4 minutes
// (the SDKs' threshold), nor without both times.
func TestClockOff(t *testing.T) {
	at := time.Date(2026, 12, 5, 3, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name     string
		err      error
		want     time.Duration
		wantHint string
	}{
		{"EC2 20 minutes behind", refusal("RequestExpired", at, at.Add(20*time.Minute)), 20 * time.Minute, "20 minutes behind AWS's"},
		{"SSM 2 hours ahead", refusal("InvalidSignatureException", at, at.Add(-2*time.Hour)), -2 * time.Hour, "2 hours ahead of AWS's"},
		{"STS 3 days behind", refusal("SignatureDoesNotMatch", at, at.Add(73*time.Hour)), 73 * time.Hour, "3 days behind AWS's"},
		{"within 4 minutes", refusal("RequestExpired", at, at.Add(4*time.Minute)), 0, ""},
		{"expired credentials", refusal("ExpiredTokenException", at, at.Add(time.Hour)), 0, ""},
		{"throttled", refusal("ThrottlingException", at, at.Add(time.Hour)), 0, ""},
		{"no Date", refusal("RequestExpired", at, time.Time{}), 0, ""},
		{"no X-Amz-Date", refusal("RequestExpired", time.Time{}, at), 0, ""},
		{"no answer", fmt.Errorf("dial tcp: connection refused"), 0, ""},
		{"from a cache", aged(refusal("RequestExpired", at, at.Add(time.Hour))), 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			off, ok := audit.ClockOff(fmt.Errorf("reading tags: %w", tc.err))
			if off != tc.want || ok != (tc.want != 0) {
				t.Fatalf("ClockOff = %v, %v; want %v, %v", off, ok, tc.want, tc.want != 0)
			}
			if ok && !strings.Contains(audit.ClockHint(off), tc.wantHint) {
				t.Errorf("ClockHint(%v) = %q, want it to say %q", off, audit.ClockHint(off), tc.wantHint)
			}
		})
	}
}

// aged is err with an Age header on its answer, as a cache on the way
// adds.
func aged(err error) error {
	var re *awshttp.ResponseError
	if errors.As(err, &re) {
		re.Response.Header.Set("Age", "30")
	}
	return err
}
