package ssmsim_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/ssmsim"
)

func TestSDKPagesThroughEveryAssociation(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 300})
	s, url := start(t, f, ssmsim.Options{})
	c := client(url, testKey)
	heavy := heavyID(t, f)
	want := f.Associations(heavy)

	tests := []struct {
		name      string
		max       *int32
		wantPages int
	}{
		{"MaxResults 1", aws.Int32(1), len(want)},
		{"MaxResults 7", aws.Int32(7), (len(want) + 6) / 7},
		{"MaxResults 50", aws.Int32(50), (len(want) + 49) / 50},
		{"default page size", nil, (len(want) + ssmsim.DefaultAssociationsMaxResults - 1) / ssmsim.DefaultAssociationsMaxResults},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s.ResetStats()
			got, pages := fetchAll(t, c, heavy, tt.max)
			sameAssociations(t, got, want)
			if pages != tt.wantPages {
				t.Errorf("%d pages, want %d", pages, tt.wantPages)
			}
			st := s.Stats()
			if st.PagesServed != int64(pages) || st.DuplicatePages != 0 {
				t.Errorf("PagesServed %d, DuplicatePages %d; want %d and 0", st.PagesServed, st.DuplicatePages, pages)
			}
			if got := st.Calls[ssmsim.OpDescribeInstanceAssociationsStatus]; got != int64(pages) {
				t.Errorf("Calls[DescribeInstanceAssociationsStatus] = %d, want %d", got, pages)
			}
		})
	}

	// Every managed instance of a small fleet, including those without
	// associations, comes back exactly.
	for _, id := range f.ManagedIDs()[:60] {
		got, _ := fetchAll(t, c, id, aws.Int32(5))
		sameAssociations(t, got, f.Associations(id))
	}
}

func TestSDKEmptyInstanceGetsAnEmptyList(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	f.Add(ssmsim.Instance{InstanceID: "i-0123456789abcdef0"})
	_, url := start(t, f, ssmsim.Options{})
	out, err := client(url, testKey).DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{
		InstanceId: aws.String("i-0123456789abcdef0"),
	})
	if err != nil {
		t.Fatal(err)
	}
	if out.InstanceAssociationStatusInfos == nil || len(out.InstanceAssociationStatusInfos) != 0 || out.NextToken != nil {
		t.Errorf("got %#v, NextToken %v; want an empty (not absent) list and no token", out.InstanceAssociationStatusInfos, out.NextToken)
	}
}

func TestSDKErrors(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 300})
	_, url := start(t, f, ssmsim.Options{AccountID: "111122223333"})
	c := client(url, testKey)
	heavy := heavyID(t, f)
	unmanaged := unmanagedID(t, f)
	other := ""
	for _, id := range f.ManagedIDs() {
		if id != heavy && len(f.Associations(id)) > 1 {
			other = id
			break
		}
	}

	first, err := c.DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{
		InstanceId: aws.String(heavy), MaxResults: aws.Int32(1),
	})
	if err != nil || first.NextToken == nil {
		t.Fatalf("first page of %s: %v (token %v)", heavy, err, first)
	}
	token := *first.NextToken
	// A token with one character changed.
	flipped := []byte(token)
	flipped[len(flipped)/2] ^= 1
	if flipped[len(flipped)/2] == '=' || flipped[len(flipped)/2] < '+' {
		flipped[len(flipped)/2] = 'A'
	}

	tests := []struct {
		name     string
		in       ssm.DescribeInstanceAssociationsStatusInput
		wantCode string
		wantMsg  string // "" means: any
	}{
		{
			name:     "unmanaged instance",
			in:       ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(unmanaged)},
			wantCode: "InvalidInstanceId",
			wantMsg:  "Instances [[" + unmanaged + "]] not in a valid state for account 111122223333",
		},
		{
			name:     "instance not in the fleet",
			in:       ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String("mi-0fffffffffffffff0")},
			wantCode: "InvalidInstanceId",
		},
		{
			name:     "MaxResults 0",
			in:       ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(heavy), MaxResults: aws.Int32(0)},
			wantCode: "ValidationException",
			wantMsg:  "1 validation error detected: Value '0' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
		},
		{
			name:     "MaxResults 51",
			in:       ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(heavy), MaxResults: aws.Int32(51)},
			wantCode: "ValidationException",
			wantMsg:  "1 validation error detected: Value '51' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 50",
		},
		{
			name:     "malformed instance ID and MaxResults",
			in:       ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String("i-123"), MaxResults: aws.Int32(-1)},
			wantCode: "ValidationException",
			wantMsg: `2 validation errors detected: Value 'i-123' at 'instanceId' failed to satisfy constraint: Member must satisfy regular expression pattern: (^i-(\w{8}|\w{17})$)|(^mi-\w{17}$); ` +
				"Value '-1' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to 1",
		},
		{
			name:     "forged token",
			in:       ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(heavy), NextToken: aws.String("AQEyAAAAAAAAAAAAAAAAAAAAAA==")},
			wantCode: "InvalidNextToken",
		},
		{
			name:     "garbled token",
			in:       ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(heavy), NextToken: aws.String("not base64 at all!")},
			wantCode: "InvalidNextToken",
		},
		{
			name:     "token with a flipped bit",
			in:       ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(heavy), NextToken: aws.String(string(flipped))},
			wantCode: "InvalidNextToken",
		},
		{
			name:     "token reused with another instance",
			in:       ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(other), NextToken: aws.String(token)},
			wantCode: "InvalidNextToken",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.DescribeInstanceAssociationsStatus(ctx(t), &tt.in)
			if err == nil {
				t.Fatalf("no error, want %s", tt.wantCode)
			}
			code, msg, status := apiCode(t, err)
			if code != tt.wantCode || status != 400 {
				t.Errorf("got %s (HTTP %d), want %s (HTTP 400): %v", code, status, tt.wantCode, err)
			}
			if tt.wantMsg != "" && msg != tt.wantMsg {
				t.Errorf("message:\n got %q\nwant %q", msg, tt.wantMsg)
			}
		})
	}

	// The token still works with the instance it was issued for.
	if _, err := c.DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{
		InstanceId: aws.String(heavy), NextToken: aws.String(token),
	}); err != nil {
		t.Errorf("the genuine token: %v", err)
	}
	// A token from another server (another secret) is refused.
	_, url2 := start(t, f, ssmsim.Options{})
	_, err = client(url2, testKey).DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{
		InstanceId: aws.String(heavy), NextToken: aws.String(token),
	})
	if code, _, _ := apiCode(t, err); code != "InvalidNextToken" {
		t.Errorf("token from another server: %s, want InvalidNextToken", code)
	}
}

