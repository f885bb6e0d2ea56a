package audit_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/aws-sdk-go-v2/service/ssm/types"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/auditor-dev/auditor/audit"
)

// fakeSSM is a hand-written fake of audit.API: one function field per
// method.
type fakeSSM struct {
	describe func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error)
	info     func(ctx context.Context, in *ssm.DescribeInstanceInformationInput) (*ssm.DescribeInstanceInformationOutput, error)
}

var _ audit.API = (*fakeSSM)(nil)

func (f *fakeSSM) DescribeInstanceAssociationsStatus(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput, _ ...func(*ssm.Options)) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
	return f.describe(ctx, in)
}

func (f *fakeSSM) DescribeInstanceInformation(ctx context.Context, in *ssm.DescribeInstanceInformationInput, _ ...func(*ssm.Options)) (*ssm.DescribeInstanceInformationOutput, error) {
	return f.info(ctx, in)
}

// pagedFake serves n associations per instance in pages of MaxResults, with
// NextToken "id/offset".
func pagedFake(n func(id string) int, status func(id string, i int) string) *fakeSSM {
	return &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		id := aws.ToString(in.InstanceId)
		off := 0
		if tok := aws.ToString(in.NextToken); tok != "" {
			off, _ = strconv.Atoi(tok[len(id)+1:])
		}
		total := n(id)
		if total < 0 {
			return nil, &smithy.GenericAPIError{Code: "InvalidInstanceId", Message: "Instance " + id + " is not valid"}
		}
		out := &ssm.DescribeInstanceAssociationsStatusOutput{}
		end := min(total, off+int(aws.ToInt32(in.MaxResults)))
		for i := off; i < end; i++ {
			d := time.Date(2026, 11, 1, 0, 0, i, 0, time.UTC)
			out.InstanceAssociationStatusInfos = append(out.InstanceAssociationStatusInfos, types.InstanceAssociationStatusInfo{
				AssociationId: aws.String(fmt.Sprintf("a-%03d", i)),
				InstanceId:    aws.String(id),
				Name:          aws.String("AWS-RunPatchBaseline"),
				Status:        aws.String(status(id, i)),
				ExecutionDate: &d,
			})
		}
		if end < total {
			out.NextToken = aws.String(fmt.Sprintf("%s/%d", id, end))
		}
		return out, nil
	}}
}

func targets(ids ...string) []audit.Target {
	var ts []audit.Target
	for _, id := range ids {
		ts = append(ts, audit.Target{InstanceID: id, Source: "test"})
	}
	return ts
}

// collect runs Run and returns its results keyed by instance.
func collect(t *testing.T, ctx context.Context, cfg audit.Config, ts []audit.Target) (map[string]audit.Result, audit.Stats, error) {
	t.Helper()
	var mu sync.Mutex
	got := map[string]audit.Result{}
	cfg.OnResult = func(r audit.Result) error {
		mu.Lock()
		defer mu.Unlock()
		if _, dup := got[r.InstanceID]; dup {
			t.Errorf("%s reported twice", r.InstanceID)
		}
		got[r.InstanceID] = r
		return nil
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	st, err := audit.Run(ctx, cfg, slices.Values(ts))
	return got, st, err
}

func TestRunOutcomes(t *testing.T) {
	fake := pagedFake(func(id string) int {
		switch id {
		case "i-00000000":
			return 0
		case "i-99999999":
			return -1
		}
		return 7
	}, func(id string, i int) string {
		switch {
		case id == "i-11111111" && i == 5:
			return "Failed"
		case id == "i-22222222" && i == 6:
			return "Pending"
		}
		return "Success"
	})
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, MaxResults: 3}
	ts := targets("i-00000000", "i-11111111", "i-22222222", "i-33333333", "i-99999999")
	ts = append(ts, audit.Target{InstanceID: "i-xyz", Source: "f.txt:3", Problem: "want i- followed by 8 or 17 hex digits"})
	got, st, err := collect(t, context.Background(), cfg, ts)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]audit.Outcome{
		"i-00000000": audit.OutcomeNoAssociations,
		"i-11111111": audit.OutcomeNoncompliant,
		"i-22222222": audit.OutcomePending,
		"i-33333333": audit.OutcomeCompliant,
		"i-99999999": audit.OutcomeNotManaged,
		"i-xyz":      audit.OutcomeInvalid,
	}
	for id, w := range want {
		if g := got[id].Outcome; g != w {
			t.Errorf("%s: outcome %q, want %q", id, g, w)
		}
	}
	if r := got["i-33333333"]; len(r.Associations) != 7 || r.Pages != 3 {
		t.Errorf("i-33333333: %d associations in %d pages, want 7 in 3", len(r.Associations), r.Pages)
	}
	if e := got["i-99999999"].Error; e == nil || e.Code != "InvalidInstanceId" {
		t.Errorf("not managed error = %+v, want code InvalidInstanceId", e)
	}
	if e := got["i-xyz"].Error; e == nil || e.Code != audit.CodeInvalid || got["i-xyz"].Source != "f.txt:3" {
		t.Errorf("invalid: error %+v source %q", e, got["i-xyz"].Source)
	}
	// 1 + 3 + 3 + 3 pages, and the unmanaged instance's call made no page.
	if st.Pages != 10 {
		t.Errorf("stats pages = %d, want 10", st.Pages)
	}
}

