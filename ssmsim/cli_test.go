package ssmsim_test

import (
	"bytes"
	"context"
	"encoding/json"
	"maps"
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
	return awsCLIAs(t, url, "us-east-1", cliCredentials{"AKIDCLITEST", "cli-test-secret", ""}, args...)
}

// cliCredentials are the AWS CLI's access key, secret and session token.
type cliCredentials struct{ key, secret, token string }

// awsCLIAs is awsCLI with the given region and credentials.
func awsCLIAs(t *testing.T, url, region string, creds cliCredentials, args ...string) ([]byte, string, error) {
	t.Helper()
	dir := t.TempDir()
	empty := filepath.Join(dir, "empty")
	if err := os.WriteFile(empty, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(c, "aws", append(args, "--endpoint-url", url, "--region", region, "--output", "json")...)
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "AWS_") {
			env = append(env, kv)
		}
	}
	cmd.Env = append(env,
		"AWS_ACCESS_KEY_ID="+creds.key, "AWS_SECRET_ACCESS_KEY="+creds.secret,
		"AWS_CONFIG_FILE="+empty, "AWS_SHARED_CREDENTIALS_FILE="+empty,
		"AWS_PAGER=", "AWS_EC2_METADATA_DISABLED=true", "AWS_MAX_ATTEMPTS=1")
	if creds.token != "" {
		cmd.Env = append(cmd.Env, "AWS_SESSION_TOKEN="+creds.token)
	}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	if c.Err() != nil {
		t.Fatalf("aws %s: timed out", strings.Join(args, " "))
	}
	return stdout.Bytes(), stderr.String(), err
}

// needAWSCLI skips the test when the AWS CLI is not installed, or fails it
// when AUDITOR_REQUIRE_AWSCLI says that it must run.
func needAWSCLI(t *testing.T) {
	t.Helper()
	if _, err := exec.LookPath("aws"); err != nil {
		if os.Getenv("AUDITOR_REQUIRE_AWSCLI") != "" {
			t.Fatal("aws CLI not on PATH, and AUDITOR_REQUIRE_AWSCLI is set: CI must run the conformance test")
		}
		t.Skip("aws CLI not on PATH; .ci/run installs Debian's awscli")
	}
}

func TestAWSCLI(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the AWS CLI five times (about 5 s); skipped with -short")
	}
	needAWSCLI(t)
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

	t.Run("EC2 instance tags by key", func(t *testing.T) {
		out, stderr, err := awsCLI(t, url, "ec2", "describe-tags",
			"--filters", "Name=key,Values=Team", "Name=resource-type,Values=instance", "--page-size", "7")
		if err != nil {
			t.Fatalf("aws: %v\n%s", err, stderr)
		}
		var got struct {
			Tags []struct{ ResourceId, ResourceType, Key, Value string }
		}
		cliJSON(t, out, &got)
		have := map[string]string{}
		for _, tg := range got.Tags {
			if tg.Key != "Team" || tg.ResourceType != "instance" {
				t.Errorf("tag %+v: want key Team of an instance only", tg)
			}
			have[tg.ResourceId] = tg.Value
		}
		want := map[string]string{}
		for _, id := range f.IDs() {
			if in, _ := f.Instance(id); strings.HasPrefix(id, "i-") && in.Tags["Team"] != "" {
				want[id] = in.Tags["Team"]
			}
		}
		if len(want) <= 7 || !maps.Equal(have, want) {
			t.Errorf("got the Team tag of %d instances, want %d (more than one page)", len(have), len(want))
		}
	})

	t.Run("hybrid node tags", func(t *testing.T) {
		var mi string
		for _, id := range f.ManagedIDs() {
			if strings.HasPrefix(id, "mi-") {
				mi = id
				break
			}
		}
		if mi == "" {
			t.Fatal("the fleet has no managed mi- node")
		}
		out, stderr, err := awsCLI(t, url, "ssm", "list-tags-for-resource", "--resource-type", "ManagedInstance", "--resource-id", mi)
		if err != nil {
			t.Fatalf("aws: %v\n%s", err, stderr)
		}
		var got struct{ TagList []struct{ Key, Value string } }
		cliJSON(t, out, &got)
		have := map[string]string{}
		for _, tg := range got.TagList {
			have[tg.Key] = tg.Value
		}
		if in, _ := f.Instance(mi); len(have) == 0 || !maps.Equal(have, in.Tags) {
			t.Errorf("tags of %s: got %v, want %v", mi, have, in.Tags)
		}
	})
}

