package awsconn

import (
	"errors"
	"io"
	"net/http"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// bodyOf is a RoundTripper that answers every request with a body of n
// bytes.
type bodyOf int64

func (n bodyOf) RoundTrip(*http.Request) (*http.Response, error) {
	return &http.Response{StatusCode: 200, Body: io.NopCloser(io.LimitReader(zeros{}, int64(n)))}, nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// TestCappedBodyBoundary: a body of exactly audit.MaxAnswer bytes is read
// whole; one byte more is refused as an *audit.AnswerTooLargeError, once:
// what reads on after it (the SDK drains a body it closes) finds its end,
// rather than the error again, which the SDK told as a warning of a
// connection it could not reuse.
func TestCappedBodyBoundary(t *testing.T) {
	for _, tt := range []struct {
		name    string
		size    int64
		tooMany bool
	}{
		{"at the bound", audit.MaxAnswer, false},
		{"one byte over", audit.MaxAnswer + 1, true},
		{"far over", 3 * audit.MaxAnswer, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, "https://ssm.us-east-1.amazonaws.com/", nil)
			resp, err := capped{bodyOf(tt.size)}.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			n, err := io.Copy(io.Discard, resp.Body)
			var tl *audit.AnswerTooLargeError
			if got := errors.As(err, &tl); got != tt.tooMany {
				t.Fatalf("read %d bytes of %d: error %v, want too large: %v", n, tt.size, err, tt.tooMany)
			}
			if !tt.tooMany && n != tt.size {
				t.Errorf("read %d bytes, want %d", n, tt.size)
			}
			if tt.tooMany {
				if n > audit.MaxAnswer+1 {
					t.Errorf("read %d bytes, want at most %d", n, audit.MaxAnswer+1)
				}
				if rest, err := io.Copy(io.Discard, resp.Body); err != nil || rest != 0 {
					t.Errorf("after the refusal: %d bytes more, error %v; want the body's end", rest, err)
				}
			}
			if err := resp.Body.Close(); err != nil {
				t.Error(err)
			}
		})
	}
}
