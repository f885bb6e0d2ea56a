package awsconn

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
)

// failsAfterFirst hands out credentials that expire in an hour once, then
// fails every renewal, as an STS that went down or a token file rotated
// out does; calls counts the times it was asked, expires is when the
// credentials it handed out expire.
type failsAfterFirst struct {
	calls   atomic.Int32
	expires time.Time
}

func (f *failsAfterFirst) Retrieve(context.Context) (aws.Credentials, error) {
	if f.calls.Add(1) > 1 {
		return aws.Credentials{}, errors.New("sts is down")
	}
	f.expires = time.Now().Add(time.Hour)
	return aws.Credentials{AccessKeyID: "ASIAFIRSTFIRSTFIRST1", SecretAccessKey: "s", SessionToken: "t",
		CanExpire: true, Expires: f.expires}, nil
}

// TestRenewalFailureKeepsValidCredentials: a renewal ahead of expiry that
// fails while the credentials held are still valid for more than
// expiryMargin keeps them, and is tried again a few seconds later (not on
// every call); it fails only once they are within expiryMargin of their
// expiry. A failed early renewal used to end the run (exit 4) with
// minutes of valid credentials left. The skew moves their expiry, by
// AWS's clock, into the renewal window without waiting for it.
func TestRenewalFailureKeepsValidCredentials(t *testing.T) {
	ctx := context.Background()
	f := &failsAfterFirst{}
	skew := &clockSkew{}
	c := renewing(f, skew)
	first, err := c.Retrieve(ctx)
	if err != nil {
		t.Fatal(err)
	}

	// AWS's clock 57m45s ahead: 2m15s left, past the latest time the
	// renewal is due (renewAhead/2 ahead) and more than expiryMargin.
	off := 57*time.Minute + 45*time.Second
	skew.ns.Store(int64(off))
	got, err := c.Retrieve(ctx)
	if err != nil {
		t.Fatalf("renewal failed with 2m15s of valid credentials left: %v, want the held credentials", err)
	}
	if got.AccessKeyID != first.AccessKeyID {
		t.Errorf("got key %q, want the held %q", got.AccessKeyID, first.AccessKeyID)
	}
	if limit := f.expires.Add(-off - expiryMargin); got.Expires.After(limit) {
		t.Errorf("held credentials are renewed at %v, after %v, expiryMargin before their expiry on this machine's clock", got.Expires, limit)
	}
	for range 3 {
		if _, err := c.Retrieve(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if n := f.calls.Load(); n != 2 {
		t.Errorf("the source was asked %d times for five calls, want twice (once, then one renewal; not on every call)", n)
	}

	// A few seconds later the renewal is tried again.
	time.Sleep(retryRenewal + 100*time.Millisecond)
	if _, err := c.Retrieve(ctx); err != nil {
		t.Fatal(err)
	}
	if n := f.calls.Load(); n != 3 {
		t.Errorf("the source was asked %d times after %v, want 3 (the renewal tried again)", n, retryRenewal)
	}

	// 30 s left: within expiryMargin, the failure is the run's.
	skew.ns.Store(int64(59*time.Minute + 30*time.Second))
	if _, err := c.Retrieve(ctx); err == nil {
		t.Errorf("got credentials with 30 s left and the renewal failing, want its error")
	}
}