func TestRunPaginationLoop(t *testing.T) {
	tests := []struct {
		name     string
		token    func(call int) string
		maxPages int
		wantMsg  string
	}{
		{"token repeats", func(call int) string { return "same" }, 0, "NextToken repeated"},
		{"token cycles", func(call int) string { return strconv.Itoa(call % 3) }, 0, "NextToken repeated"},
		{"too many pages", func(call int) string { return strconv.Itoa(call) }, 5, "more than 5 pages"},
		{"more than one page", func(call int) string { return strconv.Itoa(call) }, 1, "more than 1 page (MaxPages)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			fake := &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
				n := int(calls.Add(1))
				if n > 100 {
					t.Fatal("pagination never stopped")
				}
				return &ssm.DescribeInstanceAssociationsStatusOutput{NextToken: aws.String(tt.token(n))}, nil
			}}
			cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, MaxPages: tt.maxPages}
			got, _, err := collect(t, context.Background(), cfg, targets("i-0123456789abcdef0"))
			if err != nil {
				t.Fatal(err)
			}
			r := got["i-0123456789abcdef0"]
			if r.Outcome != audit.OutcomeError || r.Error == nil || r.Error.Code != audit.CodePaginationLoop {
				t.Fatalf("got outcome %q error %+v, want error %s", r.Outcome, r.Error, audit.CodePaginationLoop)
			}
			if !strings.Contains(r.Error.Message, tt.wantMsg) {
				t.Errorf("message %q, want it to say %q", r.Error.Message, tt.wantMsg)
			}
		})
	}
}

// TestDiscoverPaginationLoop: a listing whose NextToken comes back unchanged,
// or cycles, or that goes on for more than MaxPages×100 pages, fails its
// account-region with PaginationLoop, as an instance's audit does, instead
// of ending without error (a repeated token) and leaving the nodes of the
// pages not read unaudited, unreported.
func TestDiscoverPaginationLoop(t *testing.T) {
	tests := []struct {
		name     string
		token    func(call int) string
		maxPages int
		wantMsg  string
	}{
		{"token repeats", func(call int) string { return "same" }, 0, "NextToken repeated"},
		{"token cycles", func(call int) string { return strconv.Itoa(call % 3) }, 0, "NextToken repeated"},
		{"too many pages", func(call int) string { return strconv.Itoa(call) }, 1, "more than 100 pages"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			calls := 0
			fake := &fakeSSM{info: func(ctx context.Context, in *ssm.DescribeInstanceInformationInput) (*ssm.DescribeInstanceInformationOutput, error) {
				calls++
				if calls > 300 {
					t.Fatal("the listing never stopped")
				}
				return &ssm.DescribeInstanceInformationOutput{
					InstanceInformationList: []types.InstanceInformation{{InstanceId: aws.String(fmt.Sprintf("i-%017x", calls))}},
					NextToken:               aws.String(tt.token(calls)),
				}, nil
			}}
			s := audit.NewSession(audit.Config{Region: "us-east-1", MaxPages: tt.maxPages,
				Client: func(string, string) (audit.API, error) { return fake, nil }})
			listed := 0
			err := s.Discover(context.Background(), "111111111111", "us-east-1", nil, func(audit.Target) error { listed++; return nil })
			var se *audit.SiteError
			if !errors.As(err, &se) || se.Code != audit.CodePaginationLoop || se.AccountID != "111111111111" || se.Region != "us-east-1" {
				t.Fatalf("Discover after %d pages (%d nodes): %v, want a *SiteError with %s", calls, listed, err, audit.CodePaginationLoop)
			}
			if !strings.Contains(se.Message, tt.wantMsg) {
				t.Errorf("message %q, want it to say %q", se.Message, tt.wantMsg)
			}
		})
	}
}

