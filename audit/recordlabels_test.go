package audit_test

import (
	"bytes"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestReadRecordEscapesLabels: a record of an older auditor holds tags'
// values and account names as they were served; read back, a value that
// ValidLabel refuses is written as EscapeLabel writes it, and a value as
// EscapeLabel wrote it is read as it is, so that reading a record, writing
// what was read and reading it again changes nothing. A list's label is
// read as it is: the reports keep the list's text exactly.
func TestReadRecordEscapesLabels(t *testing.T) {
	tests := []struct{ name, in, want string }{
		{"plain", "ops", "ops"},
		{"a zero-width space", "ops\u200b", `ops\u200b`},
		{"a terminal escape", "\x1b[31mred\x1b[0m", `\x1b[31mred\x1b[0m`},
		{"a bidi override", "Prod\u202e", `Prod\u202e`},
		{"a Windows account", `CORP\bob`, `CORP\bob`},
		{"escaped already", `ops\u200b`, `ops\u200b`},
		{"a backslash doubled already", `ops\\u200b`, `ops\\u200b`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := audit.Result{InstanceID: "i-0123456789abcdef0", Outcome: audit.OutcomeNoAssociations,
				Labels: map[string]string{"tag:Team": tt.in, audit.AccountNameLabel: tt.in, "owner": tt.in}}
			read := func(r audit.Result) audit.Result {
				t.Helper()
				var buf bytes.Buffer
				if err := audit.EncodeResult(&buf, r); err != nil {
					t.Fatal(err)
				}
				var got []audit.Result
				if _, err := audit.ReadRecord(&buf, "results.jsonl", func(r audit.Result) error {
					got = append(got, r)
					return nil
				}); err != nil || len(got) != 1 {
					t.Fatalf("ReadRecord: %d results, %v", len(got), err)
				}
				return got[0]
			}
			once := read(r)
			if once.Labels["owner"] != tt.in {
				t.Errorf("list label owner read as %q, want %q as it is", once.Labels["owner"], tt.in)
			}
			for k, v := range once.Labels {
				if k != "owner" && v != tt.want {
					t.Errorf("label %s read as %q, want %q", k, v, tt.want)
				}
			}
			twice := read(once)
			for k, v := range twice.Labels {
				if v != once.Labels[k] {
					t.Errorf("label %s read again as %q, once as %q", k, v, once.Labels[k])
				}
			}
		})
	}
}
