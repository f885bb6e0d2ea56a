package deliver_test

import (
	"context"
	"errors"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"

	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/sestest"
)

// TestSendSESSignalHTTP2BodyHeldBack: over HTTP/2, an endpoint that
// grants no more flow-control window leaves the rest of a request's body
// in the client's HTTP/2 layer, where the kernel's queue does not show
// it. A signal then waited for the HTTP client's timeout (and a minute
// without one), as if SES had the whole request. The request has not
// left whole: the signal cuts the call, the stream is reset, and the
// error wraps the signal's, not Unknown.
func TestSendSESSignalHTTP2BodyHeldBack(t *testing.T) {
	srv := sestest.NewStall(t)
	client := sesv2.New(sesv2.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		// The timeout ends a call the signal left waiting; the test
		// tells which of the two ended it.
		HTTPClient: &http.Client{Transport: srv.Client().Transport, Timeout: 10 * time.Second},
		Retryer:    aws.NopRetryer{},
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go func() {
		<-srv.Full // the client sent all it may: the rest waits in its HTTP/2 layer
		cancel()
	}()
	err := deliver.SendSES(ctx, client, bigMessage())
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
}
