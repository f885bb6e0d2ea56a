package cli

import (
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestNoProxyBypassHint: with a proxy set and the endpoint's host in
// NO_PROXY, a call that went around the proxy and found no such host was
// told "check AWS_REGION, which set this region" alone, where machines
// that resolve outside names only through their proxy fail so. The hint
// names NO_PROXY too; without a proxy set it does not.
func TestNoProxyBypassHint(t *testing.T) {
	u := &audit.UnreachableError{Endpoint: "https://ssm.us-east-1.amazonaws.com", Region: "us-east-1", Cause: "no such host"}
	for _, k := range []string{"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "NO_PROXY", "no_proxy"} {
		t.Setenv(k, "")
	}
	if got := unreachableHint(u, "", "AWS_REGION"); strings.Contains(got, "NO_PROXY") {
		t.Errorf("without a proxy: hint %q names NO_PROXY", got)
	}
	t.Setenv("https_proxy", "http://10.0.0.5:3128")
	t.Setenv("NO_PROXY", ".amazonaws.com")
	got := unreachableHint(u, "", "AWS_REGION")
	for _, want := range []string{"check AWS_REGION, which set this region", "NO_PROXY"} {
		if !strings.Contains(got, want) {
			t.Errorf("hint %q does not say %q", got, want)
		}
	}
	// A host the proxy serves (a call timed out in its tunnel): not
	// around the proxy.
	t.Setenv("NO_PROXY", ".example.com")
	if got := unreachableHint(u, "", "AWS_REGION"); strings.Contains(got, "NO_PROXY") {
		t.Errorf("a host NO_PROXY does not name: hint %q names NO_PROXY", got)
	}
	local := &audit.UnreachableError{Endpoint: "http://127.0.0.1:4566", Region: "us-east-1", Cause: "connection refused"}
	if got := unreachableHint(local, "--endpoint-url", ""); strings.Contains(got, "NO_PROXY") {
		t.Errorf("this machine, which no proxy serves: hint %q names NO_PROXY", got)
	}
}