// TestAWSCLIClockSkew: a simulator whose clock is ahead of the client's
// refuses each service's calls as AWS does, in words the AWS CLI (which
// does not correct its clock) reads as AWS's: SSM's InvalidSignatureException
// and STS's SignatureDoesNotMatch ("Signature expired", with each service's
// window), EC2's RequestExpired. The same calls pass within the window.
func TestAWSCLIClockSkew(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the AWS CLI six times (about 6 s); skipped with -short")
	}
	needAWSCLI(t)
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 10})
	id := f.ManagedIDs()[0]
	calls := []struct {
		args []string
		want string // in stderr, when refused
	}{
		{[]string{"ssm", "describe-instance-associations-status", "--instance-id", id}, "(InvalidSignatureException) when calling the DescribeInstanceAssociationsStatus operation: Signature expired: "},
		{[]string{"sts", "get-caller-identity"}, "(SignatureDoesNotMatch) when calling the GetCallerIdentity operation: Signature expired: "},
		{[]string{"ec2", "describe-regions"}, "(RequestExpired) when calling the DescribeRegions operation: Request has expired."},
	}
	// 10 minutes: past SSM's 5, within STS's and EC2's 15.
	for _, skew := range []time.Duration{20 * time.Minute, 10 * time.Minute} {
		_, url := start(t, f, ssmsim.Options{ClockSkew: skew})
		for _, c := range calls {
			refused := skew > 15*time.Minute || c.args[0] == "ssm"
			_, stderr, err := awsCLI(t, url, c.args...)
			switch {
			case refused && (err == nil || !strings.Contains(stderr, c.want)):
				t.Errorf("clock %v ahead: aws %s: want refused with %q; got error %v:\n%s", skew, c.args[1], c.want, err, stderr)
			case refused && c.args[0] != "ec2" && !strings.Contains(stderr, " min.)"):
				t.Errorf("clock %v ahead: aws %s: the message does not give the window:\n%s", skew, c.args[1], stderr)
			case !refused && err != nil:
				t.Errorf("clock %v ahead: aws %s: want it answered within the service's 15 minutes; got %v:\n%s", skew, c.args[1], err, stderr)
			}
		}
	}
}

// cliJSON decodes what the AWS CLI printed, failing the test when it is
// not JSON.
func cliJSON(t *testing.T, out []byte, v any) {
	t.Helper()
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("aws printed something that is not its JSON: %v\n%s", err, out)
	}
}

