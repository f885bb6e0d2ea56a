package cli

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/deliver/sestest"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestSignalDuringDelivery: a signal that cuts a delivery short (a mail
// whose server has not yet greeted)
// was told as the server's failure to fix ("delivery failed ... greeting:
// read tcp ...: i/o timeout (context canceled)"), the signal never named.
// It is told as the signal before a delivery is: the mail was interrupted,
// exit 5, with the command that delivers the reports.
func TestSignalDuringDelivery(t *testing.T) {
	for _, tt := range []struct {
		name string
		// serve starts a server that calls signal once the delivery
		// reached it and never answers; it returns the delivery flags.
		serve       func(t *testing.T, signal func()) []string
		wantSaid    string
		wantNotSaid []string
		wantAgain   string
		wantMark    bool
	}{
		{
			name: "mail",
			serve: func(t *testing.T, signal func()) []string {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				go func() {
					c, err := ln.Accept()
					if err != nil {
						return
					}
					defer c.Close()
					signal()
					<-t.Context().Done()
				}()
				return []string{"--mail-to", "ops@example.com", "--mail-from", "auditor@example.com", "--smtp", "smtp://" + ln.Addr().String()}
			},
			wantSaid:    "interrupted by a signal during the mail to ops@example.com",
			wantNotSaid: []string{"i/o timeout", "greeting"},
			wantAgain:   "deliver them with: auditor mail ",
			wantMark:    true,
		},
		{
			// An S3 that took the request and never answers: the
			// upload's call is cancelled with the run's context, not left
			// waiting for an answer that does not come.
			name: "upload",
			serve: func(t *testing.T, signal func()) []string {
				ln, err := net.Listen("tcp", "127.0.0.1:0")
				if err != nil {
					t.Fatal(err)
				}
				t.Cleanup(func() { ln.Close() })
				go func() {
					for first := true; ; first = false {
						c, err := ln.Accept()
						if err != nil {
							return
						}
						if first {
							signal()
						}
						go func() {
							defer c.Close()
							<-t.Context().Done()
						}()
					}
				}()
				t.Setenv("AWS_ENDPOINT_URL_S3", "http://"+ln.Addr().String())
				return []string{"--upload", "s3://reports/weekly/"}
			},
			wantSaid:    "interrupted by a signal during the upload",
			wantNotSaid: []string{"context canceled", "StatusCode"},
			wantAgain:   "aws s3 cp --recursive",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			isolateAWS(t, "AKIATESTTESTTESTTEST")
			url, _ := serve(t, handFleet(false), ssmsim.Options{})
			ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			flags := tt.serve(t, cancel)
			out := filepath.Join(t.TempDir(), "out")
			got := runCtx(ctx, nil, append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet"}, flags...)...)
			if got.code != int(exitDelivery) {
				t.Errorf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
			}
			if !strings.Contains(got.stderr, tt.wantSaid) {
				t.Errorf("stderr does not say %q:\n%s", tt.wantSaid, got.stderr)
			}
			for _, s := range tt.wantNotSaid {
				if strings.Contains(got.stderr, s) {
					t.Errorf("stderr tells the signal as the server's failure (%q):\n%s", s, got.stderr)
				}
			}
			if !strings.Contains(got.stderr, tt.wantAgain) {
				t.Errorf("stderr does not give the command that delivers the reports (%q):\n%s", tt.wantAgain, got.stderr)
			}
			if _, err := os.Stat(filepath.Join(out, undeliveredFile)); tt.wantMark && err != nil {
				t.Errorf("the output is not marked undelivered: %v", err)
			}
		})
	}
}

// TestSignalDuringSESOverHTTP2: SES over HTTP/2 that grants no more
// flow-control window holds the rest of the mail in the client, above the
// kernel's queue. A signal then waited for --call-timeout (at most a
// minute), as if SES had the whole mail: an SES that granted more window
// meanwhile got it and the run said it was mailed, past a container's
// grace. The mail has not left whole: the signal cuts it, the run exits 5
// saying it was interrupted, with the command that delivers the reports.
func TestSignalDuringSESOverHTTP2(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ses := sestest.NewStall(t)
	t.Setenv("AWS_CA_BUNDLE", writeFile(t, "ca.pem", string(ses.CAPEM())))
	t.Setenv("AWS_ENDPOINT_URL_SESV2", ses.URL)
	// A fleet whose reports make a mail of more than the window.
	url, ids, _, _ := genFleet(t, 400, ssmsim.Options{})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		<-ses.Full // the rest of the mail waits in the client's HTTP/2 layer
		cancel()
		// A run that waits for SES after the signal is let through, so
		// that it says so: it mails.
		select {
		case <-done:
		case <-time.After(5 * time.Second):
			ses.Release()
		}
	}()
	out := filepath.Join(t.TempDir(), "out")
	got := runCtx(ctx, nil, "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--fail-on", "none", "--call-timeout", "60s",
		"--mail-to", "ops@example.com", "--mail-from", "auditor@example.com", "--mail-via", "ses")
	close(done)
	select {
	case <-ses.Full:
	default:
		t.Fatalf("the mail reached SES whole or not at all: the test sends too little\nexit %d\n%s", got.code, got.stderr)
	}
	if got.code != int(exitDelivery) {
		t.Errorf("exit %d, want %d: the run waited for SES after the signal\n%s", got.code, exitDelivery, got.stderr)
	}
	for _, s := range []string{"interrupted by a signal during the mail to ops@example.com", "deliver them with: auditor mail "} {
		if !strings.Contains(got.stderr, s) {
			t.Errorf("stderr does not say %q:\n%s", s, got.stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(out, undeliveredFile)); err != nil {
		t.Errorf("the output is not marked undelivered: %v", err)
	}
	select {
	case <-ses.Reset:
	case <-time.After(10 * time.Second): // the reset may follow the return
		t.Errorf("the mail's stream was not reset: SES could take it once it grants more window")
	}
}
