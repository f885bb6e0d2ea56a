package awsconn

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestOnlyAProcessIsRefusedExpired: the refusal of credentials handed out
// already expired (a credential_process's stale cache, see
// TestCredentialProcessExpired) looked at the expiry the SDK's cache had
// moved earlier, and refused credentials of the container endpoint that
// had 3 minutes to live (its cache renews 5 minutes ahead), and those of
// the instance metadata service past their Expiration, which IMDS hands
// out while EC2 cannot renew them and which the SDK keeps using ("static
// stability"). Both are used, as they were before the refusal came.
func TestOnlyAProcessIsRefusedExpired(t *testing.T) {
	t.Run("container endpoint, 3 minutes to live", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			json.NewEncoder(w).Encode(map[string]string{
				"AccessKeyId": "ASIACONTAINERCONT01", "SecretAccessKey": "s", "Token": "t",
				"Expiration": time.Now().Add(3 * time.Minute).UTC().Format(time.RFC3339),
			})
		}))
		t.Cleanup(srv.Close)
		isolate(t, "")
		t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.URL+"/creds")
		checkUsed(t, "ASIACONTAINERCONT01")
	})
	t.Run("instance metadata service, past their Expiration", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			switch {
			case r.Method == http.MethodPut && r.URL.Path == "/latest/api/token":
				w.Header().Set("X-Aws-Ec2-Metadata-Token-Ttl-Seconds", "21600")
				w.Write([]byte("token"))
			case r.URL.Path == "/latest/meta-data/iam/security-credentials/":
				w.Write([]byte("auditor"))
			case r.URL.Path == "/latest/meta-data/iam/security-credentials/auditor":
				json.NewEncoder(w).Encode(map[string]string{
					"Code": "Success", "Type": "AWS-HMAC", "AccessKeyId": "ASIAINSTANCEINSTA01", "SecretAccessKey": "s", "Token": "t",
					"Expiration":  time.Now().Add(-10 * time.Minute).UTC().Format(time.RFC3339),
					"LastUpdated": time.Now().Add(-6 * time.Hour).UTC().Format(time.RFC3339),
				})
			default:
				http.NotFound(w, r)
			}
		}))
		t.Cleanup(srv.Close)
		isolate(t, "")
		t.Setenv("AWS_EC2_METADATA_DISABLED", "")
		t.Setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", srv.URL)
		checkUsed(t, "ASIAINSTANCEINSTA01")
	})
}

// checkUsed loads the default chain and checks that its credentials, those
// of key, are taken.
func checkUsed(t *testing.T, key string) {
	t.Helper()
	c, err := Load(context.Background(), Settings{Region: "us-east-1", MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.CheckCredentials(context.Background()); err != nil {
		t.Fatalf("CheckCredentials = %v, want them used", err)
	}
	creds, err := c.Config().Credentials.Retrieve(context.Background())
	if err != nil || !strings.HasPrefix(creds.AccessKeyID, key) {
		t.Errorf("Retrieve = %s, %v; want %s", creds.AccessKeyID, err, key)
	}
}
