package ssmsim_test

import (
	"encoding/xml"
	"net/url"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/ssmsim"
)

// queryHeaders are the headers of a well-formed query request signed with
// key for service in region.
func queryHeaders(key, region, service string) map[string]string {
	at := signTime()
	return map[string]string{
		"Content-Type":  "application/x-www-form-urlencoded; charset=utf-8",
		"X-Amz-Date":    at,
		"Authorization": "AWS4-HMAC-SHA256 Credential=" + key + "/" + signDay(at) + "/" + region + "/" + service + "/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=" + sig64,
	}
}

// stsError is STS's error body.
type stsError struct {
	XMLName xml.Name `xml:"https://sts.amazonaws.com/doc/2011-06-15/ ErrorResponse"`
	Type    string   `xml:"Error>Type"`
	Code    string   `xml:"Error>Code"`
	Message string   `xml:"Error>Message"`
	ID      string   `xml:"RequestId"`
}

// ec2Error is EC2's error body.
type ec2Error struct {
	XMLName xml.Name `xml:"Response"`
	Code    []string `xml:"Errors>Error>Code"`
	Message []string `xml:"Errors>Error>Message"`
	ID      string   `xml:"RequestID"`
}

func TestProtocolQueryErrors(t *testing.T) {
	o := testOrg(t, nil)
	staging := o.Accounts()[2].ID
	_, endpoint := startOrg(t, o, ssmsim.Options{})
	sts := func(action string) string { return "Action=" + action + "&Version=2011-06-15" }
	ec2 := func(action string) string { return "Action=" + action + "&Version=2016-11-15" }
	with := func(h map[string]string, k, v string) map[string]string { h[k] = v; return h }
	stagingKey := "AKIASTAGINGTEST00001"
	o2 := testOrg(t, func(c *ssmsim.OrgConfig) { c.Accounts[2].AccessKeys = []string{stagingKey} })
	_, url2 := startOrg(t, o2, ssmsim.Options{})

	tests := []struct {
		name       string
		url        string
		body       string
		headers    map[string]string
		wantEC2    bool // EC2's Response, else STS's ErrorResponse
		wantStatus int
		wantCode   string
		wantMsg    string // "" means: any
	}{
		{"STS without Authorization", endpoint, sts("GetCallerIdentity"), with(queryHeaders(mgmtKey, "us-east-1", "sts"), "Authorization", ""),
			false, 403, "MissingAuthenticationToken", "Request is missing Authentication Token"},
		{"STS scoped to SSM", endpoint, sts("GetCallerIdentity"), queryHeaders(mgmtKey, "us-east-1", "ssm"),
			false, 403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'sts'. "},
		{"STS with an incomplete Authorization", endpoint, sts("GetCallerIdentity"), with(queryHeaders(mgmtKey, "us-east-1", "sts"), "Authorization", "AWS4-HMAC-SHA256 Signature="+sig64),
			false, 400, "IncompleteSignature", ""},
		{"STS with an unknown key", endpoint, sts("GetCallerIdentity"), queryHeaders("AKIANOBODYKNOWSTHIS1", "us-east-1", "sts"),
			false, 403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"STS with a temporary key it did not issue", endpoint, sts("GetCallerIdentity"), with(queryHeaders("ASIANOBODYISSUEDTHIS", "us-east-1", "sts"), "X-Amz-Security-Token", "abc"),
			false, 403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"STS in a region the account has not enabled", url2, sts("GetCallerIdentity"), queryHeaders(stagingKey, "af-south-1", "sts"),
			false, 403, "InvalidClientTokenId", "The security token included in the request is invalid."},
		{"STS action unknown", endpoint, sts("GetSessionToken"), queryHeaders(mgmtKey, "us-east-1", "sts"),
			false, 400, "InvalidAction", "Could not find operation GetSessionToken for version 2011-06-15"},
		{"STS action without Version", endpoint, "Action=GetCallerIdentity", queryHeaders(mgmtKey, "us-east-1", "sts"),
			false, 400, "MissingParameter", "The request must contain the parameter Version"},
		{"AssumeRole without RoleArn", endpoint, sts("AssumeRole") + "&RoleSessionName=abc", queryHeaders(mgmtKey, "us-east-1", "sts"),
			false, 400, "ValidationError", "1 validation error detected: Value null at 'roleArn' failed to satisfy constraint: Member must not be null"},
		{"AssumeRole with DurationSeconds not a number", endpoint, sts("AssumeRole") + "&RoleSessionName=abc&RoleArn=" + url.QueryEscape(o.RoleARN(staging, "AuditRole")) + "&DurationSeconds=soon",
			queryHeaders(mgmtKey, "us-east-1", "sts"),
			false, 400, "ValidationError", "1 validation error detected: Value 'soon' at 'durationSeconds' failed to satisfy constraint: Member must be a valid integer"},
		{"EC2 action unknown", endpoint, ec2("DescribeInstances"), queryHeaders(mgmtKey, "us-east-1", "ec2"),
			true, 400, "InvalidAction", "The action DescribeInstances is not valid for this web service."},
		{"EC2 scoped to STS", endpoint, ec2("DescribeRegions"), queryHeaders(mgmtKey, "us-east-1", "sts"),
			true, 403, "SignatureDoesNotMatch", "Credential should be scoped to correct service: 'ec2'. "},
		{"EC2 with an unknown key", endpoint, ec2("DescribeRegions"), queryHeaders("AKIANOBODYKNOWSTHIS1", "us-east-1", "ec2"),
			true, 401, "AuthFailure", "AWS was not able to validate the provided access credentials"},
		{"EC2 in a region the account has not enabled", url2, ec2("DescribeRegions"), queryHeaders(stagingKey, "af-south-1", "ec2"),
			true, 401, "AuthFailure", "AWS was not able to validate the provided access credentials"},
		{"EC2 with AllRegions not a boolean", endpoint, ec2("DescribeRegions") + "&AllRegions=maybe", queryHeaders(mgmtKey, "us-east-1", "ec2"),
			true, 400, "InvalidParameterValue", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := raw(t, "POST", tt.url, tt.body, tt.headers)
			if ct := r.header.Get("Content-Type"); ct != ssmsim.XMLContentType {
				t.Errorf("Content-Type %q, want %q", ct, ssmsim.XMLContentType)
			}
			id := r.header.Get("X-Amzn-Requestid")
			if !requestIDRE.MatchString(id) {
				t.Errorf("x-amzn-RequestId %q", id)
			}
			var code, msg, bodyID string
			if tt.wantEC2 {
				var e ec2Error
				if err := xml.Unmarshal(r.body, &e); err != nil || len(e.Code) != 1 || len(e.Message) != 1 {
					t.Fatalf("not EC2's error body (%v): %s", err, r.body)
				}
				code, msg, bodyID = e.Code[0], e.Message[0], e.ID
			} else {
				var e stsError
				if err := xml.Unmarshal(r.body, &e); err != nil || e.Type != "Sender" {
					t.Fatalf("not STS's error body (%v): %s", err, r.body)
				}
				code, msg, bodyID = e.Code, e.Message, e.ID
			}
			if r.status != tt.wantStatus || code != tt.wantCode || (tt.wantMsg != "" && msg != tt.wantMsg) || msg == "" {
				t.Errorf("got HTTP %d %s %q\nwant HTTP %d %s %q", r.status, code, msg, tt.wantStatus, tt.wantCode, tt.wantMsg)
			}
			if bodyID != id {
				t.Errorf("request ID %q in the body, %q in the header", bodyID, id)
			}
		})
	}
}