func TestSDKRefusedCredentials(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 50})
	s, url := start(t, f, ssmsim.Options{DenyAccessKeys: map[string]string{
		"AKIDUNKNOWN": "UnrecognizedClientException",
		"AKIDDENIED":  "AccessDeniedException",
		"AKIDEXPIRED": "ExpiredTokenException",
	}})
	id := f.ManagedIDs()[0]
	call := func(key string) error {
		_, err := client(url, key).DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{
			InstanceId: aws.String(id),
		})
		return err
	}
	tests := []struct {
		key, wantCode, wantMsg string
	}{
		{"AKIDUNKNOWN", "UnrecognizedClientException", "The security token included in the request is invalid."},
		{"AKIDEXPIRED", "ExpiredTokenException", "The security token included in the request is expired"},
		{"AKIDDENIED", "AccessDeniedException", "User: arn:aws:iam::123456789012:user/AKIDDENIED is not authorized to perform: " +
			"ssm:DescribeInstanceAssociationsStatus on resource: arn:aws:" + map[bool]string{true: "ssm", false: "ec2"}[strings.HasPrefix(id, "mi-")] +
			":us-east-1:123456789012:" + map[bool]string{true: "managed-instance/", false: "instance/"}[strings.HasPrefix(id, "mi-")] + id +
			" because no identity-based policy allows the ssm:DescribeInstanceAssociationsStatus action"},
	}
	for _, tt := range tests {
		t.Run(tt.wantCode, func(t *testing.T) {
			code, msg, status := apiCode(t, call(tt.key))
			if code != tt.wantCode || msg != tt.wantMsg || status != 400 {
				t.Errorf("got %s %q (HTTP %d)\nwant %s %q (HTTP 400)", code, msg, status, tt.wantCode, tt.wantMsg)
			}
		})
	}
	if err := call(testKey); err != nil {
		t.Fatalf("an accepted key: %v", err)
	}
	// A key can be refused, and accepted again, while serving.
	s.DenyAccessKey(testKey, "ExpiredTokenException")
	if code, _, _ := apiCode(t, call(testKey)); code != "ExpiredTokenException" {
		t.Errorf("after DenyAccessKey: %s, want ExpiredTokenException", code)
	}
	s.DenyAccessKey(testKey, "")
	if err := call(testKey); err != nil {
		t.Errorf("after accepting the key again: %v", err)
	}
}

