package audit_test

import (
	"errors"
	"reflect"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
)

// TestReadLabelsUnseen: a CSV list whose label value or label name holds a
// character that a report, a terminal or a mail does not show as it is (an
// escape, a bidi control, a zero-width space, a no-break space, another
// control character) was read as it was: an owner "bob\u202e" was a group
// of its own beside "bob" that read the same, and "\x1b[31m" went into the
// reports and onto the terminal. Such a value makes its row an invalid line
// (refused, or recorded as invalid with --skip-invalid) whose problem names
// the column and the value escaped, and the value is not kept; such a
// column name refuses the whole list, as an account's name does
// (audit.ValidAccountName), naming the file, the line and the column. Text as people write it still reads: accents, CJK,
// Persian with its non-joiner, emoji joined into one, spaces inside a value,
// and a quoted cell of several lines (a CMDB's notes).
func TestReadLabelsUnseen(t *testing.T) {
	tests := []struct {
		name     string
		file     string
		input    string
		wantAlso string // said after the line's other problem
		wantErr  string // a column name: the list is refused so; a value: its row is invalid, file:line: problem
		want     []audit.Target
	}{
		{
			name: "a terminal escape", file: "fleet.csv",
			input:   "instance_id,owner\ni-0123abcd,alice\ni-11111111,\x1b[31mbob\n",
			wantErr: `fleet.csv:3: owner "\x1b[31mbob": contains a control character (U+001B)`,
		},
		{
			name: "a right-to-left override", file: "fleet.csv",
			input:   "instance_id,owner\ni-0123abcd,bob\u202e\n",
			wantErr: `fleet.csv:2: owner "bob\u202e": contains a format character (U+202E)`,
		},
		{
			name: "a bidi isolate", file: "fleet.csv",
			input:   "instance_id,env,owner\ni-0123abcd,prod,\u2066bob\u2069\n",
			wantErr: `fleet.csv:2: owner "\u2066bob\u2069": contains a format character (U+2066)`,
		},
		{
			name: "a zero-width space", file: "fleet.csv",
			input:   "instance_id,owner\ni-0123abcd,al\u200bice\n",
			wantErr: `fleet.csv:2: owner "al\u200bice": contains a format character (U+200B)`,
		},
		{
			name: "a joiner between Latin letters", file: "fleet.csv",
			input:   "instance_id,owner\ni-0123abcd,al\u200dice\n",
			wantErr: `fleet.csv:2: owner "al\u200dice": contains a format character (U+200D)`,
		},
		{
			name: "a no-break space inside", file: "fleet.csv",
			input:   "instance_id,team\ni-0123abcd,Team\u00a0A\n",
			wantErr: `fleet.csv:2: team "Team\u00a0A": contains a Unicode space (U+00A0)`,
		},
		{
			name: "a line separator inside, from a spreadsheet's cell", file: "fleet.csv",
			input:   "instance_id,owner_email\ni-0123abcd,erin@exa\u2028mple.com\n",
			wantErr: `fleet.csv:2: owner_email "erin@exa\u2028mple.com": contains a Unicode space (U+2028)`,
		},
		{
			name: "a tab inside", file: "fleet.csv",
			input:   "instance_id,team\ni-0123abcd,\"Team\tA\"\n",
			wantErr: `fleet.csv:2: team "Team\tA": contains a control character (U+0009)`,
		},
		{
			name: "a C1 control", file: "fleet.csv",
			input:   "instance_id,team\ni-0123abcd,Team\u0085A\n",
			wantErr: `fleet.csv:2: team "Team\u0085A": contains a control character (U+0085)`,
		},
		{
			name: "a carriage return alone in a quoted cell", file: "fleet.csv",
			input:   "instance_id,owner\ni-0123abcd,\"bob\rmallory\"\n",
			wantErr: `fleet.csv:2: owner "bob\rmallory": contains a control character (U+000D)`,
		},
		{
			name: "on a later line of a quoted cell, named by the line its row starts on", file: "fleet.csv",
			input:   "instance_id,notes\ni-0123abcd,\"first\nsecond\x1b[2J\"\n",
			wantErr: `fleet.csv:2: notes "first\nsecond\x1b[2J": contains a control character (U+001B)`,
		},
		{
			name: "a label of a row that is invalid", file: "fleet.csv",
			input:    "instance_id,owner\ni-0123abcd,alice\ni-12345,\x1b]0;pwned\x07\n",
			wantErr:  `fleet.csv:3: 5 hex digits (want i- followed by 8 or 17 hex digits)`,
			wantAlso: `; owner "\x1b]0;pwned\a": contains a control character (U+001B)`,
		},
		{
			name: "cut to 60 characters", file: "fleet.csv",
			input:   "instance_id,owner\ni-0123abcd,\x1b" + strings.Repeat("x", 100) + "\n",
			wantErr: `fleet.csv:2: owner "\x1b` + strings.Repeat("x", 58) + `…": contains a control character (U+001B)`,
		},
		{
			name: "a column name with a right-to-left override", file: "fleet.csv",
			input:   "# Inventory\ninstance_id,own\u202eer\ni-0123abcd,alice\n",
			wantErr: `fleet.csv:2: column 2 "own\u202eer": contains a format character (U+202E)`,
		},
		{
			name: "a column name with an escape", file: "fleet.csv",
			input:   "instance_id,region,\x1b[8mowner\ni-0123abcd,us-east-1,alice\n",
			wantErr: `fleet.csv:1: column 3 "\x1b[8mowner": contains a control character (U+001B)`,
		},
		{
			name: "standard input", file: "-",
			input:   "instance_id,owner\ni-0123abcd,bob\u202e\n",
			wantErr: `stdin:2: owner "bob\u202e": contains a format character (U+202E)`,
		},
		{
			name: "text as people write it", file: "fleet.csv",
			input: "instance_id,Eigentümer,チーム,تیم,notes\n" +
				"i-0123abcd,Müller,山田 太郎,تیم‌فروش,\"Prod 👨‍💻\nsecond line\"\n" +
				"i-11111111, Ørsted & Søn ,café,👩🏽‍🔬,🏳️‍🌈 team\n",
			want: []audit.Target{
				{InstanceID: "i-0123abcd", Source: "fleet.csv:2", Labels: map[string]string{
					"Eigentümer": "Müller", "チーム": "山田 太郎", "تیم": "تیم‌فروش", "notes": "Prod 👨‍💻\nsecond line"}},
				{InstanceID: "i-11111111", Source: "fleet.csv:4", Labels: map[string]string{
					"Eigentümer": "Ørsted & Søn", "チーム": "café", "تیم": "👩🏽‍🔬", "notes": "🏳️‍🌈 team"}},
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			err := f.Read(strings.NewReader(tt.input), tt.file)
			if tt.wantErr != "" {
				// file:line: what
				at := strings.Index(tt.wantErr, ": ")
				source, what := tt.wantErr[:at], tt.wantErr[at+2:]
				shown := err
				if !strings.HasPrefix(what, "column ") {
					// A value: its row is an invalid line, the value not kept.
					if err != nil {
						t.Fatalf("Read: %v, want the row an invalid line", err)
					}
					var bad *audit.Target
					for i := range f.Invalid {
						if f.Invalid[i].Source == source {
							bad = &f.Invalid[i]
						}
					}
					if bad == nil || !strings.HasPrefix(bad.Problem, what) || !strings.Contains(bad.Problem, tt.wantAlso) {
						t.Fatalf("invalid lines %+v, want %s: %q", f.Invalid, source, what)
					}
					for k, v := range bad.Labels {
						if keptLabelProblem(v) != "" {
							t.Errorf("the invalid line keeps its %s %q", k, v)
						}
					}
					shown = errors.New(bad.Problem)
				} else {
					var re *audit.ReadError
					if !errors.As(err, &re) || !strings.HasPrefix(err.Error(), tt.wantErr) {
						t.Fatalf("Read: %v\nwant the *audit.ReadError %q", err, tt.wantErr)
					}
					if f.Len()+len(f.Invalid)+len(f.LabelKeys) != 0 {
						t.Errorf("a refused list left %d targets, %d invalid lines and labels %q", f.Len(), len(f.Invalid), f.LabelKeys)
					}
				}
				if strings.ContainsAny(shown.Error(), "\x1b\r\t\u202e\u2066\u200b\u200d\u00a0\u0085\u2028") {
					t.Errorf("the error holds the character it refuses, unescaped: %q", shown)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := f.Targets(); !reflect.DeepEqual(got, tt.want) {
				t.Errorf("targets:\n got %+v\nwant %+v", got, tt.want)
			}
		})
	}
}

// keptLabelProblem is what a kept label value of a list must pass: every
// line of it ValidLabel's.
func keptLabelProblem(v string) string {
	for line := range strings.SplitSeq(v, "\n") {
		if p := audit.ValidLabel(line); p != "" {
			return p
		}
	}
	return ""
}
