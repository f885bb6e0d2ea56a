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
// value too short to tell from words, account IDs and numbers is not
// kept (an external ID that is an account's ID, an MFA code: the records
// of a run with --external-id 123456789012 read "account ***"); a nil or
// empty Secrets changes nothing.
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
	s.Add("abc", "", "ext-id-1-0123456", "ext-id-1-0123456-longer", "a/b+c=d/0123456789", "123456789012", "918273", "Organization", "Instances")
	tests := []struct{ in, want string }{
		{"ExternalId=ext-id-1-0123456&x", "ExternalId=***&x"},
		{"ext-id-1-0123456-longer", "***"},
		{"abc stays: too short", "abc stays: too short"},
		{"form: a%2Fb%2Bc%3Dd%2F0123456789, raw: a/b+c=d/0123456789", "form: ***, raw: ***"},
		{"nothing here", "nothing here"},
		{"not in a valid state for account 123456789012", "not in a valid state for account 123456789012"},
		{"role/OrganizationAccountAccessRole TokenCode=918273", "role/OrganizationAccountAccessRole TokenCode=918273"},
		{"Instances [[i-0123456789abcdef0]] not valid", "Instances [[i-0123456789abcdef0]] not valid"},
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
	wrapped := s.Wrap(fmt.Errorf("said ext-id-1-0123456: %w", audit.ErrFatal))
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
				s.Add(fmt.Sprintf("token-%d-%d-0123456789", i, j))
			}
		}()
		go func() {
			defer wg.Done()
			for range 50 {
				s.Redact("token-1-1-0123456789 and more")
			}
		}()
	}
	wg.Wait()
	if got := s.Redact("token-7-49-0123456789 token-0-0-0123456789"); got != "*** ***" {
		t.Errorf("Redact = %q, want every value added redacted", got)
	}
}
