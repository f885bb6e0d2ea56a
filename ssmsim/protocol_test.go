package ssmsim_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/ssmsim"
)

const diasTarget = ssmsim.OpDescribeInstanceAssociationsStatus

func TestProtocolErrors(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	f.Add(ssmsim.Instance{InstanceID: "i-0123456789abcdef0"})
	s, url := start(t, f, ssmsim.Options{})
	good := `{"InstanceId":"i-0123456789abcdef0"}`
	with := func(changes map[string]string) map[string]string {
		h := signedHeaders(diasTarget)
		for k, v := range changes {
			h[k] = v
		}
		return h
	}
	auth := func(cred, signed, sig string) string {
		return "AWS4-HMAC-SHA256 Credential=" + cred + ", SignedHeaders=" + signed + ", Signature=" + sig
	}
	day := signDay(signTime())
	cred := testKey + "/" + day + "/us-east-1/ssm/aws4_request"
	const signed = "content-type;host;x-amz-date;x-amz-target"
	sixAgo := time.Now().UTC().Add(-6 * time.Minute).Format("20060102T150405Z")
	sixAhead := time.Now().UTC().Add(6 * time.Minute).Format("20060102T150405Z")

	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		headers    map[string]string
		wantStatus int
		wantType   string
		wantMsg    string // "" means: any
	}{
		{"no Authorization", "POST", "/", good, with(map[string]string{"Authorization": ""}),
			400, "com.amazon.coral.service#MissingAuthenticationTokenException", "Request is missing Authentication Token"},
		{"Authorization without Credential", "POST", "/", good, with(map[string]string{"Authorization": "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=" + sig64}),
			400, "com.amazon.coral.service#IncompleteSignatureException", ""},
		{"Authorization of another scheme", "POST", "/", good, with(map[string]string{"Authorization": "Bearer abc"}),
			400, "com.amazon.coral.service#IncompleteSignatureException", ""},
		{"no date", "POST", "/", good, with(map[string]string{"X-Amz-Date": ""}),
			400, "com.amazon.coral.service#IncompleteSignatureException", ""},
		{"scoped to another service", "POST", "/", good, with(map[string]string{"Authorization": auth(testKey+"/"+day+"/us-east-1/ec2/aws4_request", signed, sig64)}),
			400, "InvalidSignatureException", "Credential should be scoped to correct service: 'ssm'. "},
		{"dates disagree", "POST", "/", good, with(map[string]string{"X-Amz-Date": "20250603T000000Z"}),
			400, "InvalidSignatureException", ""},
		{"signed 6 minutes ago", "POST", "/", good, with(map[string]string{"X-Amz-Date": sixAgo, "Authorization": auth(testKey+"/"+sixAgo[:8]+"/us-east-1/ssm/aws4_request", signed, sig64)}),
			400, "InvalidSignatureException", ""},
		{"signed 6 minutes ahead", "POST", "/", good, with(map[string]string{"X-Amz-Date": sixAhead, "Authorization": auth(testKey+"/"+sixAhead[:8]+"/us-east-1/ssm/aws4_request", signed, sig64)}),
			400, "InvalidSignatureException", ""},
		{"host not signed", "POST", "/", good, with(map[string]string{"Authorization": auth(cred, "content-type;x-amz-date", sig64)}),
			400, "InvalidSignatureException", ""},
		{"signed header missing", "POST", "/", good, with(map[string]string{"Authorization": auth(cred, signed+";x-amz-security-token", sig64)}),
			400, "InvalidSignatureException", ""},
		{"signature not hex", "POST", "/", good, with(map[string]string{"Authorization": auth(cred, signed, strings.Repeat("z", 64))}),
			400, "InvalidSignatureException", ""},
		{"unknown operation", "POST", "/", good, with(map[string]string{"X-Amz-Target": "AmazonSSM.GetParameter"}),
			400, "com.amazon.coral.service#UnknownOperationException", ""},
		{"another service's target", "POST", "/", good, with(map[string]string{"X-Amz-Target": "DynamoDB_20120810.ListTables"}),
			400, "com.amazon.coral.service#UnknownOperationException", ""},
		{"no target", "POST", "/", good, with(map[string]string{"X-Amz-Target": "", "Authorization": auth(cred, "content-type;host;x-amz-date", sig64)}),
			400, "com.amazon.coral.service#UnknownOperationException", ""},
		{"plain JSON content type", "POST", "/", good, with(map[string]string{"Content-Type": "application/json"}),
			400, "com.amazon.coral.service#UnknownOperationException", ""},
		{"GET", "GET", "/", "", signedHeaders(diasTarget),
			405, "com.amazon.coral.service#UnknownOperationException", ""},
		{"another path", "POST", "/v1/associations", good, signedHeaders(diasTarget),
			404, "com.amazon.coral.service#UnknownOperationException", ""},
		{"body not JSON", "POST", "/", "InstanceId=i-0123456789abcdef0", signedHeaders(diasTarget),
			400, "com.amazon.coral.service#SerializationException", ""},
		{"body truncated", "POST", "/", `{"InstanceId":"i-0123`, signedHeaders(diasTarget),
			400, "com.amazon.coral.service#SerializationException", ""},
		{"body a list", "POST", "/", `[]`, signedHeaders(diasTarget),
			400, "com.amazon.coral.service#SerializationException", ""},
		{"InstanceId a number", "POST", "/", `{"InstanceId":5}`, signedHeaders(diasTarget),
			400, "com.amazon.coral.service#SerializationException", ""},
		{"MaxResults a string", "POST", "/", `{"InstanceId":"i-0123456789abcdef0","MaxResults":"10"}`, signedHeaders(diasTarget),
			400, "com.amazon.coral.service#SerializationException", ""},
		{"MaxResults a fraction", "POST", "/", `{"InstanceId":"i-0123456789abcdef0","MaxResults":2.5}`, signedHeaders(diasTarget),
			400, "com.amazon.coral.service#SerializationException", ""},
		{"no InstanceId", "POST", "/", `{}`, signedHeaders(diasTarget),
			400, "ValidationException", "1 validation error detected: Value null at 'instanceId' failed to satisfy constraint: Member must not be null"},
		{"empty body", "POST", "/", ``, signedHeaders(diasTarget),
			400, "ValidationException", "1 validation error detected: Value null at 'instanceId' failed to satisfy constraint: Member must not be null"},
		{"member names are case-sensitive", "POST", "/", `{"instanceid":"i-0123456789abcdef0"}`, signedHeaders(diasTarget),
			400, "ValidationException", ""},
		{"filter without values", "POST", "/", `{"Filters":[{"Key":"PingStatus","Values":[]}]}`, signedHeaders(ssmsim.OpDescribeInstanceInformation),
			400, "ValidationException", "1 validation error detected: Value '[]' at 'filters.1.member.values' failed to satisfy constraint: Member must have length greater than or equal to 1"},
		{"legacy key outside the enum", "POST", "/", `{"InstanceInformationFilterList":[{"key":"tag:Team","valueSet":["web"]}]}`, signedHeaders(ssmsim.OpDescribeInstanceInformation),
			400, "ValidationException", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ResetStats()
			r := raw(t, tt.method, url+tt.path, tt.body, tt.headers)
			if r.status != tt.wantStatus || r.typ != tt.wantType {
				t.Errorf("got HTTP %d %s, want HTTP %d %s; body %s", r.status, r.typ, tt.wantStatus, tt.wantType, r.body)
			}
			if tt.wantMsg != "" && r.msg != tt.wantMsg {
				t.Errorf("message:\n got %q\nwant %q", r.msg, tt.wantMsg)
			}
			if r.msg == "" && !strings.Contains(r.typ, "UnknownOperation") {
				t.Errorf("no message in %s", r.body)
			}
			checkHeaders(t, r)
			if st := s.Stats(); st.ClientErrors != 1 || st.Requests != 1 {
				t.Errorf("Stats: ClientErrors %d, Requests %d; want 1 and 1", st.ClientErrors, st.Requests)
			}
		})
	}
}

var requestIDRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

func checkHeaders(t *testing.T, r rawResponse) {
	t.Helper()
	if ct := r.header.Get("Content-Type"); ct != ssmsim.ContentType {
		t.Errorf("Content-Type %q, want %q", ct, ssmsim.ContentType)
	}
	if id := r.header.Get("X-Amzn-Requestid"); !requestIDRE.MatchString(id) {
		t.Errorf("x-amzn-RequestId %q is not a request ID", id)
	}
}

func TestProtocolWireForm(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	f.Add(ssmsim.Instance{
		InstanceID: "i-0123456789abcdef0",
		PingStatus: "Online", LastPingDateTime: time.UnixMilli(1748865600000).UTC(),
		AgentVersion: "3.3.1142.0", IsLatestVersion: true, PlatformType: "Linux",
		ResourceType: "EC2Instance", Tags: map[string]string{"Team": "web"},
		Associations: []ssmsim.Association{
			{AssociationID: "00000000-0000-4000-8000-000000000001", Status: "Success", DetailedStatus: "Success",
				ExecutionDate: time.UnixMilli(1748865000120).UTC(), OutputURL: "https://s3.amazonaws.com/b/k"},
			{AssociationID: "00000000-0000-4000-8000-000000000002", Status: "Failed", ErrorCode: "InvalidAssoc",
				ExecutionDate: time.UnixMilli(1748864000000).UTC()},
		},
	})
	f.Add(ssmsim.Instance{InstanceID: "mi-0123456789abcdef0"})
	s, url := start(t, f, ssmsim.Options{TokenSecret: []byte("fixed")})

	r := raw(t, "POST", url, `{"InstanceId":"i-0123456789abcdef0","MaxResults":1}`, signedHeaders(diasTarget))
	checkHeaders(t, r)
	body := string(r.body)
	wantPrefix := `{"InstanceAssociationStatusInfos":[{"AssociationId":"00000000-0000-4000-8000-000000000001",` +
		`"InstanceId":"i-0123456789abcdef0","ExecutionDate":1.74886500012E9,"Status":"Success","DetailedStatus":"Success",` +
		`"OutputUrl":{"S3OutputUrl":{"OutputUrl":"https://s3.amazonaws.com/b/k"}}}],"NextToken":"`
	if r.status != 200 || !strings.HasPrefix(body, wantPrefix) || !strings.HasSuffix(body, `"}`) {
		t.Fatalf("HTTP %d\n got %s\nwant %s...\"}", r.status, body, wantPrefix)
	}
	token := strings.TrimSuffix(strings.TrimPrefix(body, wantPrefix), `"}`)
	if !regexp.MustCompile(`^[A-Za-z0-9+/]+=*$`).MatchString(token) {
		t.Errorf("NextToken %q is not standard base64", token)
	}

	// The same secret gives the same token: another server accepts it.
	_, url2 := start(t, f, ssmsim.Options{TokenSecret: []byte("fixed")})
	r = raw(t, "POST", url2, `{"InstanceId":"i-0123456789abcdef0","MaxResults":1,"NextToken":"`+token+`"}`, signedHeaders(diasTarget))
	want := `{"InstanceAssociationStatusInfos":[{"AssociationId":"00000000-0000-4000-8000-000000000002",` +
		`"InstanceId":"i-0123456789abcdef0","ExecutionDate":1.748864E9,"Status":"Failed","ErrorCode":"InvalidAssoc"}]}`
	if r.status != 200 || string(r.body) != want {
		t.Errorf("second page: HTTP %d\n got %s\nwant %s", r.status, r.body, want)
	}

	r = raw(t, "POST", url, `{"MaxResults":5}`, signedHeaders(ssmsim.OpDescribeInstanceInformation))
	want = `{"InstanceInformationList":[{"InstanceId":"i-0123456789abcdef0","PingStatus":"Online","LastPingDateTime":1.7488656E9,` +
		`"AgentVersion":"3.3.1142.0","IsLatestVersion":true,"PlatformType":"Linux","ResourceType":"EC2Instance",` +
		`"AssociationStatus":"Failed","LastAssociationExecutionDate":1.74886500012E9,"LastSuccessfulAssociationExecutionDate":1.74886500012E9,` +
		`"AssociationOverview":{"DetailedStatus":"Failed","InstanceAssociationStatusAggregatedCount":{"Failed":1,"Success":1}}},` +
		`{"InstanceId":"mi-0123456789abcdef0"}]}`
	if r.status != 200 || string(r.body) != want {
		t.Errorf("DescribeInstanceInformation: HTTP %d\n got %s\nwant %s", r.status, r.body, want)
	}
	if st := s.Stats(); st.OK != 2 || st.Calls[ssmsim.OpDescribeInstanceInformation] != 1 {
		t.Errorf("Stats %+v", st)
	}
}

func TestProtocolDroppedConnection(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	f.Add(ssmsim.Instance{InstanceID: "i-0123456789abcdef0"})
	s, url := start(t, f, ssmsim.Options{Faults: ssmsim.Faults{DropRate: 1}})
	// Both kinds of drop fail the exchange: no response, or a short body.
	noAnswer, shortBody := 0, 0
	for range 8 {
		req, _ := http.NewRequestWithContext(ctx(t), "POST", url, strings.NewReader(`{"InstanceId":"i-0123456789abcdef0"}`))
		for k, v := range signedHeaders(diasTarget) {
			req.Header.Set(k, v)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			noAnswer++
			continue
		}
		_, err = io.ReadAll(resp.Body)
		resp.Body.Close()
		if err == nil {
			t.Fatal("a dropped connection gave a complete answer")
		}
		shortBody++
	}
	if noAnswer == 0 || shortBody == 0 {
		t.Errorf("%d drops without an answer, %d with a short body; want both kinds in 8 drops (seed 0)", noAnswer, shortBody)
	}
	if st := s.Stats(); st.Dropped != 8 {
		t.Errorf("Dropped %d, want 8", st.Dropped)
	}
}