func TestSDKThrottling(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 50})
	id := f.ManagedIDs()[0]
	in := &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(id)}

	t.Run("a bucket of one", func(t *testing.T) {
		// A rate so low that no token comes back during the test.
		s, url := start(t, f, ssmsim.Options{Faults: ssmsim.Faults{Rate: 0.0001, Burst: 1}})
		c := client(url, testKey)
		if _, err := c.DescribeInstanceAssociationsStatus(ctx(t), in); err != nil {
			t.Fatalf("first call: %v", err)
		}
		for range 3 {
			_, err := c.DescribeInstanceAssociationsStatus(ctx(t), in)
			code, msg, status := apiCode(t, err)
			if code != "ThrottlingException" || msg != "Rate exceeded" || status != 400 {
				t.Fatalf("got %s %q (HTTP %d), want ThrottlingException \"Rate exceeded\" (HTTP 400)", code, msg, status)
			}
		}
		if st := s.Stats(); st.Throttled != 3 || st.OK != 1 {
			t.Errorf("Stats: Throttled %d, OK %d; want 3 and 1", st.Throttled, st.OK)
		}
		// Lifting the limit while serving.
		s.SetFaults(ssmsim.Faults{})
		if _, err := c.DescribeInstanceAssociationsStatus(ctx(t), in); err != nil {
			t.Errorf("after lifting the limit: %v", err)
		}
	})

	t.Run("20 per second", func(t *testing.T) {
		s, url := start(t, f, ssmsim.Options{Faults: ssmsim.Faults{Rate: 20}})
		c := client(url, testKey)
		// Calls back to back outrun 20/s on any machine; stop at the first
		// throttle rather than assume how fast this one is.
		throttled, calls := 0, 0
		for throttled == 0 && calls < 5000 {
			calls++
			_, err := c.DescribeInstanceAssociationsStatus(ctx(t), in)
			if err == nil {
				continue
			}
			if code, _, _ := apiCode(t, err); code != "ThrottlingException" {
				t.Fatalf("call %d: %v", calls, err)
			}
			throttled++
		}
		if throttled == 0 {
			t.Fatalf("%d calls back to back, none throttled at 20/s", calls)
		}
		if st := s.Stats(); st.Throttled != int64(throttled) || st.OK+st.Throttled != int64(calls) {
			t.Errorf("Stats: OK %d + Throttled %d, want %d calls with %d throttled", st.OK, st.Throttled, calls, throttled)
		}
	})
}

func TestSDKFaults(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 50})
	id := f.ManagedIDs()[0]
	in := &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(id)}
	info := &ssm.DescribeInstanceInformationInput{}

	tests := []struct {
		name   string
		faults ssmsim.Faults
		check  func(t *testing.T, err error)
		stat   func(ssmsim.Stats) int64
	}{
		{
			name:   "InternalServerError",
			faults: ssmsim.Faults{ErrorRate: 1},
			check: func(t *testing.T, err error) {
				code, _, status := apiCode(t, err)
				var ae smithy.APIError
				errors.As(err, &ae)
				if code != "InternalServerError" || status != 500 || ae.ErrorFault() != smithy.FaultServer {
					t.Errorf("got %s (HTTP %d, fault %v), want InternalServerError (HTTP 500, server fault)", code, status, ae.ErrorFault())
				}
			},
			stat: func(s ssmsim.Stats) int64 { return s.Errors500 },
		},
		{
			name:   "dropped connection",
			faults: ssmsim.Faults{DropRate: 1},
			check:  notAnAPIError,
			stat:   func(s ssmsim.Stats) int64 { return s.Dropped },
		},
		{
			name:   "malformed body",
			faults: ssmsim.Faults{MalformedRate: 1},
			check:  notAnAPIError,
			stat:   func(s ssmsim.Stats) int64 { return s.Malformed },
		},
		{
			name:   "wrong types",
			faults: ssmsim.Faults{WrongTypeRate: 1},
			check:  notAnAPIError,
			stat:   func(s ssmsim.Stats) int64 { return s.WrongTypes },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, url := start(t, f, ssmsim.Options{Faults: tt.faults, Seed: 5})
			c := client(url, testKey)
			// Enough calls to meet every variant of the fault.
			const calls = 12
			for k := range calls {
				var err error
				if k%2 == 0 {
					_, err = c.DescribeInstanceAssociationsStatus(ctx(t), in)
				} else {
					_, err = c.DescribeInstanceInformation(ctx(t), info)
				}
				if err == nil {
					t.Fatalf("call %d succeeded", k)
				}
				tt.check(t, err)
			}
			st := s.Stats()
			if got := tt.stat(st); got != calls || st.OK != 0 || st.PagesServed != 0 {
				t.Errorf("fault counted %d times, OK %d, PagesServed %d; want %d, 0, 0", got, st.OK, st.PagesServed, calls)
			}
		})
	}
}