func TestProtocolOrgJSONErrors(t *testing.T) {
	o := testOrg(t, nil)
	_, url := startOrg(t, o, ssmsim.Options{})
	headers := func(target, service, region string) map[string]string {
		h := signedHeaders("")
		h["X-Amz-Target"] = target
		h["Authorization"] = "AWS4-HMAC-SHA256 Credential=" + mgmtKey + "/" + signDay(h["X-Amz-Date"]) + "/" + region + "/" + service +
			"/aws4_request, SignedHeaders=content-type;host;x-amz-date;x-amz-target, Signature=" + sig64
		return h
	}
	const listAccounts = "AWSOrganizationsV20161128.ListAccounts"
	tests := []struct {
		name                string
		body                string
		headers             map[string]string
		wantType, wantMsg   string
		wantReasonInTheBody string
	}{
		{"Organizations scoped to SSM", `{}`, headers(listAccounts, "ssm", "us-east-1"),
			"InvalidSignatureException", "Credential should be scoped to correct service: 'organizations'. ", ""},
		{"SSM scoped to Organizations", `{}`, headers("AmazonSSM.DescribeInstanceInformation", "organizations", "us-east-1"),
			"InvalidSignatureException", "Credential should be scoped to correct service: 'ssm'. ", ""},
		{"MaxResults 0", `{"MaxResults":0}`, headers(listAccounts, "organizations", "us-east-1"),
			"InvalidInputException", "You provided a value that is less than the minimum allowed.", `"Reason":"MIN_VALUE_EXCEEDED"`},
		{"MaxResults a string", `{"MaxResults":"5"}`, headers(listAccounts, "organizations", "us-east-1"),
			"com.amazon.coral.service#SerializationException", "", ""},
		{"SSM in a region nobody has", `{}`, headers("AmazonSSM.DescribeInstanceInformation", "ssm", "mars-north-1"),
			"UnrecognizedClientException", "The security token included in the request is invalid.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := raw(t, "POST", url, tt.body, tt.headers)
			checkHeaders(t, r)
			if r.status != 400 || r.typ != tt.wantType || (tt.wantMsg != "" && r.msg != tt.wantMsg) || r.msg == "" {
				t.Errorf("got HTTP %d %s %q, want HTTP 400 %s %q; body %s", r.status, r.typ, r.msg, tt.wantType, tt.wantMsg, r.body)
			}
			if !strings.Contains(string(r.body), tt.wantReasonInTheBody) {
				t.Errorf("body %s has no %s", r.body, tt.wantReasonInTheBody)
			}
		})
	}
	// Organizations is global: any region of the signature will do.
	r := raw(t, "POST", url, `{}`, headers(listAccounts, "organizations", "af-south-1"))
	if r.status != 200 || !strings.HasPrefix(string(r.body), `{"Accounts":[{"Id":"`+o.Management()+`"`) {
		t.Errorf("ListAccounts signed for af-south-1: HTTP %d %s", r.status, r.body)
	}
}