// TestDiscoverRefusesIDsNotSSMs: a listing that names a node by an ID not
// of SSM's shape (a 16-digit i-, a look-alike with a zero-width space) is
// not SSM's answer: it fails the account-region with BadResponse, before
// any node of it becomes a target. Such an ID went into the record, whose
// reader then refused the run's own record: no reports, no --resume.
func TestDiscoverRefusesIDsNotSSMs(t *testing.T) {
	for _, id := range []string{"i-0123456789abcdef", "i-0123456789abcdef0\u200b", "i-0123456789abcdef0\x1b]0;x\a"} {
		t.Run(strconv.Quote(id), func(t *testing.T) {
			fake := &fakeSSM{info: func(ctx context.Context, in *ssm.DescribeInstanceInformationInput) (*ssm.DescribeInstanceInformationOutput, error) {
				return &ssm.DescribeInstanceInformationOutput{InstanceInformationList: []types.InstanceInformation{
					{InstanceId: aws.String("i-0123456789abcdef1")}, {InstanceId: aws.String(id)}}}, nil
			}}
			s := audit.NewSession(audit.Config{Region: "us-east-1",
				Client: func(string, string) (audit.API, error) { return fake, nil }})
			var listed []string
			err := s.Discover(context.Background(), "111111111111", "us-east-1", nil, func(tg audit.Target) error { listed = append(listed, tg.InstanceID); return nil })
			var se *audit.SiteError
			if !errors.As(err, &se) || se.Code != audit.CodeBadResponse {
				t.Fatalf("Discover: %v (listed %q), want a *SiteError with %s", err, listed, audit.CodeBadResponse)
			}
			if slices.Contains(listed, id) {
				t.Errorf("the ID %q became a target", id)
			}
			if strings.ContainsAny(se.Message, "\u200b\x1b") {
				t.Errorf("message %q carries the ID raw", se.Message)
			}
		})
	}
}

func TestRunFatalStopsEarly(t *testing.T) {
	tests := []struct {
		name      string
		code      string
		afterOK   bool // the first call succeeds, later ones fail
		wantFatal bool
		maxCalls  int32 // before the run stops, when fatal
		// refusedFirst: the first calls are refused (access denied),
		// the others succeed.
		refusedFirst int32
	}{
		{"bad key", "UnrecognizedClientException", false, true, 3, 0},
		{"expired", "ExpiredTokenException", false, true, 3, 0},
		// A policy may allow the call on some instances alone (by tag):
		// 64 refused in a row with none allowed is one that allows none.
		{"denied everywhere", "AccessDeniedException", false, true, 66, 0},
		{"denied after success is per instance", "AccessDeniedException", true, false, 0, 0},
		{"denied before the first success is per instance", "AccessDeniedException", false, false, 0, 63},
		{"expired after success", "ExpiredTokenException", true, true, 3, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int32
			fake := &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
				n := calls.Add(1)
				if n == 1 && tt.afterOK || tt.refusedFirst > 0 && n > tt.refusedFirst {
					return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
				}
				return nil, &smithy.GenericAPIError{Code: tt.code, Message: "no"}
			}}
			var ts []audit.Target
			for i := range 500 {
				ts = append(ts, audit.Target{InstanceID: fmt.Sprintf("i-%08x", i)})
			}
			cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Concurrency: 1}
			got, _, err := collect(t, context.Background(), cfg, ts)
			if tt.wantFatal {
				if !errors.Is(err, audit.ErrFatal) {
					t.Fatalf("err = %v, want ErrFatal", err)
				}
				if n := calls.Load(); n > tt.maxCalls {
					t.Errorf("%d calls before stopping, want the run to stop at the first sign (%d calls at most)", n, tt.maxCalls)
				}
				return
			}
			if err != nil {
				t.Fatalf("err = %v, want none", err)
			}
			if len(got) != len(ts) {
				t.Errorf("%d results, want %d", len(got), len(ts))
			}
			if r := got["i-00000001"]; r.Outcome != audit.OutcomeError || r.Error.Code != tt.code {
				t.Errorf("i-00000001: %q %+v, want error %s", r.Outcome, r.Error, tt.code)
			}
		})
	}
}

func TestRunConcurrencyBound(t *testing.T) {
	var inFlight, peak atomic.Int32
	fake := &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		n := inFlight.Add(1)
		defer inFlight.Add(-1)
		for {
			p := peak.Load()
			if n <= p || peak.CompareAndSwap(p, n) {
				break
			}
		}
		time.Sleep(time.Millisecond)
		return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
	}}
	var ts []audit.Target
	for i := range 200 {
		ts = append(ts, audit.Target{InstanceID: fmt.Sprintf("i-%08x", i)})
	}
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Concurrency: 5}
	got, _, err := collect(t, context.Background(), cfg, ts)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 200 {
		t.Errorf("%d results, want 200", len(got))
	}
	if p := peak.Load(); p > 5 || p < 2 {
		t.Errorf("peak in flight %d, want 2..5", p)
	}
}

func TestRunCancelStopsStarting(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	// The count and the cancel are one step under a lock: a worker
	// descheduled between them would let the other worker go on calling
	// before the cancel, and the test would count the scheduler, not Run.
	var mu sync.Mutex
	calls := 0
	fake := &fakeSSM{describe: func(c context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		mu.Lock()
		defer mu.Unlock()
		if calls++; calls == 10 {
			cancel()
		}
		return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
	}}
	var ts []audit.Target
	for i := range 1000 {
		ts = append(ts, audit.Target{InstanceID: fmt.Sprintf("i-%08x", i)})
	}
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Concurrency: 2, Grace: time.Second}
	got, _, err := collect(t, ctx, cfg, ts)
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("err = %v, want context.Canceled", err)
	}
	if len(got) < 9 || len(got) > 12 {
		t.Errorf("%d results after cancelling at the 10th call, want about 10", len(got))
	}
}

