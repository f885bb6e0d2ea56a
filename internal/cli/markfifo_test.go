//go:build unix

package cli

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"
)

// TestMarksThatAreFIFOs: a FIFO planted in --out where a mark of the mail
// goes (.auditor-mail-sent, .auditor-mail-undelivered,
// .auditor-mail-unsent, .auditor-mail-groups-pending) hung the delivery for ever in its read,
// with the directory's lock held, and mailed nobody. A mark that is not a
// regular file is read as one that cannot be: the sent mails as none (the
// mail goes), the undelivered mark as one no mail takes away.
func TestMarksThatAreFIFOs(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{sentFile, undeliveredFile, unsentFile, groupsPendingFile} {
		if err := syscall.Mkfifo(filepath.Join(dir, name), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() {
		defer close(done)
		if ms := readSent(dir); len(ms.Mails) != 0 {
			t.Errorf("a FIFO read as mails sent: %+v", ms)
		}
		warnf := func(string, ...any) {}
		dl := &delivery{out: dir, toFlag: "mail-to", logf: warnf, warnf: warnf,
			d: &deliveryOptions{mailTo: listFlag{vals: []string{"ops@example.com"}}, mailToLabel: "owner_email"}}
		dl.mark(dir, []string{"ops@example.com"}, markSent, false)
		dl.notDue(true, true)
		if _, ok := readUndelivered(dir); ok {
			t.Errorf("FIFOs read as marks of what was not delivered")
		}
	}()
	select {
	case <-done:
	case <-time.After(time.Minute):
		// Not a measure of speed: a read of a FIFO with no writer
		// never returns.
		t.Fatal("reading the marks has not returned after a minute: a FIFO is waited on")
	}
}
