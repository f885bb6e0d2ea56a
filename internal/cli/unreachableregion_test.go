package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// TestUnreachableNamesTheRegionsSource: a region's own endpoint that could
// not be reached said "check --region" of a region that AWS_REGION, or the
// profile, had set, to someone who had passed no --region. The hint names
// the setting the region came from, as it does for an endpoint.
//
// The region is one that does not exist, so that its endpoint does not
// resolve (or, offline, cannot be looked up): either way no answer.
func TestUnreachableNamesTheRegionsSource(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	const region = "us-est-1"
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	list := writeFile(t, "ids.csv", "instance_id,region\ni-0123456789abcdef0,"+region+"\n")
	tests := []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"--region", nil, []string{"--instances", ids, "--region", region}, "check --region, which set this region"},
		{"AWS_REGION", map[string]string{"AWS_REGION": region, "AWS_DEFAULT_REGION": "eu-west-1"}, []string{"--instances", ids},
			"check AWS_REGION, which set this region"},
		{"AWS_DEFAULT_REGION", map[string]string{"AWS_DEFAULT_REGION": region}, []string{"--instances", ids},
			"check AWS_DEFAULT_REGION, which set this region"},
		{"the profile", map[string]string{"AWS_CONFIG_FILE": writeFile(t, "config", "[profile audit]\nregion = "+region+"\naws_access_key_id = AKIATESTTESTTESTTEST\naws_secret_access_key = s\n")},
			[]string{"--instances", ids, "--profile", "audit"}, "check the region of profile audit, which set this region"},
		{"the list", map[string]string{"AWS_REGION": "eu-west-1"}, []string{"--instances", list},
			"check the region column of the instance list, which set this region"},
		{"--regions", map[string]string{"AWS_REGION": "eu-west-1"}, []string{"--discover", "--regions", region},
			"check --regions, which set this region"},
		// The default region the same as one of --regions, or of the
		// list's: it is not the default that set it.
		{"--regions, AWS_REGION the same", map[string]string{"AWS_REGION": region}, []string{"--discover", "--regions", region},
			"check --regions, which set this region"},
		{"--regions, --region the same", nil, []string{"--discover", "--regions", region, "--region", region},
			"check --regions, which set this region"},
		{"the list, AWS_REGION the same", map[string]string{"AWS_REGION": region}, []string{"--instances", list},
			"check the region column of the instance list, which set this region"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for k, v := range tt.env {
				t.Setenv(k, v)
			}
			args := append([]string{"run", "--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--quiet"}, tt.args...)
			got := runCLI(t, "", args...)
			if want := "cannot reach https://ssm." + region + ".amazonaws.com: "; got.code != int(exitFatal) || !strings.Contains(got.stderr, want) {
				t.Fatalf("exit %d, want %d saying %q\n%s", got.code, exitFatal, want, got.stderr)
			}
			if !strings.Contains(got.stderr, "; "+tt.want+"\n") {
				t.Errorf("stderr does not say %q:\n%s", tt.want, got.stderr)
			}
		})
	}
}

// TestRegionSource: the setting named for a region is the one that chose
// it for the targets there. The run's default region (--region,
// AWS_REGION, the profile's) came first, so that a region of --regions, of
// --regions all, or of the list's region column was put down to AWS_REGION
// whenever it was the default region too.
func TestRegionSource(t *testing.T) {
	const home = "us-east-1"
	tests := []struct {
		name string
		o    runOptions
		org  orgSpec
		// list is the instance list's regions ("" for rows that give
		// none), as read.
		list []string
		want map[string]string // region: setting
	}{
		{name: "the default region", list: []string{""},
			want: map[string]string{home: "AWS_REGION", "eu-west-1": ""}},
		{name: "discovery in the default region", o: runOptions{discover: true},
			want: map[string]string{home: "AWS_REGION"}},
		{name: "--regions", o: runOptions{discover: true}, org: orgSpec{regions: []string{"eu-west-1", home}},
			want: map[string]string{home: "--regions", "eu-west-1": "--regions", "ap-south-1": ""}},
		{name: "--regions all", o: runOptions{discover: true}, org: orgSpec{allRegions: true},
			want: map[string]string{home: "", "eu-west-1": ""}},
		{name: "the list's region column", list: []string{home, "eu-west-1"},
			want: map[string]string{home: "the region column of the instance list", "eu-west-1": "the region column of the instance list"}},
		{name: "the list, some rows without a region", list: []string{"eu-west-1", ""},
			want: map[string]string{home: "AWS_REGION", "eu-west-1": "the region column of the instance list"}},
		{name: "the list within --regions", org: orgSpec{regions: []string{"eu-west-1", home}}, list: []string{"eu-west-1"},
			want: map[string]string{home: "", "eu-west-1": "the region column of the instance list"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := tt.o
			o.region = home
			j := &job{o: &o, org: tt.org, regionFrom: "AWS_REGION"}
			j.noteListRegions(tt.list)
			for region, want := range tt.want {
				if got := j.regionSource(region); got != want {
					t.Errorf("regionSource(%s) = %q, want %q", region, got, want)
				}
			}
		})
	}
}
