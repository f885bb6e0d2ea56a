package awsconn

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestContainerEndpointAnswersBadly: a container credentials endpoint
// (AWS Batch, ECS) that answered, with an error status or with something
// that is not credentials, read "no credentials found: see where they are
// looked for with: aws configure list", which sends the user looking for
// credentials that are not the problem, with a command that a container
// image seldom has. It says the endpoint answered, and what.
func TestContainerEndpointAnswersBadly(t *testing.T) {
	for _, tc := range []struct {
		name   string
		status int
		body   string
		want   string
	}{
		{"an error status", http.StatusInternalServerError, `{"code":"InternalError","message":"secret-ish detail"}`, "it answered HTTP 500, not credentials"},
		{"not credentials", http.StatusOK, `{"AccessKeyId": "AKIA`, "it answered with something that is not credentials"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				w.Write([]byte(tc.body))
			}))
			t.Cleanup(srv.Close)
			isolate(t, "")
			t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.URL+"/v2/credentials/c0ffee")
			msg := credentialsError(t, Settings{Region: "eu-west-1", MaxAttempts: 1}).Error()
			for _, w := range []string{"the container credentials endpoint", tc.want} {
				if !strings.Contains(msg, w) {
					t.Errorf("%q does not say %q", msg, w)
				}
			}
			for _, w := range []string{"no credentials found", "aws configure list", "c0ffee", "secret-ish"} {
				if strings.Contains(msg, w) {
					t.Errorf("%q says %q", msg, w)
				}
			}
		})
	}
}
