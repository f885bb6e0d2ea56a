package audit

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"slices"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/ratelimit"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	awshttp "github.com/aws/aws-sdk-go-v2/aws/transport/http"
	"github.com/aws/smithy-go"
)

// NewRetryer returns the SDK retryer an audit wants, for
// config.WithRetryer or aws.Config.Retryer: standard mode (exponential
// backoff with jitter, capped at 20 s, on throttles, 5xx and dropped
// connections) with maxAttempts attempts per call, and no retry quota. The
// default quota runs dry when many workers share one client under
// throttling, and then fails calls that a retry would have saved
// (aws-sdk-go-v2 issue 1665); the Limiter paces the calls instead.
//
// It also retries an answer that could not be read: a body cut short by a
// dropped connection, or one that is not the JSON SSM sends (a proxy's error
// page). The SDK leaves those to the caller, since for some operations a
// repeat is not safe; DescribeInstanceAssociationsStatus only reads.
func NewRetryer(maxAttempts int) func() aws.Retryer {
	return func() aws.Retryer {
		return retry.NewStandard(func(o *retry.StandardOptions) {
			o.MaxAttempts = maxAttempts
			o.RateLimiter = ratelimit.None
			o.Retryables = append(slices.Clone(o.Retryables), retry.IsErrorRetryableFunc(unreadableAnswer))
		})
	}
}

func unreadableAnswer(err error) aws.Ternary {
	var de *smithy.DeserializationError
	if errors.As(err, &de) || errors.Is(err, io.ErrUnexpectedEOF) {
		return aws.TrueTernary
	}
	return aws.UnknownTernary
}

// NewHTTPClient returns the HTTP client an audit wants for the SDK, built on
// base, the client config.LoadDefaultConfig made (an *awshttp.BuildableClient
// that carries the proxy and any custom CA bundle; nil means the SDK's
// defaults): idle connections for conns workers, a timeout per attempt, and
// request bodies buffered in memory. A base of another type is returned as
// it is.
//
// The buffering works around a race between the SDK and net/http: the SDK
// closes its request-body wrapper as soon as response headers arrive, and
// net/http's transport, draining the body once more after writing it, takes
// the closed wrapper's io.EOF for a failed write and closes the connection
// while the response is still being read. The call then fails with
// "use of closed network connection" although the service answered it in
// full, and the retry fetches the same page twice. It shows against fast
// endpoints (about one call in fifteen thousand on loopback). The bodies
// here are a few dozen bytes, so a copy costs nothing.
func NewHTTPClient(base aws.HTTPClient, timeout time.Duration, conns int) aws.HTTPClient {
	if base == nil {
		base = awshttp.NewBuildableClient()
	}
	bc, ok := base.(*awshttp.BuildableClient)
	if !ok {
		return base
	}
	tr := bc.WithTransportOptions(func(t *http.Transport) {
		t.MaxIdleConnsPerHost = max(conns*2, t.MaxIdleConnsPerHost)
		t.MaxIdleConns = max(t.MaxIdleConns, conns*4)
	}).GetTransport()
	return &http.Client{Transport: bufferedBody{tr}, Timeout: timeout}
}

type bufferedBody struct{ base http.RoundTripper }

func (t bufferedBody) RoundTrip(r *http.Request) (*http.Response, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return t.base.RoundTrip(r)
	}
	data, err := io.ReadAll(r.Body)
	r.Body.Close()
	if err != nil {
		return nil, err
	}
	r2 := r.Clone(r.Context()) // a RoundTripper must not change the caller's request
	r2.Body = io.NopCloser(bytes.NewReader(data))
	r2.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	r2.ContentLength = int64(len(data))
	return t.base.RoundTrip(r2)
}
