package awsconn

import (
	"context"
	"net/http"
	"sync/atomic"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/smithy-go/middleware"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

// skewTolerance is how far AWS's clock, as its answers' Date shows it, may
// be from this machine's before credentials' expiry is moved by the
// difference: above a Date's second and an answer's latency, and far
// under the least time credentials are renewed ahead of their expiry
// (half of renewAhead).
const skewTolerance = 30 * time.Second

// clockSkew is how far AWS's clock is ahead of this machine's (behind, if
// negative), as the last answer of any call showed it, or 0 when it was
// within skewTolerance. Temporary credentials expire by AWS's clock (STS's
// Expiration); judged by a clock off by more than the time they are
// renewed ahead, a session is used past its end (every call refused as
// expired), or each arrives expired and is renewed before every call.
// The SDK corrects its signing time from the same Date, per client, but
// not the expiry of credentials. The zero value is no skew; it is safe
// for concurrent use.
type clockSkew struct{ ns atomic.Int64 }

// get returns the skew last seen.
func (s *clockSkew) get() time.Duration {
	if s == nil {
		return 0
	}
	return time.Duration(s.ns.Load())
}

// observe takes the skew of an answer dated date (its Date header)
// received at now. An answer with an Age header came from a cache on the
// way, and an answer without a Date says nothing.
func (s *clockSkew) observe(h http.Header, now time.Time) {
	if h.Get("Age") != "" {
		return
	}
	d, err := http.ParseTime(h.Get("Date"))
	if err != nil {
		return
	}
	off := d.Sub(now)
	if off.Abs() <= skewTolerance {
		off = 0
	}
	s.ns.Store(int64(off))
}

// APIOption adds to a client's stack the middleware that observes the
// Date of each answer, refusals included.
func (s *clockSkew) APIOption(st *middleware.Stack) error {
	return st.Deserialize.Add(middleware.DeserializeMiddlewareFunc("auditorClockSkew",
		func(ctx context.Context, in middleware.DeserializeInput, next middleware.DeserializeHandler) (middleware.DeserializeOutput, middleware.Metadata, error) {
			out, md, err := next.HandleDeserialize(ctx, in)
			if resp, ok := out.RawResponse.(*smithyhttp.Response); ok && resp != nil && resp.Response != nil {
				s.observe(resp.Header, time.Now())
			}
			return out, md, err
		}), middleware.After)
}

// onAWSClock moves the expiry of creds, which is AWS's, to this machine's
// clock by skew.
func onAWSClock(creds aws.Credentials, skew time.Duration) aws.Credentials {
	if creds.CanExpire {
		creds.Expires = creds.Expires.Add(-skew)
	}
	return creds
}
