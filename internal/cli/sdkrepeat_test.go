package cli

import (
	"bytes"
	"fmt"
	"strings"
	"testing"

	"github.com/aws/smithy-go/logging"
)

// TestSDKWarningsNotRepeated: a warning the SDK gives at every dropped
// connection ("failed to discard remaining HTTP response body") came once
// a connection, hundreds of lines in a cron mail. Each kind is written
// once, then at the 10th, 100th, ... with the count.
func TestSDKWarningsNotRepeated(t *testing.T) {
	var b bytes.Buffer
	log := newConsole(&b).sdkLogger()
	for i := range 25 {
		log.Logf(logging.Warn, "failed to discard remaining HTTP response body, this may affect connection reuse: %v", fmt.Errorf("read tcp 127.0.0.1:%d: connection reset by peer", 40000+i))
	}
	// A warning of the same form about another thing (an endpoint's
	// deprecation, for another region) is another warning.
	log.Logf(logging.Warn, "endpoint identifier %q, url %q marked as deprecated", "us-east-1", "https://a")
	log.Logf(logging.Warn, "endpoint identifier %q, url %q marked as deprecated", "eu-west-1", "https://b")
	// One whose text differs every time (the Date header a proxy sends
	// wrong, as its parse error) is one warning, counted.
	for i := range 10 {
		log.Logf(logging.Warn, "failed to parse response Date header value, got %v", fmt.Sprintf("parsing time \"Mon, %02d\"", i))
	}
	log.Logf(logging.Warn, "another warning: %d", 1)
	log.Logf(logging.Debug, "debug %d", 1)
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	if len(lines) != 7 {
		t.Fatalf("%d lines, want the first and the 10th of two kinds, both deprecations and the other warning:\n%s", len(lines), b.String())
	}
	if !strings.Contains(lines[0], "40000") || !strings.Contains(lines[1], "10 times") || !strings.Contains(lines[3], "eu-west-1") || !strings.Contains(lines[5], "10 times") || !strings.Contains(lines[6], "another warning: 1") {
		t.Errorf("lines:\n%s", b.String())
	}
}

// TestSDKWarningEscaped: text from outside in an SDK warning (a header's
// value) is shown as Go escapes it, as every such text on stderr: made one
// line, the escape was a space, the bidi control gone, the byte that is
// not UTF-8 a U+FFFD, so that the line no longer said what came.
func TestSDKWarningEscaped(t *testing.T) {
	var b bytes.Buffer
	newConsole(&b).sdkLogger().Logf(logging.Warn, "bad header %s", "a\x1b[31mb\xff\u202ec\nd")
	got := strings.TrimSpace(b.String())
	if want := `bad header a\x1b[31mb\xff\u202ec d`; !strings.HasSuffix(got, want) {
		t.Errorf("stderr %q, want it to end %q", got, want)
	}
}
