package deliver_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver"
)

// TestSendSESDenied: SES's refusal of a sender names the identity that
// the caller may not send from at the end of its message. The SDK's own
// words ("operation error SESv2: SendEmail, https response error ...,
// RequestID: ...") took most of a cap on the whole error and cut that
// ARN off; the error now says SES's code, its message cut in the middle
// if at all, and the request ID.
func TestSendSESDenied(t *testing.T) {
	const (
		identity = "arn:aws:ses:eu-west-1:111122223333:identity/reports@example.com"
		denial   = "User: arn:aws:sts::111122223333:assumed-role/AuditRole/session is not authorized to perform: ses:SendRawEmail on resource: " + identity
		rid      = "2f6b4c1e-0d7a-4e4b-9b7e-5c1d2a3b4c5d"
	)
	for _, tt := range []struct {
		name string
		msg  string
		want []string
	}{
		{"AWS's words", denial, []string{identity, "AuditRole/session", "ses:SendRawEmail"}},
		// Padded past the cap: the start and the end stay.
		{"a long message", "User: arn:aws:sts::111122223333:assumed-role/" + strings.Repeat("x", 500) + " is not authorized to perform: ses:SendRawEmail on resource: " + identity,
			[]string{"User: arn:aws:sts::111122223333:assumed-role/", identity, "…"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Header().Set("X-Amzn-ErrorType", "AccessDeniedException")
				w.Header().Set("X-Amzn-RequestId", rid)
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprintf(w, `{"message":%q}`, tt.msg)
			}))
			defer srv.Close()
			err := deliver.SendSES(context.Background(), sesClient(srv.URL), message())
			var e *deliver.Error
			if !errors.As(err, &e) || e.ErrorCode != "AccessDeniedException" || e.Temporary || e.Attempts != 1 {
				t.Fatalf("SendSES = %v (%+v), want a *deliver.Error with code AccessDeniedException, not temporary, 1 attempt", err, e)
			}
			got := err.Error()
			for _, want := range append(tt.want, "AccessDeniedException", "HTTP 403", "request ID "+rid) {
				if !strings.Contains(got, want) {
					t.Errorf("error does not say %q:\n%s", want, got)
				}
			}
			if strings.Contains(got, "operation error") {
				t.Errorf("error holds the SDK's chain, which took the room of SES's words:\n%s", got)
			}
		})
	}
}