// TestRunSignalWithNothingLeft: a cancelled context interrupts a run only
// when it left a target unaudited. A signal that arrives when every target
// has been audited (a resumed run with nothing to go, or the last
// instance's answer on its way) must not mark a whole audit interrupted;
// one that keeps an instance or a batch from starting must.
func TestRunSignalWithNothingLeft(t *testing.T) {
	ids := func(from, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("i-%08d", from+i))
		}
		return out
	}
	tests := []struct {
		name    string
		batches [][]string
		// cancelAt is the instance whose call cancels the context; ""
		// cancels it before the run.
		cancelAt    string
		sites       int
		wantErr     error
		wantResults int // -1: some, fewer than all
	}{
		{"nothing to audit", nil, "", 0, nil, 0},
		{"signal as the last instance is answered", [][]string{ids(0, 20)}, "i-00000019", 0, nil, 20},
		{"signal as the last instance of the last batch is answered", [][]string{ids(0, 10), ids(100, 10)}, "i-00000109", 1, nil, 20},
		{"signal with instances not started", [][]string{ids(0, 20)}, "i-00000004", 0, context.Canceled, -1},
		{"signal with a batch not started", [][]string{ids(0, 10), ids(100, 10)}, "i-00000009", 1, context.Canceled, 10},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if tt.cancelAt == "" {
				cancel()
			}
			fake := &fakeSSM{describe: func(c context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
				if aws.ToString(in.InstanceId) == tt.cancelAt {
					cancel()
				}
				return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
			}}
			var results atomic.Int32
			cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1",
				Concurrency: 1, Sites: tt.sites, Grace: time.Minute, OnResult: func(audit.Result) error { results.Add(1); return nil }}
			var bs []audit.Batch
			total := 0
			for _, b := range tt.batches {
				bs = append(bs, audit.Batch{Region: "us-east-1", Len: len(b), Targets: slices.Values(targets(b...))})
				total += len(b)
			}
			err := audit.NewSession(cfg).Run(ctx, bs)
			if tt.wantErr == nil && err != nil || !errors.Is(err, tt.wantErr) {
				t.Errorf("err = %v, want %v", err, tt.wantErr)
			}
			got := int(results.Load())
			if tt.wantResults >= 0 && got != tt.wantResults || tt.wantResults < 0 && (got == 0 || got >= total) {
				t.Errorf("%d results of %d targets, want %d (-1: some, not all)", got, total, tt.wantResults)
			}
		})
	}
}

// TestRunSourceCutShort: a source of targets whose listing the signal cut
// short (a discovery between two pages) interrupts the run even when every
// target it had listed was audited, since the nodes it did not list were
// not; and it leaves the calls in flight elsewhere their grace, as the
// signal does.
func TestRunSourceCutShort(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	inFlight := make(chan struct{})
	fake := &fakeSSM{describe: func(c context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		if aws.ToString(in.InstanceId) != "i-00000100" {
			return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
		}
		// The call in flight when the signal comes: cut short only if
		// the grace is not given.
		close(inFlight)
		<-ctx.Done()
		select {
		case <-c.Done():
			return nil, c.Err()
		case <-time.After(200 * time.Millisecond):
			return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
		}
	}}
	var mu sync.Mutex
	got := map[string]bool{}
	listed := make(chan struct{}) // closed once the listed targets are audited
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1",
		Concurrency: 1, Grace: time.Minute, OnResult: func(r audit.Result) error {
			mu.Lock()
			defer mu.Unlock()
			got[r.InstanceID] = true
			if got["i-00000001"] && got["i-00000002"] && r.Region == "us-east-1" {
				close(listed)
			}
			return nil
		}}
	var listErr error
	listing := audit.Batch{Region: "us-east-1", Targets: func(yield func(audit.Target) bool) {
		for _, tg := range targets("i-00000001", "i-00000002") {
			if !yield(tg) {
				return
			}
		}
		// The next page is asked for as the signal comes, once what was
		// listed is audited.
		<-listed
		<-inFlight
		cancel()
		listErr = ctx.Err()
	}, Err: func() error { return listErr }}
	slow := audit.Batch{Region: "eu-west-1", Len: 1, Targets: slices.Values([]audit.Target{{InstanceID: "i-00000100", Region: "eu-west-1"}})}
	err := audit.NewSession(cfg).Run(ctx, []audit.Batch{listing, slow})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v, want context.Canceled: the listing was cut short", err)
	}
	for _, id := range []string{"i-00000001", "i-00000002", "i-00000100"} {
		if !got[id] {
			t.Errorf("%s: no result; the listed targets are audited and the call in flight keeps its grace", id)
		}
	}
}

