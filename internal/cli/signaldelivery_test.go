package cli

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"

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
