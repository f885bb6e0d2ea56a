package awsconn

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestOrgAccounts: OrgAccounts keeps the ACTIVE accounts of the
// organisation by their State, whichever lifecycle fields ListAccounts
// answers: State alone, as Organizations does since it retired Status on
// September 9, 2026 (every account was dropped when only Status was read),
// State and Status, and Status alone, as before State existed. An account
// whose Status still says ACTIVE while its State says it is not is left
// out: State is the one Organizations keeps.
func TestOrgAccounts(t *testing.T) {
	accounts := []ssmsim.Account{
		{ID: "111111111111", Name: "Management"},
		{ID: "222222222222", Name: "Production", State: ssmsim.AccountActive},
		{ID: "333333333333", Name: "Suspended", State: ssmsim.AccountSuspended},
		{ID: "444444444444", Name: "Closed", State: ssmsim.AccountClosed},
		{ID: "555555555555", Name: "Closing", State: ssmsim.AccountPendingClosure},
		{ID: "666666666666", Name: "Signing up", State: ssmsim.AccountPendingActivation, Status: ssmsim.AccountActive},
		{ID: "777777777777", Name: "Staging"},
	}
	org, err := ssmsim.NewOrg(ssmsim.OrgConfig{Accounts: accounts, Regions: []ssmsim.Region{{Name: "us-east-1"}}, Fleet: ssmsim.FleetConfig{Size: 1}})
	if err != nil {
		t.Fatal(err)
	}
	want := []Account{{ID: "111111111111", Name: "Management"}, {ID: "222222222222", Name: "Production"}, {ID: "777777777777", Name: "Staging"}}
	for _, tc := range []struct {
		name   string
		fields ssmsim.AccountFields
		want   []Account
	}{
		{"State alone, as today", ssmsim.FieldsState, want},
		{"State and Status, until Status was retired", ssmsim.FieldsStateAndStatus, want},
		// Without State, Status is all there is: it says ACTIVE of the
		// account still signing up.
		{"Status alone, before State", ssmsim.FieldsStatus, append(slices.Clone(want[:2]),
			Account{ID: "666666666666", Name: "Signing up"}, want[2])},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := orgConn(t, org, tc.fields)
			got, err := c.OrgAccounts(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(got, tc.want) {
				t.Errorf("OrgAccounts = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestOrgAccountsNoneActive: an organisation that lists no ACTIVE account
// is an error wrapping ErrNoActiveAccount, which names the states it
// listed, not an empty list that a caller could take for "no --accounts".
func TestOrgAccountsNoneActive(t *testing.T) {
	org, err := ssmsim.NewOrg(ssmsim.OrgConfig{
		Accounts: []ssmsim.Account{
			{ID: "111111111111", Name: "Management", State: ssmsim.AccountPendingClosure},
			{ID: "222222222222", Name: "Suspended", State: ssmsim.AccountSuspended},
			{ID: "333333333333", Name: "Suspended too", State: ssmsim.AccountSuspended},
		},
		Regions: []ssmsim.Region{{Name: "us-east-1"}},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, err := orgConn(t, org, ssmsim.FieldsState).OrgAccounts(context.Background())
	if !errors.Is(err, ErrNoActiveAccount) || !strings.Contains(err.Error(), "3 accounts, none of them ACTIVE (PENDING_CLOSURE 1, SUSPENDED 2)") {
		t.Errorf("OrgAccounts = %v, %v; want an error wrapping ErrNoActiveAccount that counts the states", got, err)
	}
}

// orgConn serves org, answering ListAccounts with fields, and returns a Conn
// to it with the management account's credentials.
func orgConn(t *testing.T, org *ssmsim.Org, fields ssmsim.AccountFields) *Conn {
	t.Helper()
	srv := ssmsim.NewServer(nil, ssmsim.Options{Org: org, AccountFields: fields})
	url, stop, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	c, err := Load(context.Background(), Settings{Region: "us-east-1", EndpointURL: url,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAORGMANAGEMENT001", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestHomeRegion: the calls that belong to no one region go to the
// configured region, else to Settings.HomeRegion, which is no other
// client's region (the targets', S3's, SES's), and which the credential
// chain's own STS calls use too (a role_arn profile without a region).
func TestHomeRegion(t *testing.T) {
	org, err := ssmsim.NewOrg(ssmsim.OrgConfig{Regions: []ssmsim.Region{{Name: "us-east-1"}, {Name: "eu-west-1"}, {Name: "af-south-1", OptIn: true}}, Fleet: ssmsim.FleetConfig{Size: 1}})
	if err != nil {
		t.Fatal(err)
	}
	srv := ssmsim.NewServer(nil, ssmsim.Options{Org: org})
	url, stop, err := srv.Start()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(stop)
	member := org.Accounts()[1].ID
	profiles := "[profile keys]\naws_access_key_id = AKIAORGMANAGEMENT001\naws_secret_access_key = s\n\n" +
		"[profile west]\nregion = us-west-2\naws_access_key_id = AKIAORGMANAGEMENT001\naws_secret_access_key = s\n\n" +
		"[profile role]\nrole_arn = arn:aws:iam::" + member + ":role/AuditRole\nsource_profile = keys\n"
	for _, tc := range []struct {
		name, profile, region, env string
		wantRegion, wantHome       string
		wantAccount                string
	}{
		{name: "none configured", profile: "keys", wantHome: "eu-west-1", wantAccount: org.Management()},
		{name: "a role_arn profile", profile: "role", wantHome: "eu-west-1", wantAccount: member},
		{name: "AWS_REGION", profile: "keys", env: "us-east-1", wantRegion: "us-east-1", wantHome: "us-east-1", wantAccount: org.Management()},
		{name: "the profile's", profile: "west", wantRegion: "us-west-2", wantHome: "us-west-2"},
		{name: "--region", profile: "keys", region: "us-east-1", wantRegion: "us-east-1", wantHome: "us-east-1", wantAccount: org.Management()},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t, profiles)
			t.Setenv("AWS_ENDPOINT_URL", url)
			t.Setenv("AWS_ENDPOINT_URL_STS", url)
			t.Setenv("AWS_REGION", tc.env)
			c, err := Load(context.Background(), Settings{Profile: tc.profile, Region: tc.region, HomeRegion: "eu-west-1"})
			if err != nil {
				t.Fatal(err)
			}
			if c.Region() != tc.wantRegion || c.HomeRegion() != tc.wantHome {
				t.Errorf("Region %q, HomeRegion %q; want %q, %q", c.Region(), c.HomeRegion(), tc.wantRegion, tc.wantHome)
			}
			if tc.wantAccount == "" {
				return // us-west-2 is not a region of the organisation
			}
			id, err := c.CallerIdentity(context.Background())
			if err != nil || id.Account != tc.wantAccount {
				t.Errorf("CallerIdentity = %+v, %v; want account %s", id, err, tc.wantAccount)
			}
		})
	}
}

// TestValidRoleValues: the session names and external IDs STS takes, by
// its patterns ([\w+=,.@-] and [\w+=,.@:/-], \w being ASCII) and lengths;
// a reason never repeats an external ID.
func TestValidRoleValues(t *testing.T) {
	for _, tc := range []struct {
		v           string
		name, extID bool
	}{
		{"auditor", true, true},
		{"jane@example.com", true, true},
		{"a_b+c=d,e.f@g-h", true, true},
		{"arn:aws:iam::123456789012:root/x", false, true},
		{"a", false, false},
		{strings.Repeat("a", 64), true, true},
		{strings.Repeat("a", 65), false, true},
		{strings.Repeat("a", 1225), false, false},
		{"audit run", false, false},
		{"café", false, false},
	} {
		if got := ValidSessionName(tc.v) == ""; got != tc.name {
			t.Errorf("ValidSessionName(%q) = %q, want valid %v", tc.v, ValidSessionName(tc.v), tc.name)
		}
		p := ValidExternalID(tc.v)
		if got := p == ""; got != tc.extID {
			t.Errorf("ValidExternalID(%q) = %q, want valid %v", tc.v, p, tc.extID)
		}
		if len(tc.v) > 2 && strings.Contains(p, tc.v) {
			t.Errorf("ValidExternalID(%q) = %q repeats it", tc.v, p)
		}
	}
}

// TestOrgAnswerValidated: an account ID from ListAccounts, or a region name
// from DescribeRegions, that is not one is refused with the value escaped,
// not passed on to be printed raw, audited and written in the reports: an
// answer with "99999999\x1b]0;PWNED\x07" in it cannot be trusted.
func TestOrgAnswerValidated(t *testing.T) {
	const hostile = "99999999\x1b]0;PWNED\x07\x1b[2K\rFAKE"
	// XML holds no control character: a bidi override is what EC2's
	// answer could carry.
	const hostileRegion = "us-east-1\u202eevil"
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.Header.Get("X-Amz-Target"), ".ListAccounts") {
			w.Header().Set("Content-Type", "application/x-amz-json-1.1")
			b, _ := json.Marshal(map[string]any{"Accounts": []map[string]string{
				{"Id": "111111111111", "Name": "Management", "State": "ACTIVE"},
				{"Id": hostile, "Name": "Evil", "State": "ACTIVE"},
			}})
			w.Write(b)
			return
		}
		body, _ := io.ReadAll(r.Body)
		if strings.Contains(string(body), "Action=DescribeRegions") {
			w.Header().Set("Content-Type", "text/xml")
			fmt.Fprintf(w, `<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/"><requestId>r</requestId><regionInfo>`+
				`<item><regionName>us-east-1</regionName><optInStatus>opt-in-not-required</optInStatus></item>`+
				`<item><regionName>%s</regionName><optInStatus>opted-in</optInStatus></item>`+
				`</regionInfo></DescribeRegionsResponse>`, hostileRegion)
			return
		}
		http.Error(w, "unexpected request", http.StatusBadRequest)
	}))
	t.Cleanup(srv.Close)
	isolate(t, "")
	t.Setenv("AWS_ENDPOINT_URL", srv.URL)
	c, err := Load(context.Background(), Settings{Region: "us-east-1", EndpointURL: srv.URL,
		Credentials: credentials.NewStaticCredentialsProvider("AKIAORGMANAGEMENT001", "secret", "")})
	if err != nil {
		t.Fatal(err)
	}

	got, err := c.OrgAccounts(context.Background())
	if err == nil || !strings.Contains(err.Error(), strconv.Quote(hostile)) || strings.Contains(err.Error(), "\x1b") {
		t.Errorf("OrgAccounts = %+v, %q; want an error that quotes the account ID %q", got, err, hostile)
	}
	checkAnswered(t, "OrgAccounts", err)
	regions, err := c.EnabledRegions(context.Background(), "")
	if err == nil || !strings.Contains(err.Error(), strconv.Quote(hostileRegion)) || strings.Contains(err.Error(), "\u202e") {
		t.Errorf("EnabledRegions = %q, %q; want an error that quotes the region name", regions, err)
	}
	checkAnswered(t, "EnabledRegions", err)
}

// checkAnswered fails the test unless err is one of an answer that could not
// be read (a *smithy.DeserializationError), which no caller takes for a
// service that did not answer.
func checkAnswered(t *testing.T, call string, err error) {
	t.Helper()
	var de *smithy.DeserializationError
	if _, none := audit.NoAnswer(err); none || !errors.As(err, &de) {
		t.Errorf("%s: %v: want a *smithy.DeserializationError, not a call without an answer", call, err)
	}
}