// serverError is the error the SDK returns for an HTTP 5xx after its
// retries: the service answered, with an error of its own.
func serverError(status int, code string) error {
	return &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
		Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status}},
		Err:      &smithy.GenericAPIError{Code: code, Message: "We encountered an internal error. Please try again."},
	}}
}

// proxyPage is the error the SDK returns for an answer of status that is
// an HTML page (a proxy's, a firewall's): not SSM's JSON, so no API error,
// only a body it could not read.
func proxyPage(status int) error {
	return &smithy.OperationError{ServiceID: "SSM", OperationName: "DescribeInstanceAssociationsStatus",
		Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
			Response: &smithyhttp.Response{Response: &http.Response{StatusCode: status, Header: http.Header{"Content-Type": {"text/html"}}}},
			Err:      &smithy.DeserializationError{Err: errors.New("failed to decode response body, invalid character '<' looking for beginning of value")},
		}}}
}

// TestRunServerErrorsInARow: the circuit of an account-region opens when
// five instances in a row end in a server error (HTTP 5xx) after every
// retry, as it does when they get no answer: a service that answers
// nothing but InternalServerError took every instance's retries, ~9 calls
// each, for the whole fleet. So it does for answers that are not SSM's
// protocol whatever their status (a proxy or a firewall answering every
// call with a 403 page took every instance's retries too). An instance
// that ends so among others that succeed (as happens now and then in SSM)
// is that instance's error, and so is one among answers of any other kind.
// Each instance's outcome is one letter: S a success, F a server error, C
// a client error (InvalidInstanceId), N no answer at all, P a proxy's 403
// page, T a throttle that came with a 503, E an answer cut short.
func TestRunServerErrorsInARow(t *testing.T) {
	tests := []struct {
		name     string
		outcomes string
		// tripAt is the instance whose end opens the circuit, from 1;
		// 0 for none.
		tripAt int
	}{
		{"four in a row between successes", strings.Repeat("FFFFS", 20), 0},
		{"five in a row", "SSFFFFF" + strings.Repeat("S", 50), 7},
		{"five in a row from the start", strings.Repeat("F", 60), 5},
		{"client errors between", strings.Repeat("FFFFC", 20), 0},
		{"a 503 is a server error too", "S" + strings.Repeat("U", 60), 6},
		{"server errors and silence together", "S" + strings.Repeat("FN", 30), 10},
		{"a proxy's 403 page", "S" + strings.Repeat("P", 60), 6},
		{"a proxy's 403 page from the start", strings.Repeat("P", 60), 5},
		{"four proxy pages between successes", strings.Repeat("PPPPS", 20), 0},
		{"proxy pages and server errors together", "S" + strings.Repeat("PF", 30), 6},
		// A success forgives the silences before it: scattered timeouts
		// over a long run are those instances', not an outage.
		{"four silences between successes", "S" + strings.Repeat("NNNNS", 20), 0},
		// After an answer, the fifth silence in a row opens it, as the
		// error says.
		{"silence after an answer", "S" + strings.Repeat("N", 60), 6},
		// A server error is the service answering: silence after it is
		// not the endpoint that never answered.
		{"silence after a server error", "FNNNNS" + strings.Repeat("S", 20), 0},
		// A proxy's page is no sign that SSM answers: silence after it
		// stops the run at once.
		{"silence after a proxy's page", "P" + strings.Repeat("N", 60), 2},
		// A throttle is the service pacing calls, whatever its status:
		// the Limiter's to handle, not an outage.
		{"throttles with a 503", "S" + strings.Repeat("T", 60), 0},
		// An answer cut short came from somewhere: each instance ends in
		// its error, and the run goes on.
		{"answers cut short", "S" + strings.Repeat("E", 60), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var ts []audit.Target
			outcome := map[string]byte{}
			for i := range len(tt.outcomes) {
				id := fmt.Sprintf("i-%08d", i)
				ts = append(ts, audit.Target{InstanceID: id})
				outcome[id] = tt.outcomes[i]
			}
			fake := &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
				if err := ctx.Err(); err != nil {
					return nil, err // as the SDK does: an open circuit cancels its calls
				}
				switch outcome[aws.ToString(in.InstanceId)] {
				case 'F':
					return nil, serverError(500, "InternalServerError")
				case 'U':
					return nil, serverError(503, "ServiceUnavailable")
				case 'C':
					return nil, &smithy.GenericAPIError{Code: "InvalidInstanceId", Message: "not managed"}
				case 'N':
					return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
				case 'P':
					return nil, proxyPage(403)
				case 'T':
					return nil, serverError(503, "ThrottlingException")
				case 'E':
					return nil, &smithy.OperationError{ServiceID: "SSM", OperationName: "DescribeInstanceAssociationsStatus",
						Err: &awshttp.ResponseError{ResponseError: &smithyhttp.ResponseError{
							Response: &smithyhttp.Response{Response: &http.Response{}},
							Err:      &smithyhttp.RequestSendError{Err: io.ErrUnexpectedEOF},
						}}}
				}
				return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
			}}
			cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Concurrency: 1}
			got, _, err := collect(t, context.Background(), cfg, ts)
			if tt.tripAt == 0 {
				if err != nil || len(got) != len(ts) {
					t.Fatalf("err = %v, %d results of %d; want every instance audited", err, len(got), len(ts))
				}
				return
			}
			var u *audit.UnreachableError
			if !errors.Is(err, audit.ErrUnreachable) || !errors.As(err, &u) {
				t.Fatalf("err = %v, want the circuit open (ErrUnreachable)", err)
			}
			// The instance that opens it is left for a resumed run, as
			// is every one after it; those before are recorded.
			if len(got) != tt.tripAt-1 || u.Left != len(ts)-len(got) {
				t.Errorf("%d results and %d left of %d; want the %d before the one that opened the circuit, the rest left",
					len(got), u.Left, len(ts), tt.tripAt-1)
			}
			last := tt.outcomes[tt.tripAt-1]
			switch {
			case last == 'P' && (u.Status != 403 || u.Cause != audit.CodeBadResponse || !strings.Contains(u.Error(), "answered HTTP 403 with text/html, not SSM's protocol")):
				t.Errorf("%q: status %d, cause %q; want the proxy's answer named, status and content type", u.Error(), u.Status, u.Cause)
			case last == 'N' && (u.Status != 0 || u.Cause == "" || !strings.Contains(u.Error(), u.Cause)):
				t.Errorf("%q: status %d, cause %q; want no status, the silence named", u.Error(), u.Status, u.Cause)
			case last != 'P' && last != 'N' && (u.Status < 500 || u.Cause == "" || !strings.Contains(u.Error(), u.Cause)):
				t.Errorf("%q: status %d, cause %q; want the server error named", u.Error(), u.Status, u.Cause)
			}
		})
	}
}

