package deliver_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/aws/retry"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/deliver"
)

// fakeSES is a deliver.SESAPI that keeps what it is given and answers err.
type fakeSES struct {
	in  []*sesv2.SendEmailInput
	err error
}

var _ deliver.SESAPI = (*fakeSES)(nil)

func (f *fakeSES) SendEmail(_ context.Context, in *sesv2.SendEmailInput, _ ...func(*sesv2.Options)) (*sesv2.SendEmailOutput, error) {
	f.in = append(f.in, in)
	if f.err != nil {
		return nil, f.err
	}
	return &sesv2.SendEmailOutput{MessageId: aws.String("0100-test")}, nil
}

func TestSendSES(t *testing.T) {
	api := &fakeSES{}
	m := message()
	if err := deliver.SendSES(context.Background(), api, m); err != nil {
		t.Fatal(err)
	}
	if len(api.in) != 1 {
		t.Fatalf("%d calls, want 1", len(api.in))
	}
	in := api.in[0]
	if got := aws.ToString(in.FromEmailAddress); got != "auditor@example.com" {
		t.Errorf("FromEmailAddress %q", got)
	}
	if in.Destination == nil || !slices.Equal(in.Destination.ToAddresses, []string{"ops@example.com", "sec@example.com"}) {
		t.Errorf("Destination %+v", in.Destination)
	}
	if in.Content == nil || in.Content.Raw == nil || in.Content.Simple != nil || in.Content.Template != nil {
		t.Fatalf("Content %+v, want Raw only", in.Content)
	}
	got := parse(t, in.Content.Raw.Data)
	if got.Subject != m.Subject || got.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("raw message: subject %q, Auto-Submitted %q", got.Subject, got.Header.Get("Auto-Submitted"))
	}
	if p := got.Part("text/html"); p == nil || string(p.Body) != m.HTML {
		t.Errorf("raw message: HTML part %+v, want %q", p, m.HTML)
	}

	api.err = &smithy.GenericAPIError{Code: "MessageRejected", Message: "Email address is not verified."}
	err := deliver.SendSES(context.Background(), api, m)
	var e *deliver.Error
	if !errors.As(err, &e) || e.ErrorCode != "MessageRejected" || e.Temporary || e.Op != "SES SendEmail" {
		t.Errorf("SendSES = %#v, want a *deliver.Error with code MessageRejected, not temporary", err)
	}
}

// TestSendSESThrottled sends through the real SES v2 client over HTTP to an
// endpoint that throttles twice, then accepts: the SDK's retryer retries.
func TestSendSESThrottled(t *testing.T) {
	var mu sync.Mutex
	var calls int
	var raw []byte
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if r.Method != http.MethodPost || r.URL.Path != "/v2/email/outbound-emails" {
			http.Error(w, "unexpected "+r.Method+" "+r.URL.Path, http.StatusNotFound)
			return
		}
		if calls <= 2 {
			w.Header().Set("X-Amzn-ErrorType", "TooManyRequestsException")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"message":"Maximum sending rate exceeded."}`)
			return
		}
		var in struct {
			Content struct{ Raw struct{ Data string } }
		}
		if err := json.NewDecoder(r.Body).Decode(&in); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		raw, _ = base64.StdEncoding.DecodeString(in.Content.Raw.Data)
		io.WriteString(w, `{"MessageId":"0100-test"}`)
	}))
	defer srv.Close()
	client := sesv2.New(sesv2.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
		}),
	})
	m := message()
	if err := deliver.SendSES(context.Background(), client, m); err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if calls != 3 {
		t.Errorf("%d calls, want 3 (two throttled)", calls)
	}
	if got := parse(t, raw); got.Subject != m.Subject {
		t.Errorf("the raw message sent has subject %q, want %q", got.Subject, m.Subject)
	}

	// Throttled every time: the retryer gives up, and says how often it tried.
	calls = -100
	mu.Unlock()
	err := deliver.SendSES(context.Background(), client, m)
	mu.Lock()
	var e *deliver.Error
	if !errors.As(err, &e) || e.ErrorCode != "TooManyRequestsException" || !e.Temporary || e.Attempts != 3 {
		t.Errorf("SendSES = %v (%+v), want a temporary TooManyRequestsException after 3 attempts", err, e)
	}
}

// TestSendSESUnanswered: an endpoint that takes the whole request and
// gives no answer (drops the connection, or cuts its answer short) may
// have sent the message: it is not sent again, whatever the retryer
// would do with such an error, and the error says the outcome is
// unknown. A connection that cannot be opened is retried as before.
func TestSendSESUnanswered(t *testing.T) {
	for _, tt := range []struct {
		name string
		// answer answers the request, read whole, on its hijacked
		// connection.
		answer func(c net.Conn)
	}{
		{"dropped", func(c net.Conn) {}},
		{"cut short", func(c net.Conn) {
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{\"MessageId\":")
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				io.Copy(io.Discard, r.Body)
				mu.Lock()
				calls++
				mu.Unlock()
				c, _, err := http.NewResponseController(w).Hijack()
				if err != nil {
					t.Error(err)
					return
				}
				defer c.Close()
				tt.answer(c)
			}))
			defer srv.Close()
			err := deliver.SendSES(context.Background(), sesClient(srv.URL), message())
			mu.Lock()
			defer mu.Unlock()
			if calls != 1 {
				t.Errorf("%d calls, want 1: a message SES may have taken is not sent again", calls)
			}
			var e *deliver.Error
			if !errors.As(err, &e) || !e.Unknown || e.Temporary {
				t.Fatalf("SendSES = %v (%+v), want a *deliver.Error, unknown, not temporary", err, e)
			}
			t.Logf("error: %v", err)
		})
	}

	// Nothing listens: nothing was sent, and the retryer tries again.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	err = deliver.SendSES(context.Background(), sesClient("http://"+addr), message())
	var e *deliver.Error
	if !errors.As(err, &e) || e.Unknown || !e.Temporary || e.Attempts != 3 {
		t.Errorf("SendSES = %v (%+v), want a temporary error after 3 attempts", err, e)
	}
}

// sesClient is an SES v2 client of the endpoint at url whose retryer, as
// the run's does, also retries an answer cut short, at once.
func sesClient(url string) *sesv2.Client {
	return sesv2.New(sesv2.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(url),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", ""),
		Retryer: retry.NewStandard(func(o *retry.StandardOptions) {
			o.Backoff = retry.BackoffDelayerFunc(func(int, error) (time.Duration, error) { return 0, nil })
			o.Retryables = append(slices.Clone(o.Retryables), retry.IsErrorRetryableFunc(func(err error) aws.Ternary {
				var de *smithy.DeserializationError
				if errors.As(err, &de) || errors.Is(err, io.ErrUnexpectedEOF) {
					return aws.TrueTernary
				}
				return aws.UnknownTernary
			}))
		}),
	})
}
