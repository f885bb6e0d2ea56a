package awsconn

import (
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/internal/tlstest"
)

// TestRoleSTSCertificateNotTrusted: behind a TLS-inspecting proxy whose CA
// AWS_CA_BUNDLE did not name, a role_arn profile's call to STS was tried
// eight times and told as "cannot reach https://sts...: TLS handshake
// failed; check the network path to it: ...". The message says that the
// certificate is not trusted and what to set, after the attempts any
// failed connection gets (one node of several may have the wrong one).
func TestRoleSTSCertificateNotTrusted(t *testing.T) {
	ca := tlstest.NewCA(t, "Corporate Inspection CA")
	sts := ca.NewServer(t, nil, tlstest.Leaf{})
	isolate(t, "[profile keys]\naws_access_key_id = AKIAEXAMPLE\naws_secret_access_key = s\n\n"+
		"[profile role]\nregion = us-east-1\nrole_arn = arn:aws:iam::123456789012:role/AuditRole\nsource_profile = keys\n")
	t.Setenv("AWS_ENDPOINT_URL_STS", sts.URL)
	msg := credentialsError(t, Settings{Profile: "role", MaxAttempts: 4}).Error()
	want := "cannot reach " + sts.URL + ": the server's certificate is not trusted (x509: certificate signed by unknown authority); " +
		"set AWS_CA_BUNDLE or the profile's ca_bundle to the CA that signs it (a TLS-inspecting proxy's)"
	if !strings.Contains(msg, want) || strings.Contains(msg, "TLS handshake failed") || strings.Contains(msg, "network path") {
		t.Errorf("%q\ndoes not say %q", msg, want)
	}
	if n := sts.Accepted(); n < 2 || n > 4 {
		t.Errorf("STS was tried %d times, want it retried, up to MaxAttempts (4)", n)
	}
}
