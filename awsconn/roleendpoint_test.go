package awsconn

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestRoleProfileTakesTheGlobalEndpoint: with AWS_ENDPOINT_URL (or a
// profile's endpoint_url) pointing every service at a simulator, a
// role_arn profile's own STS call went to AWS's STS: the SDK builds that
// client before it reads the global endpoint. README says the global
// endpoint serves every service; a test run with real source credentials
// would have assumed a real role. The role is assumed through it, unless
// AWS_ENDPOINT_URL_STS names another.
func TestRoleProfileTakesTheGlobalEndpoint(t *testing.T) {
	org, err := ssmsim.NewOrg(ssmsim.OrgConfig{Regions: []ssmsim.Region{{Name: "us-east-1"}, {Name: "af-south-1", OptIn: true}}, Fleet: ssmsim.FleetConfig{Size: 1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := ssmsim.NewServer(nil, ssmsim.Options{Org: org})
	sim, stop, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	// The calls that reach the simulator through the proxy (the global
	// endpoint), apart from those that reach it straight (an STS endpoint
	// of its own).
	var proxied atomic.Int32
	u, _ := url.Parse(sim)
	rp := httputil.NewSingleHostReverseProxy(u)
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		proxied.Add(1)
		rp.ServeHTTP(w, r)
	}))
	t.Cleanup(front.Close)
	member := org.Accounts()[1].ID
	keys := "[profile keys]\naws_access_key_id = AKIAORGMANAGEMENT001\naws_secret_access_key = s\n\n"
	role := "[profile role]\nregion = us-east-1\nrole_arn = arn:aws:iam::" + member + ":role/AuditRole\nsource_profile = keys\n"
	for _, tc := range []struct {
		name      string
		config    string
		env       map[string]string
		wantProxy bool // the role's STS call went to the global endpoint
	}{
		{name: "AWS_ENDPOINT_URL", config: keys + role, env: map[string]string{"AWS_ENDPOINT_URL": front.URL}, wantProxy: true},
		{name: "the profile's endpoint_url", config: keys + role + "endpoint_url = " + front.URL + "\n", wantProxy: true},
		{name: "AWS_ENDPOINT_URL_STS wins", config: keys + role, env: map[string]string{"AWS_ENDPOINT_URL": front.URL, "AWS_ENDPOINT_URL_STS": sim}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t, tc.config)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			proxied.Store(0)
			c, err := Load(context.Background(), Settings{Profile: "role", MaxAttempts: 1})
			if err != nil {
				t.Fatal(err)
			}
			creds, err := c.Config().Credentials.Retrieve(context.Background())
			if err != nil {
				t.Fatalf("the role's credentials: %v", err)
			}
			if creds.AccessKeyID == "AKIAORGMANAGEMENT001" {
				t.Fatalf("credentials are the source profile's, not the role's")
			}
			if got := proxied.Load() > 0; got != tc.wantProxy {
				t.Errorf("the role's STS call through the global endpoint: %v, want %v", got, tc.wantProxy)
			}
		})
	}
	// A web identity (AWS_ROLE_ARN, as in EKS): the call reaches the
	// global endpoint, whatever the simulator answers it.
	t.Run("a web identity", func(t *testing.T) {
		isolate(t, "")
		token := filepath.Join(t.TempDir(), "token")
		if err := os.WriteFile(token, []byte("eyJ.a.b"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Setenv("AWS_WEB_IDENTITY_TOKEN_FILE", token)
		t.Setenv("AWS_ROLE_ARN", "arn:aws:iam::"+member+":role/AuditRole")
		t.Setenv("AWS_REGION", "us-east-1")
		t.Setenv("AWS_ENDPOINT_URL", front.URL)
		proxied.Store(0)
		c, err := Load(context.Background(), Settings{MaxAttempts: 1})
		if err != nil {
			t.Fatal(err)
		}
		c.Config().Credentials.Retrieve(context.Background()) // answered or refused: asked of the global endpoint
		if proxied.Load() == 0 {
			t.Errorf("the web identity's STS call did not go to the global endpoint")
		}
	})
}