// TestRunSuccessAsTheCircuitOpens: a call that succeeds while another
// instance's silence opens the circuit is kept, not left for a resumed run
// to make again, and the count of instances left says so: the closing
// lines' "N left" and the record add up to the fleet.
func TestRunSuccessAsTheCircuitOpens(t *testing.T) {
	ts := targets("i-00000000", "i-00000001", "i-00000002", "i-00000003", "i-00000004")
	started := make(chan struct{})
	fake := &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		if aws.ToString(in.InstanceId) == "i-00000000" {
			close(started)
			<-ctx.Done() // the circuit opened; the answer was on its way
			return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
		}
		<-started
		if err := ctx.Err(); err != nil {
			return nil, err
		}
		return nil, &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	}}
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Concurrency: 2}
	got, _, err := collect(t, context.Background(), cfg, ts)
	var u *audit.UnreachableError
	if !errors.As(err, &u) {
		t.Fatalf("err = %v, want the circuit open", err)
	}
	if _, ok := got["i-00000000"]; !ok || len(got) != 1 || u.Left != len(ts)-len(got) {
		t.Errorf("results %v, %d left of %d; want i-00000000's success kept and the other %d left", slices.Sorted(maps.Keys(got)), u.Left, len(ts), len(ts)-1)
	}
}

func TestRunNoRegion(t *testing.T) {
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return &fakeSSM{}, nil }}
	_, err := audit.Run(context.Background(), cfg, slices.Values(targets("i-00000000")))
	if !errors.Is(err, audit.ErrFatal) {
		t.Fatalf("err = %v, want ErrFatal for a target with no region", err)
	}
}