func notAnAPIError(t *testing.T, err error) {
	t.Helper()
	var ae smithy.APIError
	if errors.As(err, &ae) {
		t.Errorf("got API error %s, want a transport or decoding error: %v", ae.ErrorCode(), err)
	}
}

func TestFaultsAreDeterministicForASeed(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 50})
	id := f.ManagedIDs()[0]
	run := func(seed int64) string {
		_, url := start(t, f, ssmsim.Options{Seed: seed, Faults: ssmsim.Faults{ErrorRate: 0.3, MalformedRate: 0.2}})
		c := client(url, testKey)
		var b strings.Builder
		for range 40 {
			_, err := c.DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(id)})
			var ae smithy.APIError
			switch {
			case err == nil:
				b.WriteByte('.')
			case errors.As(err, &ae):
				b.WriteByte('5')
			default:
				b.WriteByte('m')
			}
		}
		return b.String()
	}
	a, b := run(11), run(11)
	if a != b {
		t.Errorf("seed 11 twice:\n%s\n%s", a, b)
	}
	for _, c := range ".5m" {
		if !strings.ContainsRune(a, c) {
			t.Errorf("40 calls at 30%% errors and 20%% malformed gave %s: no %q", a, c)
		}
	}
	if c := run(12); c == a {
		t.Errorf("seeds 11 and 12 gave the same faults: %s", a)
	}
}

func TestSDKLatencyAndCancel(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 50})
	s, url := start(t, f, ssmsim.Options{Faults: ssmsim.Faults{Latency: 10 * time.Second}})
	c := client(url, testKey)
	cctx, cancel := context.WithTimeout(ctx(t), 50*time.Millisecond)
	defer cancel()
	_, err := c.DescribeInstanceAssociationsStatus(cctx, &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(f.ManagedIDs()[0])})
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("got %v, want the client's deadline", err)
	}
	// The server stops waiting when the client hangs up (long before the
	// ten seconds are up, or waitIdle gives up).
	if st := waitIdle(t, s); st.InFlight != 0 || st.PeakInFlight != 1 || st.OK != 0 {
		t.Errorf("InFlight %d, PeakInFlight %d, OK %d; want 0, 1, 0", st.InFlight, st.PeakInFlight, st.OK)
	}
	s.SetFaults(ssmsim.Faults{Latency: time.Millisecond, Jitter: time.Millisecond})
	if got := s.Faults(); got.Latency != time.Millisecond || got.Jitter != time.Millisecond {
		t.Errorf("Faults() = %+v after SetFaults", got)
	}
	if _, err := c.DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(f.ManagedIDs()[0])}); err != nil {
		t.Errorf("with 1ms±1ms latency: %v", err)
	}
}

func TestDuplicatePagesAreCounted(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 1, Size: 300})
	s, url := start(t, f, ssmsim.Options{})
	c := client(url, testKey)
	heavy := heavyID(t, f)
	in := &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(heavy), MaxResults: aws.Int32(10)}
	first, err := c.DescribeInstanceAssociationsStatus(ctx(t), in)
	if err != nil {
		t.Fatal(err)
	}
	second := *in
	second.NextToken = first.NextToken
	for range 3 {
		if _, err := c.DescribeInstanceAssociationsStatus(ctx(t), &second); err != nil {
			t.Fatal(err)
		}
	}
	if st := s.Stats(); st.PagesServed != 4 || st.DuplicatePages != 2 {
		t.Errorf("PagesServed %d, DuplicatePages %d; want 4 and 2", st.PagesServed, st.DuplicatePages)
	}
	counts := s.PageCounts()
	want := map[ssmsim.PageKey]int{
		{Operation: ssmsim.OpDescribeInstanceAssociationsStatus, Subject: heavy}:                              1,
		{Operation: ssmsim.OpDescribeInstanceAssociationsStatus, Subject: heavy, NextToken: *first.NextToken}: 3,
	}
	if fmt.Sprint(counts) != fmt.Sprint(want) {
		t.Errorf("PageCounts = %v, want %v", counts, want)
	}
	s.ResetStats()
	if st := s.Stats(); st.PagesServed != 0 || st.DuplicatePages != 0 || len(s.PageCounts()) != 0 || st.Requests != 0 {
		t.Errorf("after ResetStats: %+v, %d page counts", st, len(s.PageCounts()))
	}
}

