package deliver_test

import (
	"context"
	"encoding/base64"
	"errors"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/sestest"
	"github.com/auditor-dev/auditor/internal/httpbuf"
)

// TestSendSESSignalHTTP2BodyHeldBack: over HTTP/2, an endpoint that
// grants no more flow-control window leaves the rest of a request's body
// in the client's HTTP/2 layer, where the kernel's queue does not show
// it. A signal then waited for the HTTP client's timeout (and a minute
// without one), as if SES had the whole request. The request has not
// left whole: the signal cuts the call, the stream is reset, and the
// error wraps the signal's, not Unknown. So too when little of the body
// is held back, and the client has read all of it.
func TestSendSESSignalHTTP2BodyHeldBack(t *testing.T) {
	for _, tc := range []struct {
		name string
		m    deliver.Message
	}{
		{"far more than the window", bigMessage()},
		{"just over the window", overWindow(t)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := sestest.NewStall(t)
			client := sesv2.New(sesv2.Options{
				Region:       "us-east-1",
				BaseEndpoint: aws.String(srv.URL),
				Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
				// The timeout ends a call the signal left waiting; the test
				// tells which of the two ended it. Request bodies are read
				// whole before the transport sees them, as the run's are.
				HTTPClient: &http.Client{Transport: httpbuf.Transport(srv.Client().Transport), Timeout: 10 * time.Second},
				Retryer:    aws.NopRetryer{},
			})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			go func() {
				<-srv.Full // the client sent all it may: the rest waits in its HTTP/2 layer
				cancel()
			}()
			err := deliver.SendSES(ctx, client, tc.m)
			t.Logf("error: %v", err)
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				t.Fatalf("SendSES waited for the HTTP client's timeout after the signal: %v", err)
			}
			var e *deliver.Error
			if !errors.As(err, &e) || e.Unknown || !errors.Is(err, context.Canceled) {
				t.Errorf("SendSES = %v, want a *deliver.Error, not unknown (SES cannot have the whole request), wrapping context.Canceled", err)
			}
			select {
			case <-srv.Reset:
			case <-time.After(10 * time.Second): // the reset may follow the return
				t.Errorf("the stream was not reset: SES could still take the request when it grants more window")
			}
		})
	}
}

// overWindow is a message whose SendEmail request body is a little more
// than sestest.Window: a few kilobytes are held back.
func overWindow(t *testing.T) deliver.Message {
	t.Helper()
	m := message()
	for lines := 600; ; lines += 10 {
		m.Text = strings.Repeat(strings.Repeat("x", 75)+"\n", lines)
		raw, _, err := m.Build()
		if err != nil {
			t.Fatal(err)
		}
		// The body holds the message in base64, and a few hundred bytes
		// more.
		if n := base64.StdEncoding.EncodedLen(len(raw)); n > sestest.Window+1000 {
			if n > sestest.Window+8000 {
				t.Fatalf("no message makes a body a little over the window (%d bytes in base64)", n)
			}
			return m
		}
	}
}
