package awsconn

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/credentials"
)

// TestOrgAccountsPagingLoop: ListAccounts answering the same NextToken
// again (at once, or after another) was asked forever: the listing had no
// check of its tokens, and --accounts org never ended, where each other
// listing ends such a loop with an error. It now ends at the first token
// that comes again, as an answer that cannot be trusted.
func TestOrgAccountsPagingLoop(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tokens []string // answered in turn, round and round
	}{
		{"the same token", []string{"A"}},
		{"two in turn", []string{"A", "B"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var calls atomic.Int64
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if !strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".ListAccounts") {
					http.Error(w, "unexpected request", http.StatusBadRequest)
					return
				}
				n := calls.Add(1)
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				b, _ := json.Marshal(map[string]any{
					"Accounts":  []map[string]string{{"Id": "111111111111", "Name": "Management", "State": "ACTIVE"}},
					"NextToken": tc.tokens[int(n-1)%len(tc.tokens)],
				})
				w.Write(b)
			}))
			t.Cleanup(srv.Close)
			isolate(t, "")
			c, err := Load(context.Background(), Settings{Region: "us-east-1", EndpointURL: srv.URL,
				Credentials: credentials.NewStaticCredentialsProvider("AKIAORGMANAGEMENT001", "secret", "")})
			if err != nil {
				t.Fatal(err)
			}
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			got, err := c.OrgAccounts(ctx)
			if err == nil || ctx.Err() != nil || !strings.Contains(err.Error(), "NextToken") {
				t.Fatalf("OrgAccounts = %+v, %v after %d calls; want an error naming the NextToken loop", got, err, calls.Load())
			}
			if n := calls.Load(); n > int64(len(tc.tokens))+1 {
				t.Errorf("%d calls, want the loop seen at the first token that comes again (%d)", n, len(tc.tokens)+1)
			}
			checkAnswered(t, "OrgAccounts", err)
		})
	}
}
