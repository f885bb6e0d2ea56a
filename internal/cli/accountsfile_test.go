package cli

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/awsconn"
)

// hostileAccounts are files of accounts that readAccounts refuses, with
// what its error must say. A name becomes the account_name label: one
// with a NUL was written raw into instances.csv (which, fed back as
// --instances, is refused for it), one with an escape sequence or a bidi
// override reads as another name, and "Staging" and "Staging\x00" looked
// alike in the reports but were two groups of --split-by account_name. A
// value of 50 KB was echoed whole, and a line of 10 MB refused without its
// number, as bufio.Scanner's "token too long".
var hostileAccounts = []struct {
	name, input string
	want        []string
}{
	{"NUL in a name", "111111111111,Prod\n890594667218,Staging\x00\n",
		[]string{`accounts.txt:2: name "Staging\x00"`, "NUL"}},
	{"escape sequence in a name", "890594667218,\x1b[31mStaging\x1b[0m\n",
		[]string{`accounts.txt:1: name "\x1b[31mStaging\x1b[0m"`, "control character (U+001B)"}},
	{"tab in a name", "890594667218,Prod\tEU\n",
		[]string{`accounts.txt:1: name "Prod\tEU"`, "control character (U+0009)"}},
	{"bidi override in a name", "# ours\n890594667218,Staging\u202egnitset\n",
		[]string{`accounts.txt:2: name "Staging\u202egnitset"`, "format character (U+202E)"}},
	{"zero-width space in a name", "890594667218,Sta\u200bging\n",
		[]string{`accounts.txt:1: name "Sta\u200bging"`, "format character (U+200B)"}},
	{"no-break space in a name", "890594667218,Prod\u00a0EU\n",
		[]string{`accounts.txt:1: name "Prod\u00a0EU"`, "Unicode space (U+00A0)"}},
	{"a long ID", "111111111111\n" + strings.Repeat("x", 50<<10) + ",Prod\n",
		[]string{`accounts.txt:2: "xxxxxxxx`, `…": want 12 digits`}},
	{"a long name with a control character", "890594667218," + strings.Repeat("é", 50<<10) + "\x1b\n",
		[]string{`accounts.txt:1: name "ééééé`, `…": contains a control character (U+001B)`}},
	{"a long name given twice", "890594667218,Prod\n890594667218," + strings.Repeat("P", 50<<10) + "\n",
		[]string{`accounts.txt:2: 890594667218: name "PPPPP`, `…", but line 1 names it "Prod"`}},
	{"a line of 10 MB", "111111111111\n" + strings.Repeat("1", 10<<20) + "\n222222222222\n",
		[]string{"accounts.txt:2: line longer than 1 MiB"}},
	// The limit is an instance list's: 1 MiB, the line end not counted.
	{"a line of 1 MiB and a byte", "111111111111\r\n" + strings.Repeat("1", 1<<20+1) + "\r\n",
		[]string{"accounts.txt:2: line longer than 1 MiB"}},
	{"a line of 1 MiB", "111111111111\r\n" + strings.Repeat("1", 1<<20) + "\r\n",
		[]string{`accounts.txt:2: "1111111`, `…": 1048576 digits, want 12`}},
}

// TestReadAccountsRefusesHostileText: readAccounts refuses each of
// hostileAccounts with a usage error (exit 2) naming the file and the line,
// the value escaped as Go quotes it and cut, as an instance list's, to 60
// characters.
func TestReadAccountsRefusesHostileText(t *testing.T) {
	for _, tt := range hostileAccounts {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAccounts(writeFile(t, "accounts.txt", tt.input))
			var ue *usageError
			if !errors.As(err, &ue) {
				t.Fatalf("readAccounts = %+v, %v; want a usage error (exit 2)", got, err)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error does not say %q:\n%.500q", w, msg)
				}
			}
			if strings.ContainsAny(msg, "\x00\x1b\t\u202e\u200b\u00a0") {
				t.Errorf("error holds a control or format character as it is: %q", msg)
			}
			if len(msg) > 1000 {
				t.Errorf("error of %d bytes, want the value cut", len(msg))
			}
		})
	}
}

// TestAccountsFileRefusedBeforeAWS: run with such a file of --accounts
// exits 2 before any call to AWS, naming the file and line with the value
// escaped, in a message of a few lines, and makes no output directory.
func TestAccountsFileRefusedBeforeAWS(t *testing.T) {
	_, srv, _ := serveOrg(t, 10)
	for _, tt := range hostileAccounts {
		t.Run(tt.name, func(t *testing.T) {
			srv.ResetStats()
			file := writeFile(t, "accounts.txt", tt.input)
			out := filepath.Join(t.TempDir(), "out")
			got := runCLI(t, "", "run", "--accounts", file, "--role-name", "AuditRole", "--regions", "us-east-1", "--discover",
				"--quiet", "--out", out)
			if got.code != int(exitUsage) {
				t.Fatalf("exit %d, want %d\n%.2000s", got.code, exitUsage, got.stderr)
			}
			for _, w := range append([]string{file}, tt.want...) {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %q:\n%.2000q", w, got.stderr)
				}
			}
			if strings.ContainsAny(got.stderr, "\x00\x1b\u202e\u200b\u00a0") {
				t.Errorf("stderr holds a control or format character as it is: %.2000q", got.stderr)
			}
			if len(got.stderr) > 2000 {
				t.Errorf("stderr of %d bytes, want the value cut", len(got.stderr))
			}
			if n := srv.Stats().Requests; n > 0 {
				t.Errorf("%d requests before the refusal", n)
			}
			if _, err := os.Lstat(out); err == nil {
				t.Errorf("%s was made for a refused command", out)
			}
		})
	}
}

