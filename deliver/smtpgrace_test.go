package deliver_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/smtptest"
)

// TestSMTPSendSignalGrace: a signal while the server, which has the whole
// message, gives no reply was waited out to the attempt's time (a minute
// by default), past a container's grace before its SIGKILL (docker stop's
// 10 s, Kubernetes' 30 s), which then left no word at all. Once ctx ends,
// the reply is waited for Grace at most: none then is an unknown outcome
// (the message may have been delivered), not sent again; a reply within
// Grace is the message's outcome, as ever.
func TestSMTPSendSignalGrace(t *testing.T) {
	for _, tt := range []struct {
		name    string
		delay   time.Duration // before the server's reply
		grace   time.Duration
		unknown bool
	}{
		{"no reply within the grace", time.Hour, 500 * time.Millisecond, true},
		{"no grace at all", time.Hour, -1, true},
		{"a reply within the grace", 300 * time.Millisecond, 10 * time.Second, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			srv := smtptest.NewServer(t, smtptest.Options{
				Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
					if st == smtptest.StageData {
						cancel() // the message is whole: the client awaits the reply
					}
					return nil
				},
				DelayAfterData: func(int) time.Duration { return tt.delay },
			})
			s := deliver.SMTP{URL: "smtp://localhost:" + port(t, srv), TLSConfig: srv.TLSConfig("localhost"), Backoff: time.Hour,
				Grace: tt.grace}
			start := time.Now()
			err := s.Send(ctx, message())
			took := time.Since(start)
			if took > 20*time.Second {
				t.Errorf("Send took %v after the signal, want about the grace (%v)", took, tt.grace)
			}
			// The server keeps the message just after the Reject that
			// cancels ctx: with no grace, Send can return before it
			// does (seen under -race on a loaded machine).
			for deadline := time.Now().Add(10 * time.Second); len(srv.Messages()) == 0 && time.Now().Before(deadline); {
				time.Sleep(10 * time.Millisecond)
			}
			if n := len(srv.Messages()); n != 1 {
				t.Errorf("the server kept %d messages, want 1", n)
			}
			if !tt.unknown {
				if err != nil {
					t.Errorf("Send = %v, want the 250 that came within the grace", err)
				}
				return
			}
			var e *deliver.Error
			if !errors.As(err, &e) || !e.Unknown || e.Op != "end of DATA" {
				t.Fatalf("Send = %v, want an unknown outcome at the end of DATA", err)
			}
			if !strings.Contains(err.Error(), "may have been delivered") {
				t.Errorf("the error does not say the message may have been delivered: %v", err)
			}
		})
	}
}