// TestTriage: with Triage, a target whose overview shows every association
// succeeded (recently enough) is compliant and one that shows none is
// no_associations, both from the overview with no call; any other is fetched.
func TestTriage(t *testing.T) {
	now := time.Date(2026, 11, 30, 3, 0, 0, 0, time.UTC)
	recent, old := now.Add(-time.Hour), now.Add(-30*24*time.Hour)
	ok := &audit.AssociationOverview{InstanceAssociationStatusAggregatedCount: map[string]int{"Success": 3}}
	mixed := &audit.AssociationOverview{InstanceAssociationStatusAggregatedCount: map[string]int{"Success": 2, "Failed": 1}}
	tests := []struct {
		name   string
		info   *audit.InstanceInfo
		want   audit.Outcome
		detail string
	}{
		{"all succeeded, recently", &audit.InstanceInfo{AssociationStatus: "Success", AssociationOverview: ok, LastSuccessfulAssociationExecutionDate: &recent}, audit.OutcomeCompliant, audit.DetailOverview},
		{"all succeeded, long ago", &audit.InstanceInfo{AssociationStatus: "Success", AssociationOverview: ok, LastSuccessfulAssociationExecutionDate: &old}, audit.OutcomeNoncompliant, ""},
		{"one failed", &audit.InstanceInfo{AssociationStatus: "Failed", AssociationOverview: mixed, LastSuccessfulAssociationExecutionDate: &recent}, audit.OutcomeNoncompliant, ""},
		{"no association", &audit.InstanceInfo{}, audit.OutcomeNoAssociations, audit.DetailOverview},
		{"no information", nil, audit.OutcomeNoncompliant, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var calls atomic.Int64
			fake := pagedFake(func(string) int { calls.Add(1); return 1 }, func(string, int) string { return audit.StatusFailed })
			cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }, Region: "us-east-1",
				Triage: true, TriageSince: now.Add(-7 * 24 * time.Hour), Now: func() time.Time { return now }}
			got, _, err := collect(t, context.Background(), cfg, []audit.Target{{InstanceID: "i-00000001", Info: tt.info}})
			if err != nil {
				t.Fatal(err)
			}
			r := got["i-00000001"]
			if r.Outcome != tt.want || r.Detail != tt.detail || (tt.detail != "") != (calls.Load() == 0) {
				t.Errorf("outcome %s, detail %q after %d calls; want %s, %q", r.Outcome, r.Detail, calls.Load(), tt.want, tt.detail)
			}
		})
	}
}

// TestExpiredCredentialsStopAMultiSiteRun: in a run over several
// account-regions, an expired token stops the run (exit 4, as the README
// says), not only its account-region: no account-region can renew what
// the run's own credentials no longer allow, and exit 3 has schedulers
// retry a run that cannot succeed. A region that refuses (access denied,
// a bad key: a region not enabled) still fails only itself, and so does
// an expired token from a role's session (Config.Role): that account's.
func TestExpiredCredentialsStopAMultiSiteRun(t *testing.T) {
	for _, tc := range []struct {
		code    string
		role    string // the role of the refusing account-region's calls
		runWide bool
	}{
		{"ExpiredTokenException", "", true}, {"ExpiredToken", "", true}, {"UnrecognizedClientException", "", false},
		{"ExpiredTokenException", "arn:aws:iam::222222222222:role/AuditRole", false},
	} {
		t.Run(tc.code+" "+tc.role, func(t *testing.T) {
			refusing := &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
				return nil, &smithy.GenericAPIError{Code: tc.code, Message: "no"}
			}}
			fine := &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
				return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
			}}
			cfg := audit.Config{Concurrency: 1, Region: "us-east-1", OnResult: func(audit.Result) error { return nil },
				Client: func(_, region string) (audit.API, error) {
					if region == "eu-west-1" {
						return refusing, nil
					}
					return fine, nil
				},
				Role: func(account string) string {
					if account == "222222222222" {
						return tc.role
					}
					return ""
				}}
			account := func(region string) string {
				if region == "eu-west-1" {
					return "222222222222"
				}
				return "111111111111"
			}
			batch := func(region string) audit.Batch {
				var ts []audit.Target
				for i := range 20 {
					ts = append(ts, audit.Target{InstanceID: fmt.Sprintf("i-%08x", i), AccountID: account(region), Region: region})
				}
				return audit.Batch{AccountID: account(region), Region: region, Targets: slices.Values(ts)}
			}
			err := audit.NewSession(cfg).Run(context.Background(), []audit.Batch{batch("eu-west-1"), batch("us-east-1")})
			if got := errors.Is(err, audit.ErrFatal); got != tc.runWide {
				t.Errorf("%s in one of two account-regions: run stopped %v (%v), want %v", tc.code, got, err, tc.runWide)
			}
		})
	}
}

