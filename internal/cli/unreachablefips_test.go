package cli

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestUnreachableFIPSEndpoint: with SSM's FIPS endpoint asked for, one
// that does not resolve was told "check AWS_REGION, which set this
// region", of a region whose plain endpoint may answer: SSM has FIPS
// endpoints in some regions only. The hint names the setting that asked
// for it too.
func TestUnreachableFIPSEndpoint(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	const region = "us-est-1"
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, tt := range []struct {
		name string
		env  map[string]string
		want string
	}{
		{"AWS_USE_FIPS_ENDPOINT", map[string]string{"AWS_USE_FIPS_ENDPOINT": "true"},
			"check --region, which set this region, and AWS_USE_FIPS_ENDPOINT, which asked for the FIPS endpoint (not every region has one)"},
		{"the profile", map[string]string{"AWS_PROFILE": "fips", "AWS_CONFIG_FILE": writeFile(t, "config", "[profile fips]\nuse_fips_endpoint = true\naws_access_key_id = AKIATESTTESTTESTTEST\naws_secret_access_key = s\n")},
			"check --region, which set this region, and use_fips_endpoint in the AWS config, which asked for the FIPS endpoint (not every region has one)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			got := runCLI(t, "", "run", "--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--quiet", "--instances", ids, "--region", region)
			if want := "cannot reach https://ssm-fips." + region + ".amazonaws.com: "; got.code != int(exitFatal) || !strings.Contains(got.stderr, want) {
				t.Fatalf("exit %d, want %d saying %q\n%s", got.code, exitFatal, want, got.stderr)
			}
			if !strings.Contains(got.stderr, "; "+tt.want+"\n") {
				t.Errorf("stderr does not say %q:\n%s", tt.want, got.stderr)
			}
		})
	}
}

// TestFIPSHintWithoutARegionsSource: a FIPS endpoint out of reach in a
// region no single setting named (--regions all) was told to check the
// network path alone; the FIPS setting is named all the same.
func TestFIPSHintWithoutARegionsSource(t *testing.T) {
	t.Setenv("AWS_USE_FIPS_ENDPOINT", "true")
	u := &audit.UnreachableError{Endpoint: "https://ssm-fips.eu-west-1.amazonaws.com", Region: "eu-west-1", Cause: "no such host"}
	want := "check AWS_USE_FIPS_ENDPOINT, which asked for the FIPS endpoint (not every region has one), and the network path to it"
	if got := unreachableHint(u, "", ""); !strings.HasPrefix(got, want) {
		t.Errorf("hint %q, want it to start %q", got, want)
	}
}

// TestCallerTextWithoutAURL: STS's call cut short by its deadline while
// it waited to retry gives no URL; it was told "cannot reach the SSM
// endpoint of : timed out", of the wrong service and no place.
func TestCallerTextWithoutAURL(t *testing.T) {
	err := fmt.Errorf("sts:GetCallerIdentity: %w", &smithy.OperationError{ServiceID: "STS", OperationName: "GetCallerIdentity",
		Err: &smithyhttp.RequestSendError{Err: context.DeadlineExceeded}})
	got := callerText(err)
	if strings.Contains(got, "SSM") || !strings.HasPrefix(got, "sts:GetCallerIdentity: ") {
		t.Errorf("callerText = %q, want STS's failure, not the SSM endpoint's", got)
	}
}
