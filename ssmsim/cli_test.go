package ssmsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

// awsCLI runs the AWS CLI against url with dummy credentials and nothing
// from the environment's AWS configuration, and returns its stdout, stderr
// and error.
func awsCLI(t *testing.T, url string, args ...string) ([]byte, string, error) {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, "aws", append(args, "--endpoint-url", url, "--region", "us-east-1", "--output", "json")...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"AWS_ACCESS_KEY_ID=AKIDCLITEST", "AWS_SECRET_ACCESS_KEY=cli-test-secret",
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty,
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if c.Err() != nil {
		t.Fatalf("aws %s: timed out", strings.Join(args, " "))
	}
	return stdout.Bytes(), stderr.String(), err
}

func TestAWSCLI(t *testing.T) {
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("AUDITOR_REQUIRE_AWSCLI") != "" {
			t.Fatal("aws CLI not on PATH, and AUDITOR_REQUIRE_AWSCLI is set: CI must run the conformance test")
		}
		t.Skip("aws CLI not on PATH; .ci/run installs Debian's awscli")
	}
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 300})
	s, url := start(t, f, ssmsim.Options{})
	heavy := heavyID(t, f)
	want := f.Associations(heavy)

	t.Run("pages through every association", func(t *testing.T) {
		s.ResetStats()
		out, stderr, err := awsCLI(t, url, "ssm", "describe-instance-associations-status", "--instance-id", heavy, "--page-size", "7")
		if err != nil {
			t.Fatalf("aws: %v\n%s", err, stderr)
		}
		var got struct {
			InstanceAssociationStatusInfos []ssmsim.Association
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("aws printed something that is not its JSON: %v\n%s", err, out)
		}
		sameAssociations(t, got.InstanceAssociationStatusInfos, want)
		pages := int64((len(want) + 6) / 7)
		if st := s.Stats(); st.OK != pages || st.PagesServed != pages || st.DuplicatePages != 0 {
			t.Errorf("server saw OK %d, PagesServed %d, DuplicatePages %d; want %d pages of 7, none twice", st.OK, st.PagesServed, st.DuplicatePages, pages)
		}
	})

	t.Run("unmanaged instance", func(t *testing.T) {
		id := unmanagedID(t, f)
		out, stderr, err := awsCLI(t, url, "ssm", "describe-instance-associations-status", "--instance-id", id)
		if err == nil {
			t.Fatalf("aws exited 0 for an unmanaged instance; printed %s", out)
		}
		if !strings.Contains(stderr, "InvalidInstanceId") || !strings.Contains(stderr, id) {
			t.Errorf("stderr does not name InvalidInstanceId and %s:\n%s", id, stderr)
		}
	})

	t.Run("instance information by tag", func(t *testing.T) {
		out, stderr, err := awsCLI(t, url, "ssm", "describe-instance-information",
			"--filters", "Key=tag:Environment,Values=staging", "--page-size", "5")
		if err != nil {
			t.Fatalf("aws: %v\n%s", err, stderr)
		}
		var got struct {
			InstanceInformationList []struct{ InstanceId string }
		}
		if err := json.Unmarshal(out, &got); err != nil {
			t.Fatalf("aws printed something that is not its JSON: %v\n%s", err, out)
		}
		var gotIDs, wantIDs []string
		for _, in := range got.InstanceInformationList {
			gotIDs = append(gotIDs, in.InstanceId)
		}
		for _, id := range f.ManagedIDs() {
			if in, _ := f.Instance(id); in.Tags["Environment"] == "staging" {
				wantIDs = append(wantIDs, id)
			}
		}
		if len(wantIDs) <= 5 || !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("got %d instances, want %d (more than one page):\n got %v\nwant %v", len(gotIDs), len(wantIDs), gotIDs, wantIDs)
		}
	})
}
