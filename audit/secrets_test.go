package audit_test

import (
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestSecretsRedact: every value kept is replaced wherever it is, the
// longer first where one holds another, and in its query-string form; a
// value too short to tell from words is not kept; a nil or empty Secrets
// changes nothing.
func TestSecretsRedact(t *testing.T) {
	var none *audit.Secrets
	none.Add("never-kept")
	if got := none.Redact("never-kept"); got != "never-kept" {
		t.Errorf("nil Redact = %q", got)
	}
	if got := new(audit.Secrets).Redact("text"); got != "text" {
		t.Errorf("empty Redact = %q", got)
	}
	s := new(audit.Secrets)
	s.Add("abc", "", "ext-id-1", "ext-id-1-longer", "a/b+c=d")
	tests := []struct{ in, want string }{
		{"ExternalId=ext-id-1&x", "ExternalId=***&x"},
		{"ext-id-1-longer", "***"},
		{"abc stays: too short", "abc stays: too short"},
		{"form: a%2Fb%2Bc%3Dd, raw: a/b+c=d", "form: ***, raw: ***"},
		{"nothing here", "nothing here"},
	}
	for _, tt := range tests {
		if got := s.Redact(tt.in); got != tt.want {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	plain := errors.New("no secret here")
	if got := s.Wrap(plain); got != plain {
		t.Errorf("Wrap of an error without a secret = %v, want it as it is", got)
	}
	wrapped := s.Wrap(fmt.Errorf("said ext-id-1: %w", audit.ErrFatal))
	if wrapped.Error() != "said ***: cannot call SSM" || !errors.Is(wrapped, audit.ErrFatal) {
		t.Errorf("Wrap = %q, want it redacted and wrapping ErrFatal", wrapped)
	}
}

// TestSecretsConcurrent: credentials added from some goroutines while
// others redact (run with -race).
func TestSecretsConcurrent(t *testing.T) {
	s := new(audit.Secrets)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Add(2)
		go func() {
			defer wg.Done()
			for j := range 50 {
				s.Add(fmt.Sprintf("token-%d-%d", i, j))
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				s.Redact("token-1-1 and more")
			}
		}()
	}
	wg.Wait()
	if got := s.Redact("token-7-49 token-0-0"); got != "*** ***" {
		t.Errorf("Redact = %q, want every value added redacted", got)
	}
}