func TestAWSCLIOrganization(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the AWS CLI ten times (about 10 s); skipped with -short")
	}
	needAWSCLI(t)
	o := testOrg(t, func(c *ssmsim.OrgConfig) { c.Accounts[0].AccessKeys = append(c.Accounts[0].AccessKeys, "AKIDCLITEST") })
	s, url := startOrg(t, o, ssmsim.Options{})
	mgmt := cliCredentials{"AKIDCLITEST", "cli-test-secret", ""}
	member := o.Accounts()[1].ID

	t.Run("sts get-caller-identity", func(t *testing.T) {
		out, stderr, err := awsCLIAs(t, url, "eu-west-1", mgmt, "sts", "get-caller-identity")
		if err != nil {
			t.Fatalf("aws: %v\n%s", err, stderr)
		}
		var got struct{ UserId, Account, Arn string }
		cliJSON(t, out, &got)
		if got.Account != o.Management() || got.Arn != "arn:aws:iam::"+o.Management()+":user/AKIDCLITEST" || !strings.HasPrefix(got.UserId, "AIDA") {
			t.Errorf("got %+v", got)
		}
	})

	var role cliCredentials
	t.Run("sts assume-role", func(t *testing.T) {
		out, stderr, err := awsCLIAs(t, url, "us-east-1", mgmt, "sts", "assume-role",
			"--role-arn", o.RoleARN(member, "Vendor"), "--role-session-name", "cli-session", "--external-id", "s3cr3t-ext", "--duration-seconds", "1800")
		if err != nil {
			t.Fatalf("aws: %v\n%s", err, stderr)
		}
		var got struct {
			Credentials struct {
				AccessKeyId, SecretAccessKey, SessionToken string
				Expiration                                 time.Time
			}
			AssumedRoleUser struct{ AssumedRoleId, Arn string }
		}
		cliJSON(t, out, &got)
		cr := got.Credentials
		if !strings.HasPrefix(cr.AccessKeyId, "ASIA") || cr.SecretAccessKey == "" || cr.SessionToken == "" {
			t.Errorf("credentials %+v", cr)
		}
		if d := time.Until(cr.Expiration); d < 29*time.Minute || d > 30*time.Minute {
			t.Errorf("Expiration %v, %v away; want 30 minutes", cr.Expiration, d)
		}
		if want := "arn:aws:sts::" + member + ":assumed-role/Vendor/cli-session"; got.AssumedRoleUser.Arn != want {
			t.Errorf("AssumedRoleUser.Arn %q, want %q", got.AssumedRoleUser.Arn, want)
		}
		role = cliCredentials{cr.AccessKeyId, cr.SecretAccessKey, cr.SessionToken}

		out, stderr, err = awsCLIAs(t, url, "us-east-1", role, "sts", "get-caller-identity")
		if err != nil {
			t.Fatalf("aws as the role: %v\n%s", err, stderr)
		}
		var who struct{ Account, Arn string }
		cliJSON(t, out, &who)
		if who.Account != member || who.Arn != got.AssumedRoleUser.Arn {
			t.Errorf("as the role: %+v", who)
		}
	})

	t.Run("sts assume-role refused", func(t *testing.T) {
		out, stderr, err := awsCLIAs(t, url, "us-east-1", mgmt, "sts", "assume-role",
			"--role-arn", o.RoleARN(member, "Locked"), "--role-session-name", "cli-session")
		if err == nil {
			t.Fatalf("aws exited 0 for a role that refuses; printed %s", out)
		}
		want := "(AccessDenied) when calling the AssumeRole operation: User: arn:aws:iam::" + o.Management() +
			":user/AKIDCLITEST is not authorized to perform: sts:AssumeRole on resource: " + o.RoleARN(member, "Locked")
		if !strings.Contains(stderr, want) {
			t.Errorf("stderr does not say %q:\n%s", want, stderr)
		}
	})

	t.Run("organizations list-accounts, paged", func(t *testing.T) {
		s.ResetRegionStats()
		out, stderr, err := awsCLIAs(t, url, "us-east-1", mgmt, "organizations", "list-accounts", "--page-size", "3")
		if err != nil {
			t.Fatalf("aws: %v\n%s", err, stderr)
		}
		var got struct {
			Accounts []struct {
				Id, Name, Email, Status, State, JoinedMethod, Arn string
				JoinedTimestamp                                   any // epoch seconds (v1) or ISO 8601 (v2)
			}
		}
		cliJSON(t, out, &got)
		var ids, want []string
		// State alone, as Organizations answers since it retired Status.
		for _, a := range got.Accounts {
			ids = append(ids, a.Id+" "+a.State+"/"+a.Status+" "+a.Name)
		}
		for _, a := range o.Accounts() {
			want = append(want, a.ID+" "+a.State+"/ "+a.Name)
		}
		if !slices.Equal(ids, want) {
			t.Errorf("got %v\nwant %v", ids, want)
		}
		if n := s.RegionStats()[ssmsim.AccountRegion{Account: o.Management(), Region: "us-east-1"}].OK; n != 2 {
			t.Errorf("the CLI made %d calls, want 2 pages of 3", n)
		}
	})

	t.Run("ec2 describe-regions", func(t *testing.T) {
		for _, tt := range []struct {
			args []string
			want int
		}{{nil, 18}, {[]string{"--all-regions"}, 22}} {
			out, stderr, err := awsCLIAs(t, url, "eu-west-1", role, append([]string{"ec2", "describe-regions"}, tt.args...)...)
			if err != nil {
				t.Fatalf("aws: %v\n%s", err, stderr)
			}
			var got struct {
				Regions []struct{ RegionName, Endpoint, OptInStatus string }
			}
			cliJSON(t, out, &got)
			statuses := map[string]string{}
			for _, r := range got.Regions {
				statuses[r.RegionName] = r.OptInStatus
			}
			if len(got.Regions) != tt.want || statuses["af-south-1"] != "opted-in" || statuses["us-east-1"] != "opt-in-not-required" {
				t.Errorf("%v: %d regions, want %d: %v", tt.args, len(got.Regions), tt.want, statuses)
			}
		}
	})

	t.Run("ssm describe-instance-information --filters, as the role", func(t *testing.T) {
		f := o.Fleet(member, "eu-west-1")
		out, stderr, err := awsCLIAs(t, url, "eu-west-1", role, "ssm", "describe-instance-information",
			"--filters", "Key=PingStatus,Values=Online", "Key=PlatformTypes,Values=Linux", "--page-size", "5")
		if err != nil {
			t.Fatalf("aws: %v\n%s", err, stderr)
		}
		var got struct {
			InstanceInformationList []struct {
				InstanceId, PingStatus, PlatformType, AssociationStatus string
			}
		}
		cliJSON(t, out, &got)
		var gotIDs, wantIDs []string
		for _, in := range got.InstanceInformationList {
			gotIDs = append(gotIDs, in.InstanceId)
		}
		for _, id := range f.ManagedIDs() {
			if in, _ := f.Instance(id); in.PingStatus == "Online" && in.PlatformType == "Linux" {
				wantIDs = append(wantIDs, id)
			}
		}
		if len(wantIDs) <= 5 || !slices.Equal(gotIDs, wantIDs) {
			t.Errorf("got %d instances, want %d (more than one page):\n got %v\nwant %v", len(gotIDs), len(wantIDs), gotIDs, wantIDs)
		}
		// The same request in a region the account has not enabled.
		_, stderr, err = awsCLIAs(t, url, "eu-south-1", role, "ssm", "describe-instance-information")
		if err == nil || !strings.Contains(stderr, "UnrecognizedClientException") {
			t.Errorf("a region not enabled: %v\n%s", err, stderr)
		}
	})
}