func TestSDKConcurrentClients(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 9, Size: 400})
	s, url := start(t, f, ssmsim.Options{Faults: ssmsim.Faults{Latency: 2 * time.Millisecond}})
	c := client(url, testKey)
	ids := f.ManagedIDs()
	var wg sync.WaitGroup
	errs := make(chan error, len(ids))
	for w := range 8 {
		wg.Go(func() {
			for k := w; k < len(ids); k += 8 {
				p := ssm.NewDescribeInstanceAssociationsStatusPaginator(c, &ssm.DescribeInstanceAssociationsStatusInput{
					InstanceId: aws.String(ids[k]), MaxResults: aws.Int32(4),
				})
				var got []ssmsim.Association
				for p.HasMorePages() {
					out, err := p.NextPage(context.Background())
					if err != nil {
						errs <- err
						return
					}
					for _, a := range out.InstanceAssociationStatusInfos {
						got = append(got, fromSDK(a))
					}
				}
				if want := f.Associations(ids[k]); !slices.EqualFunc(got, want, func(a, b ssmsim.Association) bool {
					return a.ExecutionDate.Equal(b.ExecutionDate) && a.AssociationID == b.AssociationID && a.Status == b.Status
				}) {
					errs <- fmt.Errorf("%s: got %d associations, want %d (or they differ)", ids[k], len(got), len(want))
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	st := waitIdle(t, s)
	if st.DuplicatePages != 0 || st.InFlight != 0 || st.PeakInFlight < 1 || st.PeakInFlight > 8 {
		t.Errorf("DuplicatePages %d, InFlight %d, PeakInFlight %d; want 0, 0, 1..8", st.DuplicatePages, st.InFlight, st.PeakInFlight)
	}
	if st.Requests != st.OK || st.Calls[ssmsim.OpDescribeInstanceAssociationsStatus] != st.Requests {
		t.Errorf("Requests %d, OK %d, Calls %v: want all equal", st.Requests, st.OK, st.Calls)
	}
}

func TestSDKHostileText(t *testing.T) {
	long := strings.Repeat("x", 499) + "=HYPERLINK(1)" // 512, the model's maximum
	hostile := []ssmsim.Association{
		{AssociationID: "00000000-0000-4000-8000-000000000001", Name: "=cmd|' /C calc'!A0", Status: "Failed", DetailedStatus: "Failed",
			ExecutionSummary: "@SUM(1+1)*cmd|' /C calc'!A0", ErrorCode: "+1+1", AssociationName: "-2+3"},
		{AssociationID: "00000000-0000-4000-8000-000000000002", Name: `He said "hi", O'Brien; a,b`, Status: "Success",
			ExecutionSummary: "line one\nline two\r\nthree\ttabbed"},
		{AssociationID: "00000000-0000-4000-8000-000000000003", Name: "<script>alert('x')</script>", Status: "Pending",
			ExecutionSummary: "</td></tr><img src=x onerror=alert(1)>&amp;", OutputURL: "javascript:alert(1)"},
		{AssociationID: "00000000-0000-4000-8000-000000000004", Name: "\u202eexe.txt", Status: "Success",
			ExecutionSummary: "RTL \u200f עברית العربية, emoji 😀👍🏽, zero width \u200b, NUL-free control \x01\x1f, LS \u2028 PS \u2029"},
		{AssociationID: "00000000-0000-4000-8000-000000000005", Status: "Failed", ExecutionSummary: long,
			ExecutionDate: time.Date(2025, 5, 1, 1, 2, 3, 4e6, time.UTC)},
		{AssociationID: "00000000-0000-4000-8000-000000000006"},
	}
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	f.Add(ssmsim.Instance{InstanceID: "i-0aaaaaaaaaaaaaaaa", Associations: hostile})
	_, url := start(t, f, ssmsim.Options{})
	got, _ := fetchAll(t, client(url, testKey), "i-0aaaaaaaaaaaaaaaa", aws.Int32(2))
	sameAssociations(t, got, f.Associations("i-0aaaaaaaaaaaaaaaa"))
	if len(got) == 6 && got[4].ExecutionSummary != long {
		t.Errorf("the %d-character summary came back as %d characters", len(long), len(got[4].ExecutionSummary))
	}
}

func TestSDKDescribeInstanceInformation(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 4, Size: 300})
	_, url := start(t, f, ssmsim.Options{})
	c := client(url, testKey)

	list := func(t *testing.T, in *ssm.DescribeInstanceInformationInput) []types.InstanceInformation {
		t.Helper()
		p := ssm.NewDescribeInstanceInformationPaginator(c, in)
		var out []types.InstanceInformation
		for p.HasMorePages() {
			page, err := p.NextPage(ctx(t))
			if err != nil {
				t.Fatalf("page: %v", err)
			}
			if in.MaxResults != nil && len(page.InstanceInformationList) > int(*in.MaxResults) {
				t.Fatalf("page of %d, more than MaxResults %d", len(page.InstanceInformationList), *in.MaxResults)
			}
			out = append(out, page.InstanceInformationList...)
		}
		return out
	}
	ids := func(infos []types.InstanceInformation) []string {
		var out []string
		for _, in := range infos {
			out = append(out, aws.ToString(in.InstanceId))
		}
		return out
	}
	want := func(keep func(ssmsim.Instance) bool) []string {
		var out []string
		for _, id := range f.ManagedIDs() {
			if in, _ := f.Instance(id); keep(in) {
				out = append(out, id)
			}
		}
		return out
	}

	tests := []struct {
		name string
		in   ssm.DescribeInstanceInformationInput
		keep func(ssmsim.Instance) bool
	}{
		{"everything, default page", ssm.DescribeInstanceInformationInput{}, func(ssmsim.Instance) bool { return true }},
		{"tag:Environment=prod, pages of 5", ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(5),
			Filters: []types.InstanceInformationStringFilter{{Key: aws.String("tag:Environment"), Values: []string{"prod"}}}},
			func(in ssmsim.Instance) bool { return in.Tags["Environment"] == "prod" }},
		{"tag-key PatchGroup, two tag filters", ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(50),
			Filters: []types.InstanceInformationStringFilter{
				{Key: aws.String("tag-key"), Values: []string{"PatchGroup"}},
				{Key: aws.String("tag:Team"), Values: []string{"data", "web"}},
			}},
			func(in ssmsim.Instance) bool {
				_, ok := in.Tags["PatchGroup"]
				return ok && (in.Tags["Team"] == "data" || in.Tags["Team"] == "web")
			}},
		{"PingStatus and PlatformTypes", ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(7),
			Filters: []types.InstanceInformationStringFilter{
				{Key: aws.String("PingStatus"), Values: []string{"ConnectionLost", "Inactive"}},
				{Key: aws.String("PlatformTypes"), Values: []string{"Linux"}},
			}},
			func(in ssmsim.Instance) bool { return in.PingStatus != "Online" && in.PlatformType == "Linux" }},
		{"PlatformType, the key the reference documents", ssm.DescribeInstanceInformationInput{
			Filters: []types.InstanceInformationStringFilter{{Key: aws.String("PlatformType"), Values: []string{"Windows", "MacOS"}}}},
			func(in ssmsim.Instance) bool { return in.PlatformType == "Windows" || in.PlatformType == "MacOS" }},
		{"ResourceType, legacy list", ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(10),
			InstanceInformationFilterList: []types.InstanceInformationFilter{{Key: types.InstanceInformationFilterKeyResourceType, ValueSet: []string{"ManagedInstance"}}}},
			func(in ssmsim.Instance) bool { return in.ResourceType == "ManagedInstance" }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, want := ids(list(t, &tt.in)), want(tt.keep)
			if len(want) == 0 {
				t.Fatal("the filter matches nothing in the fleet: a useless case")
			}
			if !slices.Equal(got, want) {
				t.Errorf("got %d instances, want %d:\n got %v\nwant %v", len(got), len(want), got, want)
			}
		})
	}

	t.Run("InstanceIds and fields", func(t *testing.T) {
		managed := f.ManagedIDs()
		pick := []string{managed[9], managed[3]}
		got := list(t, &ssm.DescribeInstanceInformationInput{
			Filters: []types.InstanceInformationStringFilter{{Key: aws.String("InstanceIds"), Values: pick}},
		})
		if g := ids(got); !slices.Equal(g, []string{managed[3], managed[9]}) {
			t.Fatalf("got %v, want %v in fleet order", g, []string{managed[3], managed[9]})
		}
		for _, info := range got {
			truth, _ := f.Instance(aws.ToString(info.InstanceId))
			if string(info.PingStatus) != truth.PingStatus || aws.ToString(info.AgentVersion) != truth.AgentVersion ||
				string(info.PlatformType) != truth.PlatformType || aws.ToString(info.PlatformName) != truth.PlatformName ||
				string(info.ResourceType) != truth.ResourceType || aws.ToString(info.ComputerName) != truth.ComputerName ||
				aws.ToString(info.IPAddress) != truth.IPAddress || !aws.ToTime(info.LastPingDateTime).Equal(truth.LastPingDateTime) ||
				aws.ToBool(info.IsLatestVersion) != truth.IsLatestVersion {
				t.Errorf("%s: got %+v\nwant %+v", truth.InstanceID, info, truth)
			}
			wantStatus, last := "", time.Time{}
			for _, a := range truth.Associations {
				switch {
				case a.Status == "Failed":
					wantStatus = "Failed"
				case a.Status == "Pending" && wantStatus != "Failed":
					wantStatus = "Pending"
				case wantStatus == "":
					wantStatus = "Success"
				}
				if a.ExecutionDate.After(last) {
					last = a.ExecutionDate
				}
			}
			if aws.ToString(info.AssociationStatus) != wantStatus || !aws.ToTime(info.LastAssociationExecutionDate).Equal(last) {
				t.Errorf("%s: AssociationStatus %q, last %v; want %q, %v", truth.InstanceID,
					aws.ToString(info.AssociationStatus), aws.ToTime(info.LastAssociationExecutionDate), wantStatus, last)
			}
		}
	})

	errTests := []struct {
		name     string
		in       ssm.DescribeInstanceInformationInput
		wantCode string
	}{
		{"MaxResults 4", ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(4)}, "ValidationException"},
		{"MaxResults 51", ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(51)}, "ValidationException"},
		{"unmanaged InstanceIds", ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{
			{Key: aws.String("InstanceIds"), Values: []string{unmanagedID(t, f)}}}}, "InvalidInstanceId"},
		{"unknown key", ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{
			{Key: aws.String("Colour"), Values: []string{"blue"}}}}, "InvalidFilterKey"},
		{"tag and other filters", ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{
			{Key: aws.String("tag:Team"), Values: []string{"web"}}, {Key: aws.String("PingStatus"), Values: []string{"Online"}}}}, "ValidationException"},
		{"bad PingStatus", ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{
			{Key: aws.String("PingStatus"), Values: []string{"Sleeping"}}}}, "InvalidInstanceInformationFilterValue"},
		{"bad PlatformType", ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{
			{Key: aws.String("PlatformType"), Values: []string{"Solaris"}}}}, "InvalidInstanceInformationFilterValue"},
		// The model documents Success | Pending | Failed for AssociationStatus.
		{"bad AssociationStatus", ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{
			{Key: aws.String("AssociationStatus"), Values: []string{"Failed", "Succeeded"}}}}, "InvalidInstanceInformationFilterValue"},
		{"bad AssociationStatus in the legacy list", ssm.DescribeInstanceInformationInput{InstanceInformationFilterList: []types.InstanceInformationFilter{
			{Key: types.InstanceInformationFilterKeyAssociationStatus, ValueSet: []string{"failed"}}}}, "InvalidInstanceInformationFilterValue"},
		// The legacy list's key enum has PlatformTypes, not PlatformType.
		{"PlatformType in the legacy list", ssm.DescribeInstanceInformationInput{InstanceInformationFilterList: []types.InstanceInformationFilter{
			{Key: types.InstanceInformationFilterKey("PlatformType"), ValueSet: []string{"Linux"}}}}, "ValidationException"},
		{"both filter lists", ssm.DescribeInstanceInformationInput{
			Filters:                       []types.InstanceInformationStringFilter{{Key: aws.String("tag:Team"), Values: []string{"web"}}},
			InstanceInformationFilterList: []types.InstanceInformationFilter{{Key: types.InstanceInformationFilterKeyPingStatus, ValueSet: []string{"Online"}}}},
			"ValidationException"},
		{"forged token", ssm.DescribeInstanceInformationInput{NextToken: aws.String("AQEK" + strings.Repeat("A", 20))}, "InvalidNextToken"},
	}
	for _, tt := range errTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.DescribeInstanceInformation(ctx(t), &tt.in)
			if err == nil {
				t.Fatalf("no error, want %s", tt.wantCode)
			}
			if code, _, status := apiCode(t, err); code != tt.wantCode || status != 400 {
				t.Errorf("got %s (HTTP %d), want %s (HTTP 400): %v", code, status, tt.wantCode, err)
			}
		})
	}

	t.Run("token bound to its filters", func(t *testing.T) {
		in := ssm.DescribeInstanceInformationInput{MaxResults: aws.Int32(5),
			Filters: []types.InstanceInformationStringFilter{{Key: aws.String("tag:Environment"), Values: []string{"prod"}}}}
		page, err := c.DescribeInstanceInformation(ctx(t), &in)
		if err != nil || page.NextToken == nil {
			t.Fatalf("first page: %v", err)
		}
		in.Filters[0].Values = []string{"dev"}
		in.NextToken = page.NextToken
		_, err = c.DescribeInstanceInformation(ctx(t), &in)
		if code, _, _ := apiCode(t, err); code != "InvalidNextToken" {
			t.Errorf("token with other filters: %s, want InvalidNextToken", code)
		}
		_, err = c.DescribeInstanceAssociationsStatus(ctx(t), &ssm.DescribeInstanceAssociationsStatusInput{
			InstanceId: aws.String(f.ManagedIDs()[0]), NextToken: page.NextToken})
		if code, _, _ := apiCode(t, err); code != "InvalidNextToken" {
			t.Errorf("DescribeInstanceInformation token with DescribeInstanceAssociationsStatus: %s, want InvalidNextToken", code)
		}
	})
}