func TestProtocolQueryWireForm(t *testing.T) {
	o := testOrg(t, nil)
	_, url := startOrg(t, o, ssmsim.Options{})
	r := raw(t, "POST", url, "Action=GetCallerIdentity&Version=2011-06-15", queryHeaders(mgmtKey, "us-east-1", "sts"))
	id := r.header.Get("X-Amzn-Requestid")
	want := `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">
  <GetCallerIdentityResult>
    <Arn>arn:aws:iam::123456789012:user/` + mgmtKey + `</Arn>
    <UserId>` + "%s" + `</UserId>
    <Account>123456789012</Account>
  </GetCallerIdentityResult>
  <ResponseMetadata>
    <RequestId>` + id + `</RequestId>
  </ResponseMetadata>
</GetCallerIdentityResponse>
`
	var userID string
	if _, after, ok := strings.Cut(string(r.body), "<UserId>"); ok {
		userID, _, _ = strings.Cut(after, "</UserId>")
	}
	if r.status != 200 || string(r.body) != strings.Replace(want, "%s", userID, 1) || len(userID) != 21 || !strings.HasPrefix(userID, "AIDA") {
		t.Errorf("HTTP %d\n got %s\nwant %s", r.status, r.body, want)
	}

	r = raw(t, "POST", url, "Action=DescribeRegions&Version=2016-11-15&RegionName.1=eu-west-1", queryHeaders(mgmtKey, "us-east-1", "ec2"))
	want = `<?xml version="1.0" encoding="UTF-8"?>
<DescribeRegionsResponse xmlns="http://ec2.amazonaws.com/doc/2016-11-15/">
    <requestId>` + r.header.Get("X-Amzn-Requestid") + `</requestId>
    <regionInfo>
        <item>
            <regionName>eu-west-1</regionName>
            <optInStatus>opt-in-not-required</optInStatus>
            <regionEndpoint>ec2.eu-west-1.amazonaws.com</regionEndpoint>
        </item>
    </regionInfo>
</DescribeRegionsResponse>
`
	if r.status != 200 || string(r.body) != want {
		t.Errorf("HTTP %d\n got %s\nwant %s", r.status, r.body, want)
	}
}
