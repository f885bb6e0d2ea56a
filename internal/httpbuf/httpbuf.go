// Package httpbuf holds the HTTP transport that every AWS SDK client of this
// module uses: it buffers request bodies in memory.
package httpbuf

import (
	"bytes"
	"io"
	"net/http"
)

// Transport returns an http.RoundTripper that reads each request body into
// memory and hands base (nil means http.DefaultTransport) a fresh in-memory
// copy.
//
// It works around a race between the AWS SDK for Go v2 and net/http: the SDK
// wraps request bodies in smithy-go's safe read-closer and closes it as soon
// as the response headers arrive; net/http's transport, after writing a body
// of a type it does not know, drains it once more, and the closed wrapper's
// io.EOF reads as a failed write. The transport then closes the connection
// while the response body is still being read, and the call fails with
// "use of closed network connection" although the service answered it in
// full; the retry fetches the same page twice. It shows against fast
// endpoints (about one call in fifteen thousand on loopback). Request bodies
// of these APIs are a few hundred bytes, so a copy costs nothing.
func Transport(base http.RoundTripper) http.RoundTripper {
	if base == nil {
		base = http.DefaultTransport
	}
	return transport{base}
}

type transport struct{ base http.RoundTripper }

func (t transport) RoundTrip(r *http.Request) (*http.Response, error) {
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