// TestSDKDescribeInstanceInformationTagValues: SSM takes at most five
// values for a tag:KEY filter and refuses more as a reply quoted in
// seek-oss/aec#394 reads ("The number of tag values for tag:Name was 35.
// Max: 5."); the simulator took any number up to the list's 100.
func TestSDKDescribeInstanceInformationTagValues(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 4, Size: 50})
	_, url := start(t, f, ssmsim.Options{})
	c := client(url, testKey)
	values := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("web-%d", i)
		}
		return out
	}
	in := func(n int) *ssm.DescribeInstanceInformationInput {
		return &ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{
			{Key: aws.String("tag:Name"), Values: values(n)}}}
	}
	if _, err := c.DescribeInstanceInformation(ctx(t), in(5)); err != nil {
		t.Fatalf("five values: %v", err)
	}
	for _, n := range []int{6, 35} {
		_, err := c.DescribeInstanceInformation(ctx(t), in(n))
		if err == nil {
			t.Fatalf("%d values: taken, want ValidationException", n)
		}
		want := fmt.Sprintf("The number of tag values for tag:Name was %d. Max: 5.", n)
		if code, msg, status := apiCode(t, err); code != "ValidationException" || msg != want || status != 400 {
			t.Errorf("%d values: %s %q (HTTP %d), want ValidationException %q (HTTP 400)", n, code, msg, status, want)
		}
	}
}

