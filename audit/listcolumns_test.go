package audit_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestReadCSVRegionLikeLabel: a column whose name speaks of a region or an
// account, but is none that Read takes for one, is a label; when no column
// sets the Region (the AccountID) and its values are Regions (account IDs),
// its instances would be asked of the run's region (the caller's account)
// and come back not managed, exit 0: the list is refused, naming the column.
// A label that only speaks of them (region_team, account_owner) is read.
func TestReadCSVRegionLikeLabel(t *testing.T) {
	tests := []struct {
		name    string
		input   string
		wantErr string
		want    []audit.Target
	}{
		{
			name:    "regions in a column not named region",
			input:   "instance_id,Deployed Region,owner\ni-0123abcd,emea,alice\ni-11111111,eu-west-1,bob\n",
			wantErr: `h.csv:1: column 2 "Deployed Region" holds AWS Regions ("eu-west-1" on line 3), but only a region column sets an instance's Region: rename it region; or, if it is not the instances' own Region (a disaster-recovery one, say), add a region column with theirs`,
		},
		{
			name:    "account IDs in a column not named account_id",
			input:   "# export\ninstance_id,owner,Linked Account\ni-0123abcd,alice,123456789012\n",
			wantErr: `h.csv:2: column 3 "Linked Account" holds AWS account IDs ("123456789012" on line 3), but only an account_id column sets an instance's account: rename it account_id; or, if it is not the instances' own account (a payer's, say), add an account_id column with theirs`,
		},
		{
			name:  "labels that speak of a region and an account",
			input: "instance_id,region_team,account_owner\ni-0123abcd,emea,alice@example.com\n",
			want: []audit.Target{{InstanceID: "i-0123abcd", Source: "h.csv:2",
				Labels: map[string]string{"region_team": "emea", "account_owner": "alice@example.com"}}},
		},
		{
			// The region is set by its column: another is a label.
			name:  "a second region beside the region column",
			input: "instance_id,region,dr_region,account_id,payer_account\ni-0123abcd,us-east-1,eu-west-1,123456789012,210987654321\n",
			want: []audit.Target{{InstanceID: "i-0123abcd", Region: "us-east-1", AccountID: "123456789012", Source: "h.csv:2",
				Labels: map[string]string{"dr_region": "eu-west-1", "payer_account": "210987654321"}}},
		},
		{
			// Exports that have both: region is the code, "Region Name"
			// the words ("US East (N. Virginia)"), a label as before.
			name:  "region beside a region name",
			input: "instance_id,Region Name,region,AWS Account ID,AWS Account\ni-0123abcd,US East (N. Virginia),us-east-1,123456789012,prod\n",
			want: []audit.Target{{InstanceID: "i-0123abcd", Region: "us-east-1", AccountID: "123456789012", Source: "h.csv:2",
				Labels: map[string]string{"Region Name": "US East (N. Virginia)", "AWS Account": "prod"}}},
		},
		{
			// Names that exports give words as often as codes: labels.
			name:  "a region's and an account's names alone",
			input: "instance_id,Region Name,AWS Account\ni-0123abcd,US East (N. Virginia),Production\n",
			want: []audit.Target{{InstanceID: "i-0123abcd", Source: "h.csv:2",
				Labels: map[string]string{"Region Name": "US East (N. Virginia)", "AWS Account": "Production"}}},
		},
		{
			name:  "a region's code beside its name",
			input: "instance_id,Region Code,Region Name,Account Number,AWS Account\ni-0123abcd,eu-west-1,Europe (Ireland),123456789012,Production\n",
			want: []audit.Target{{InstanceID: "i-0123abcd", Region: "eu-west-1", AccountID: "123456789012", Source: "h.csv:2",
				Labels: map[string]string{"Region Name": "Europe (Ireland)", "AWS Account": "Production"}}},
		},
		{
			// ... and refused when they hold codes that no column sets.
			name:    "codes under a name that exports give words",
			input:   "instance_id,RegionName\ni-0123abcd,eu-west-1\n",
			wantErr: `h.csv:1: column 2 "RegionName" holds AWS Regions ("eu-west-1" on line 2), but only a region column sets an instance's Region: rename it region; or, if it is not the instances' own Region (a disaster-recovery one, say), add a region column with theirs`,
		},
		{
			// A payer's account beside the instances' own: a label.
			name:  "a billing account beside the account_id column",
			input: "instance_id,billing_account,account_id\ni-0123abcd,210987654321,123456789012\n",
			want: []audit.Target{{InstanceID: "i-0123abcd", AccountID: "123456789012", Source: "h.csv:2",
				Labels: map[string]string{"billing_account": "210987654321"}}},
		},
		{
			name:    "two other names for the region",
			input:   "instance_id,aws_region,Region Code\ni-0123abcd,us-east-1,us-east-1\n",
			wantErr: `h.csv:1: two region columns in the header (columns 2 and 3)`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			err := f.Read(strings.NewReader(tt.input), "h.csv")
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Read error %v, want %q", err, tt.wantErr)
				}
				var re *audit.ReadError
				if !errors.As(err, &re) {
					t.Errorf("Read error %#v, want an *audit.ReadError", err)
				}
				if len(f.Targets())+len(f.Invalid)+len(f.LabelKeys) != 0 {
					t.Errorf("Read failed but changed the fleet: %+v", f)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := tgtProblems(t, &f); got != nil {
				t.Fatalf("problems: %q", got)
			}
			if got := f.Targets(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("targets %+v, want %+v", got, tt.want)
			}
		})
	}
}

// TestReadCSVHashHeader: some exports number their rows in a first column
// named "#". Its header is the header, not a comment: taken for one, the
// list was refused for wanting the instance_id column it has. A comment
// that only speaks of the column stays a comment.
func TestReadCSVHashHeader(t *testing.T) {
	tests := []struct {
		name  string
		input string
		want  []audit.Target
	}{
		{
			name:  "a first column named #",
			input: "#,Instance ID,Name\n1,i-0123abcd,web\n",
			want: []audit.Target{{InstanceID: "i-0123abcd", Source: "h.csv:2",
				Labels: map[string]string{"#": "1", "Name": "web"}}},
		},
		{
			name:  "after a comment",
			input: "# export of 2024-05-01\n  #, instance_id\n1,i-0123abcd\n",
			want: []audit.Target{{InstanceID: "i-0123abcd", Source: "h.csv:3",
				Labels: map[string]string{"#": "1"}}},
		},
		{
			name:  "a comment naming the column",
			input: "# instance_id, one a line\ni-0123abcd\n",
			want:  []audit.Target{{InstanceID: "i-0123abcd", Source: "h.csv:2"}},
		},
		{
			// Its first field is "# exported ...", not "#": a comment.
			name:  "a comment naming the columns of a plain list",
			input: "# exported from cmdb: hostname,instance_id\ni-0123abcd\n",
			want:  []audit.Target{{InstanceID: "i-0123abcd", Source: "h.csv:2"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			if err := f.Read(strings.NewReader(tt.input), "h.csv"); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := tgtProblems(t, &f); got != nil {
				t.Fatalf("problems: %q", got)
			}
			if got := f.Targets(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("targets %+v, want %+v", got, tt.want)
			}
		})
	}
}