// TestEverySiteFailedAfterResults: account-regions that all fail after
// some of their instances were audited (a key refused mid-run in each) are
// an incomplete run, each account-region failed, not a fatal one that says
// "no account-region could be audited" of a record that holds results;
// every account-region failing before any result still is fatal, since
// nothing could be audited anywhere (one account-region alone: see the
// CLI's TestEveryAccountRegionFailed).
func TestEverySiteFailedAfterResults(t *testing.T) {
	for _, tc := range []struct {
		name  string
		sites []string
		first int // calls each account-region answers before it refuses
		fatal bool
	}{
		{"two, after results", []string{"us-east-1", "eu-west-1"}, 3, false},
		{"two, at once", []string{"us-east-1", "eu-west-1"}, 0, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var mu sync.Mutex
			answered := map[string]int{}
			client := func(_, region string) (audit.API, error) {
				return &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
					mu.Lock()
					defer mu.Unlock()
					if answered[region] >= tc.first {
						return nil, &smithy.GenericAPIError{Code: "UnrecognizedClientException", Message: "The security token included in the request is invalid."}
					}
					answered[region]++
					return &ssm.DescribeInstanceAssociationsStatusOutput{}, nil
				}}, nil
			}
			var verdicts atomic.Int64 // the account-regions run at once
			cfg := audit.Config{Concurrency: 1, Region: "us-east-1", Client: client,
				OnResult: func(r audit.Result) error {
					if r.Outcome != audit.OutcomeError {
						verdicts.Add(1) // the failed account-regions' other instances end in error
					}
					return nil
				},
				// The role's session, so that a refused key fails its
				// account-region alone, as a member account's does.
				Role: func(account string) string { return "arn:aws:iam::" + account + ":role/AuditRole" }}
			var batches []audit.Batch
			for i, region := range tc.sites {
				account := fmt.Sprintf("%012d", 111111111111*(i+1))
				var ts []audit.Target
				for j := range 10 {
					ts = append(ts, audit.Target{InstanceID: fmt.Sprintf("i-%08x", j), AccountID: account, Region: region})
				}
				batches = append(batches, audit.Batch{AccountID: account, Region: region, Targets: slices.Values(ts)})
			}
			s := audit.NewSession(cfg)
			err := s.Run(context.Background(), batches)
			failed := 0
			for _, st := range s.Sites() {
				if st.Error != nil {
					failed++
				}
			}
			results := int(verdicts.Load())
			if failed != len(tc.sites) || results != tc.first*len(tc.sites) {
				t.Fatalf("%d of %d account-regions failed with %d results; want all failed, %d results", failed, len(tc.sites), results, tc.first*len(tc.sites))
			}
			if got := errors.Is(err, audit.ErrFatal); got != tc.fatal {
				t.Errorf("Run: %v (fatal %v), want fatal %v", err, got, tc.fatal)
			}
			if !tc.fatal && err != nil && strings.Contains(err.Error(), "no account-region could be audited") {
				t.Errorf("Run: %q says nothing was audited of %d results", err, results)
			}
		})
	}
}

// TestUnreachableErrorNamesItsSite: an endpoint that fails in several
// accounts of one region (one regional URL for all) was told in lines
// alike but for their counts; each names its account and region.
func TestUnreachableErrorNamesItsSite(t *testing.T) {
	for _, e := range []*audit.UnreachableError{
		{AccountID: "111111111111", Region: "eu-west-1", Endpoint: "https://ssm.eu-west-1.amazonaws.com", Cause: "ServiceUnavailable", Status: 503, Answered: true, Left: 4},
		{AccountID: "111111111111", Region: "eu-west-1", Endpoint: "https://ssm.eu-west-1.amazonaws.com", Cause: "timed out", Answered: true, Left: 4},
	} {
		if got := e.Error(); !strings.Contains(got, "account 111111111111, eu-west-1") {
			t.Errorf("%q does not name its account and region", got)
		}
	}
}

// TestRunDeregisteredBetweenPages: an instance that SSM stops managing
// between two pages of its associations (InvalidInstanceId on the second)
// is not_managed, and keeps no rows of the first page: they are no verdict,
// and a not_managed line with rows is no line the record's readers accept.
func TestRunDeregisteredBetweenPages(t *testing.T) {
	const id = "i-0123456789abcdef0"
	fake := &fakeSSM{describe: func(ctx context.Context, in *ssm.DescribeInstanceAssociationsStatusInput) (*ssm.DescribeInstanceAssociationsStatusOutput, error) {
		if in.NextToken != nil {
			return nil, &smithy.GenericAPIError{Code: "InvalidInstanceId", Message: "Instance " + id + " is not valid"}
		}
		return &ssm.DescribeInstanceAssociationsStatusOutput{
			InstanceAssociationStatusInfos: []types.InstanceAssociationStatusInfo{{
				AssociationId: aws.String("a-001"), InstanceId: aws.String(id), Name: aws.String("AWS-RunPatchBaseline"),
				Status: aws.String(audit.StatusFailed), ErrorCode: aws.String("1"),
			}},
			NextToken: aws.String("next"),
		}, nil
	}}
	cfg := audit.Config{Client: func(string, string) (audit.API, error) { return fake, nil }}
	got, _, err := collect(t, context.Background(), cfg, targets(id))
	if err != nil {
		t.Fatal(err)
	}
	r := got[id]
	if r.Outcome != audit.OutcomeNotManaged || len(r.Associations) != 0 {
		t.Fatalf("outcome %q with %d associations, want not_managed with none", r.Outcome, len(r.Associations))
	}
	var buf bytes.Buffer
	if err := audit.EncodeResult(&buf, r); err != nil {
		t.Fatal(err)
	}
	if _, err := audit.ReadRecord(&buf, "results.jsonl", func(audit.Result) error { return nil }); err != nil {
		t.Errorf("the record of it is refused: %v", err)
	}
}