// TestReadAccountsHeaderLine: a file whose first line is a header
// ("account_id,name", as a spreadsheet saves one) was refused at line 1,
// "account_id": want 12 digits. It is skipped when it is the first line
// that is not a comment; anywhere else it is refused as before.
func TestReadAccountsHeaderLine(t *testing.T) {
	for _, header := range []string{"account_id,name", "Account ID,Name", "AccountId", "id"} {
		path := filepath.Join(t.TempDir(), "accounts.txt")
		if err := os.WriteFile(path, []byte("# ours\n"+header+"\n111111111111,Prod\n222222222222\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := readAccounts(path)
		if err != nil || len(got) != 2 || got[0].ID != "111111111111" || got[0].Name != "Prod" {
			t.Errorf("header %q: readAccounts = %+v, %v; want its two accounts", header, got, err)
		}
	}
	path := filepath.Join(t.TempDir(), "accounts.txt")
	if err := os.WriteFile(path, []byte("111111111111\naccount_id,name\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readAccounts(path); err == nil || !strings.Contains(err.Error(), "accounts.txt:2:") {
		t.Errorf("a header line after the first account: %v, want it refused at line 2", err)
	}
}

// TestReadAccountsCSV: a file of accounts is read as CSV, as a spreadsheet
// saves it. Split at its first comma, a line 012345678901,"Acme, Inc" gave
// the name "Acme, Inc" with its quotes in every report, 222222222222,Prod,extra
// the name "Prod,extra", and a quoted header ("account_id","name") was
// refused as an account ID. A line of more than two fields, and a quote
// out of place, are refused naming the file and line.
func TestReadAccountsCSV(t *testing.T) {
	tests := []struct {
		name, input string
		want        []awsconn.Account
		wantErr     []string
	}{
		{
			name:  "a quoted name with a comma",
			input: "012345678901,\"Acme, Inc\"\n",
			want:  []awsconn.Account{{ID: "012345678901", Name: "Acme, Inc"}},
		},
		{
			name:  "doubled quotes in a quoted name",
			input: "012345678901,\"The \"\"Big\"\" One\"\n",
			want:  []awsconn.Account{{ID: "012345678901", Name: `The "Big" One`}},
		},
		{
			name:  "a quoted header and quoted IDs, CRLF and a byte-order mark",
			input: "\ufeff\"account_id\",\"name\"\r\n\"111111111111\",\"Prod\"\r\n\"222222222222\",\r\n",
			want:  []awsconn.Account{{ID: "111111111111", Name: "Prod"}, {ID: "222222222222"}},
		},
		{
			name:  "white space around the fields",
			input: " 111111111111 ,  \"Prod EU\"\n",
			want:  []awsconn.Account{{ID: "111111111111", Name: "Prod EU"}},
		},
		{
			name:    "a third field",
			input:   "111111111111,Prod\n222222222222,Prod,extra\n",
			wantErr: []string{`accounts.txt:2: "222222222222,Prod,extra": 3 fields`, "ACCOUNT_ID[,NAME]", "quote a name that holds a comma"},
		},
		{
			// A spreadsheet saves every row as wide as its widest.
			name:  "empty columns after the name",
			input: "account_id,name,,\n111111111111,Prod,,\n222222222222,, ,\n",
			want:  []awsconn.Account{{ID: "111111111111", Name: "Prod"}, {ID: "222222222222"}},
		},
		{
			name:    "a header of three columns",
			input:   "account_id,name,owner\n111111111111,Prod,ops\n",
			wantErr: []string{`accounts.txt:1: "account_id,name,owner": 3 fields`},
		},
		{
			// Names that files held before they were read as CSV, with
			// a quote out of place for CSV, keep reading as they did:
			// all after the first comma.
			name:  "a quote out of place",
			input: "111111111111,12\" rack\n222222222222,Bob's \"test\" acct\n333333333333,\"Prod\" east\n444444444444,\"Acme\n",
			want: []awsconn.Account{{ID: "111111111111", Name: `12" rack`}, {ID: "222222222222", Name: `Bob's "test" acct`},
				{ID: "333333333333", Name: `"Prod" east`}, {ID: "444444444444", Name: `"Acme`}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := readAccounts(writeFile(t, "accounts.txt", tt.input))
			if tt.wantErr != nil {
				var ue *usageError
				if !errors.As(err, &ue) {
					t.Fatalf("readAccounts = %+v, %v; want a usage error (exit 2)", got, err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error does not say %q:\n%s", w, err)
					}
				}
				return
			}
			if err != nil || !slices.Equal(got, tt.want) {
				t.Errorf("readAccounts = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}
