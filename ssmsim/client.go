package ssmsim

import (
	"net/http"

	"github.com/auditor-dev/auditor/internal/httpbuf"
)

// BufferedTransport returns an http.RoundTripper for an SDK client of this
// server: it reads each request body into memory and hands base (nil means
// http.DefaultTransport) a fresh in-memory copy.
//
// It works around a race between the AWS SDK for Go v2 and net/http that a
// server as fast as this one exposes. The SDK wraps request bodies in
// smithy-go's safe read-closer and closes it as soon as the response headers
// arrive; net/http's transport, after writing a body of a type it does not
// know, drains it once more, and the closed wrapper's WriteTo answers
// io.EOF as an error. The transport then counts the request write as failed
// and closes the connection while the response body is being read: the
// call fails with "deserialization failed ... use of closed network
// connection" (retried by the SDK's default retryer), although the server
// answered it in full. In stress runs on a loaded two-core machine it hit
// about one call in fifteen thousand (one in a thousand under the race
// detector). With an in-memory body the transport neither flushes the
// headers early nor drains a closed reader.
//
// Use it as ssm.Options.HTTPClient = &http.Client{Transport:
// ssmsim.BufferedTransport(nil)} where a test must see every call succeed or
// count pages served twice (Stats.DuplicatePages).
func BufferedTransport(base http.RoundTripper) http.RoundTripper {
	return httpbuf.Transport(base)
}
