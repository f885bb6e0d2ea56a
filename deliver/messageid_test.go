package deliver_test

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/smtptest"
)

// TestMessageIDOfTheSendersDomain: the Message-ID named this machine
// (go-mail's default: the host name), which in a Kubernetes pod or a Batch
// job is the pod's or the instance's name, in every owner's inbox. It is
// of the sender's domain, as mail clients and filters expect, and unique.
func TestMessageIDOfTheSendersDomain(t *testing.T) {
	m := deliver.Message{From: "Audit <auditor@reports.example.com>", To: []string{"b@example.com"}, Subject: "s", Text: "t"}
	seen := map[string]bool{}
	for range 3 {
		raw, _, err := m.Build()
		if err != nil {
			t.Fatal(err)
		}
		id := parse(t, raw).Header.Get("Message-ID")
		if !strings.HasPrefix(id, "<") || !strings.HasSuffix(id, "@reports.example.com>") || strings.Count(id, "@") != 1 || len(id) < 30 {
			t.Errorf("Message-ID %q, want <UNIQUE@reports.example.com>", id)
		}
		if host, err := os.Hostname(); err == nil && host != "reports.example.com" && strings.Contains(id, "@"+host+">") {
			t.Errorf("Message-ID %q names this machine", id)
		}
		if seen[id] {
			t.Errorf("Message-ID %q given twice", id)
		}
		seen[id] = true
	}
}

// TestSendLeavesNothingOutUnsaid: SMTP.Send built the message again and
// sent it without the attachments that no longer fitted, whose body still
// said they were attached. A message whose attachments do not all fit is
// not sent: the caller fits them first (Build names those left out).
func TestSendLeavesNothingOutUnsaid(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{TLS: smtptest.NoTLS})
	m := message()
	m.Text = "Attached: report.xlsx"
	m.Attachments = []string{writeFile(t, t.TempDir(), "report.xlsx", 80_000)}
	m.MaxSize = 60_000
	err := deliver.SMTP{URL: "smtp://127.0.0.1:" + port(t, srv)}.Send(context.Background(), m)
	var e *deliver.Error
	if !errors.As(err, &e) || !strings.Contains(err.Error(), "report.xlsx") {
		t.Fatalf("Send = %v, want an error naming report.xlsx", err)
	}
	if n := srv.Transactions(); n != 0 {
		t.Errorf("%d transactions, want none", n)
	}
}
