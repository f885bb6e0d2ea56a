package httpbuf_test

import (
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/internal/httpbuf"
)

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

type closeRecorder struct {
	io.Reader
	closed bool
}

func (c *closeRecorder) Close() error { c.closed = true; return nil }

func TestTransport(t *testing.T) {
	var sent *http.Request
	var sentBody string
	base := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		sent = r
		b, err := io.ReadAll(r.Body)
		if err != nil {
			t.Fatal(err)
		}
		sentBody = string(b)
		return &http.Response{StatusCode: 200, Body: http.NoBody}, nil
	})
	body := &closeRecorder{Reader: strings.NewReader(`{"InstanceId":"i-0123456789abcdef0"}`)}
	req, _ := http.NewRequest("POST", "http://127.0.0.1:1/", body)
	req.ContentLength = -1
	if _, err := httpbuf.Transport(base).RoundTrip(req); err != nil {
		t.Fatal(err)
	}
	if sentBody != `{"InstanceId":"i-0123456789abcdef0"}` || sent.ContentLength != int64(len(sentBody)) {
		t.Errorf("sent body %q with ContentLength %d", sentBody, sent.ContentLength)
	}
	if sent == req || sent.Body == req.Body {
		t.Error("the base transport got the caller's request or body, not a copy")
	}
	if !body.closed {
		t.Error("the caller's body was not closed")
	}
	if req.ContentLength != -1 {
		t.Error("the caller's request was changed")
	}
	if again, err := sent.GetBody(); err != nil {
		t.Errorf("GetBody: %v", err)
	} else if b, _ := io.ReadAll(again); string(b) != sentBody {
		t.Errorf("GetBody gave %q", b)
	}
}