// TestSDKDescribeInstanceInformationResourceTypeOneValue: SSM refuses a
// ResourceType filter of more than one value, in Filters and in the legacy
// list alike, with InvalidInstanceInformationFilterValue ("ResourceType
// filter may contain only one value."); the simulator OR-ed the values and
// listed both kinds of node.
func TestSDKDescribeInstanceInformationResourceTypeOneValue(t *testing.T) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 4, Size: 50})
	_, url := start(t, f, ssmsim.Options{})
	c := client(url, testKey)
	both := []string{"EC2Instance", "ManagedInstance"}
	tests := []struct {
		name string
		in   ssm.DescribeInstanceInformationInput
	}{
		{"Filters", ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{
			{Key: aws.String("ResourceType"), Values: both}}}},
		{"the legacy list", ssm.DescribeInstanceInformationInput{InstanceInformationFilterList: []types.InstanceInformationFilter{
			{Key: types.InstanceInformationFilterKeyResourceType, ValueSet: both}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.DescribeInstanceInformation(ctx(t), &tt.in)
			if err == nil {
				t.Fatal("two values taken, want InvalidInstanceInformationFilterValue")
			}
			const want = "ResourceType filter may contain only one value."
			if code, msg, status := apiCode(t, err); code != "InvalidInstanceInformationFilterValue" || msg != want || status != 400 {
				t.Errorf("got %s %q (HTTP %d), want InvalidInstanceInformationFilterValue %q (HTTP 400)", code, msg, status, want)
			}
		})
	}
	one := &ssm.DescribeInstanceInformationInput{Filters: []types.InstanceInformationStringFilter{
		{Key: aws.String("ResourceType"), Values: []string{"EC2Instance"}}}}
	if _, err := c.DescribeInstanceInformation(ctx(t), one); err != nil {
		t.Errorf("one value: %v", err)
	}
}

// waitIdle returns the server's stats once no request is in flight: a
// handler may still be returning after its client has the answer.
func waitIdle(t *testing.T, s *ssmsim.Server) ssmsim.Stats {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for s.Stats().InFlight != 0 && time.Now().Before(deadline) {
		time.Sleep(2 * time.Millisecond)
	}
	return s.Stats()
}

func TestServeStopsWithItsContext(t *testing.T) {
	var f ssmsim.Fleet // the zero Fleet, filled by hand
	f.Add(ssmsim.Instance{InstanceID: "i-0123456789abcdef0", Associations: []ssmsim.Association{{AssociationID: "00000000-0000-4000-8000-000000000001"}}})
	s := ssmsim.NewServer(&f, ssmsim.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	c, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- s.Serve(c, ln) }()
	got, _ := fetchAll(t, client("http://"+ln.Addr().String(), testKey), "i-0123456789abcdef0", nil)
	sameAssociations(t, got, f.Associations("i-0123456789abcdef0"))
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Errorf("Serve returned %v after its context ended, want nil", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not return after its context ended")
	}
	if _, err := net.Dial("tcp", ln.Addr().String()); err == nil {
		t.Error("the listener still accepts connections after Serve returned")
	}
}
