package audit_test

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"runtime"
	"runtime/metrics"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/iotest"
	"time"
	"unicode/utf8"

	"github.com/auditor-dev/auditor/audit"
)

func TestValidID(t *testing.T) {
	tests := []struct {
		name string
		id   string
		want string
	}{
		{"8 hex digits", "i-0123abcd", ""},
		{"17 hex digits", "i-0123456789abcdef0", ""},
		{"managed node", "mi-0123456789abcdef0", ""},
		{"empty", "", "empty"},
		{"i- alone", "i-", "nothing after i- (want i- followed by 8 or 17 hex digits)"},
		{"mi- alone", "mi-", "nothing after mi- (want mi- followed by 17 hex digits)"},
		{"too short", "i-12345", "5 hex digits (want i- followed by 8 or 17 hex digits)"},
		{"between 8 and 17", "i-0123456789ab", "12 hex digits (want i- followed by 8 or 17 hex digits)"},
		{"too long", "i-0123456789abcdef01", "18 hex digits (want i- followed by 8 or 17 hex digits)"},
		{"mi- with 8", "mi-0123abcd", "8 hex digits (want mi- followed by 17 hex digits)"},
		{"trailing garbage", "i-0123456789abcdef0x", `'x' is not a hex digit (want i- followed by 8 or 17 hex digits)`},
		{"suffix after a dash", "i-0123abcd-web", `'-' is not a hex digit (want i- followed by 8 or 17 hex digits)`},
		{"upper case", "i-0123ABCD", "upper-case letters: instance IDs are lower case"},
		{"upper-case prefix", "I-0123abcd", "upper-case letters: instance IDs are lower case"},
		{"upper-case mi", "MI-0123456789ABCDEF0", "upper-case letters: instance IDs are lower case"},
		{"upper case and too short", "i-0123ABC", "upper-case letters: instance IDs are lower case"},
		{"leading space (the caller trims)", " i-0123abcd", "contains a space"},
		{"trailing tab", "i-0123abcd\t", "contains a tab"},
		{"carriage return", "i-0123abcd\r", `contains a carriage return (\r): lines must end in \n or \r\n`},
		{"NUL", "i-0123abcd\x00", "contains a NUL byte (binary data?)"},
		{"escape", "i-0123\x1babcd", "contains a control character (U+001B)"},
		{"byte-order mark", "\ufeffi-0123abcd", "contains a byte-order mark (U+FEFF)"},
		{"no-break space", "i-0123abcd\u00a0", "contains a Unicode space (U+00A0)"},
		{"comma", "i-0123abcd,us-east-1", "contains a comma"},
		{"invalid UTF-8", "i-0123abc\xff", "not valid UTF-8 (binary data?)"},
		{"Arabic-Indic digits", "i-٠١٢٣٤٥٦٧", `contains a non-ASCII character '٠' (want i- or mi- and the digits 0-9 and letters a-f)`},
		{"full-width digits", "i-０１２３４５６７", `contains a non-ASCII character '０' (want i- or mi- and the digits 0-9 and letters a-f)`},
		{"zero-width space", "i-0123abcd\u200b", `contains a non-ASCII character '\u200b' (want i- or mi- and the digits 0-9 and letters a-f)`},
		{"AMI", "ami-0123456789abcdef0", "ami- is not an instance ID prefix (want i- followed by 8 or 17 hex digits, or mi- followed by 17)"},
		{"host name", "web-1.example.com", "not an instance ID (want i- followed by 8 or 17 hex digits, or mi- followed by 17)"},
		{"no dash", "i0123abcd", "not an instance ID (want i- followed by 8 or 17 hex digits, or mi- followed by 17)"},
		{"ARN", "arn:aws:ec2:us-east-1:123456789012:instance/i-0123abcd", "an ARN, not an instance ID (give only its ID, i-0123abcd)"},
		{"hybrid node's ARN", "arn:aws:ssm:us-east-1:123456789012:managed-instance/mi-0123456789abcdef0", "an ARN, not an instance ID (give only its ID, mi-0123456789abcdef0)"},
		{"ARN of no node", "arn:aws:ec2:us-east-1:123456789012:volume/vol-0123abcd", "an ARN, not an instance ID (give only the i-... or mi-... part)"},
		{"quoted", `"i-0123abcd"`, "not an instance ID (want i- followed by 8 or 17 hex digits, or mi- followed by 17)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := audit.ValidID(tt.id); got != tt.want {
				t.Errorf("ValidID(%q) = %q, want %q", tt.id, got, tt.want)
			}
		})
	}
}

func TestValidRegion(t *testing.T) {
	tests := []struct {
		region string
		want   string
	}{
		{"us-east-1", ""},
		{"us-gov-west-1", ""},
		{"cn-northwest-1", ""},
		{"us-isob-east-1", ""},
		{"eusc-de-east-1", ""},
		{"ap-southeast-5", ""},
		{"", "empty"},
		{"US-EAST-1", "upper-case letters: Regions are lower case"},
		{"us-east", "not an AWS Region (want one like us-east-1)"},
		{"us-east-1a", "not an AWS Region (want one like us-east-1)"},
		{"useast1", "not an AWS Region (want one like us-east-1)"},
		{"us-east-1\n", "not an AWS Region (want one like us-east-1)"},
	}
	for _, tt := range tests {
		t.Run(tt.region, func(t *testing.T) {
			if got := audit.ValidRegion(tt.region); got != tt.want {
				t.Errorf("ValidRegion(%q) = %q, want %q", tt.region, got, tt.want)
			}
		})
	}
}

func TestValidAccountID(t *testing.T) {
	tests := []struct {
		account string
		want    string
	}{
		{"123456789012", ""},
		{"000000000001", ""},
		{"", "empty"},
		{"12345678901", "11 digits, want 12 (did a spreadsheet drop leading zeros?)"},
		{"1234567890123", "13 digits, want 12"},
		{"1234-5678-9012", "want 12 digits without dashes"},
		{"1.23457E+11", "want 12 digits"},
		{"１２３４５６７８９０１２", "want 12 digits"},
	}
	for _, tt := range tests {
		t.Run(tt.account, func(t *testing.T) {
			if got := audit.ValidAccountID(tt.account); got != tt.want {
				t.Errorf("ValidAccountID(%q) = %q, want %q", tt.account, got, tt.want)
			}
		})
	}
}

// tgtFixture returns a file of testdata/targets.
func tgtFixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", "targets", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// tgtSources lists the targets as "SOURCE ID".
func tgtSources(ts []audit.Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.Source+" "+t.InstanceID)
	}
	return out
}

// tgtProblems lists the invalid targets as InputError prints them.
func tgtProblems(t *testing.T, f *audit.Fleet) []string {
	t.Helper()
	err := f.Err()
	if len(f.Invalid) == 0 {
		if err != nil {
			t.Errorf("Err() = %v with no invalid targets, want nil", err)
		}
		return nil
	}
	var ie *audit.InputError
	if !errors.As(err, &ie) {
		t.Fatalf("Err() = %#v, want an *audit.InputError", err)
	}
	return strings.Split(ie.Error(), "\n")
}

func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

func TestReadPlain(t *testing.T) {
	plain := tgtFixture(t, "plain.txt")
	want := []string{
		"plain.txt:3 i-0123456789abcdef0",
		"plain.txt:4 i-0123abcd",
		"plain.txt:5 i-fedcba9876543210f",
		"plain.txt:9 mi-0123456789abcdef0",
		"plain.txt:11 i-deadbeef",
	}
	tests := []struct {
		name  string
		input string
	}{
		{"as committed", plain},
		{"CRLF", crlf(plain)},
		{"BOM and CRLF", "\ufeff" + crlf(plain)},
		{"no newline at the end", strings.TrimSuffix(plain, "\n")},
		{"CRLF and no newline at the end", strings.TrimSuffix(crlf(plain), "\r\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			if err := f.Read(strings.NewReader(tt.input), "plain.txt"); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := tgtSources(f.Targets()); !slices.Equal(got, want) {
				t.Errorf("targets:\n got %q\nwant %q", got, want)
			}
			if got := tgtProblems(t, &f); got != nil {
				t.Errorf("problems: %q, want none", got)
			}
			if f.Duplicates != 1 {
				t.Errorf("Duplicates = %d, want 1", f.Duplicates)
			}
			for _, tg := range f.Targets() {
				if tg.Region != "" || tg.AccountID != "" || tg.Labels != nil || tg.Problem != "" {
					t.Errorf("plain-text target %+v has more than an ID and a source", tg)
				}
			}
		})
	}
}

func TestReadStdinName(t *testing.T) {
	for _, name := range []string{"-", ""} {
		var f audit.Fleet
		if err := f.Read(strings.NewReader("\ni-0123abcd\n"), name); err != nil {
			t.Fatal(err)
		}
		if got, want := tgtSources(f.Targets()), []string{"stdin:2 i-0123abcd"}; !slices.Equal(got, want) {
			t.Errorf("Read(..., %q): targets %q, want %q", name, got, want)
		}
	}
}

func TestReadCSV(t *testing.T) {
	text := tgtFixture(t, "fleet.csv")
	want := []audit.Target{
		{InstanceID: "i-0123456789abcdef0", Region: "us-east-1", AccountID: "123456789012", Source: "fleet.csv:3",
			Labels: map[string]string{"owner": "alice", "env": "prod", "notes": ""}},
		{InstanceID: "i-0123abcd", Region: "eu-west-1", Source: "fleet.csv:4",
			Labels: map[string]string{"owner": "bob", "env": "dev", "notes": "two\nlines"}},
		{InstanceID: "i-0123456789abcdef0", Region: "us-west-2", AccountID: "123456789012", Source: "fleet.csv:7",
			Labels: map[string]string{"owner": "carol", "env": "prod", "notes": "same ID other region"}},
		{InstanceID: "mi-0123456789abcdef0", Region: "us-gov-west-1", AccountID: "000000000001", Source: "fleet.csv:12",
			Labels: map[string]string{"owner": "Smith, Erin", "env": "staging", "notes": `says "hi"`}},
	}
	tests := []struct {
		name  string
		input string
	}{
		{"as committed", text},
		{"BOM and CRLF", "\ufeff" + crlf(text)},
		{"no newline at the end", strings.TrimSuffix(text, "\n")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			if err := f.Read(strings.NewReader(tt.input), "fleet.csv"); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if !reflect.DeepEqual(f.Targets(), want) {
				t.Errorf("targets:\n got %+v\nwant %+v", f.Targets(), want)
			}
			if got := tgtProblems(t, &f); got != nil {
				t.Errorf("problems: %q, want none", got)
			}
			if f.Duplicates != 1 {
				t.Errorf("Duplicates = %d, want 1", f.Duplicates)
			}
			if got, want := f.LabelKeys, []string{"owner", "env", "notes"}; !slices.Equal(got, want) {
				t.Errorf("LabelKeys = %q, want %q", got, want)
			}
		})
	}
}

func TestReadCSVHeaderNames(t *testing.T) {
	tests := []struct {
		header string
		want   audit.Target
	}{
		{"instance_id", audit.Target{InstanceID: "i-0123abcd", Source: "h.csv:2"}},
		{"InstanceId", audit.Target{InstanceID: "i-0123abcd", Source: "h.csv:2"}},
		{" Instance ID ", audit.Target{InstanceID: "i-0123abcd", Source: "h.csv:2"}},
		{"instance-id,Region", audit.Target{InstanceID: "i-0123abcd", Region: "us-east-1", Source: "h.csv:2"}},
		{"INSTANCE_ID,region,AccountId", audit.Target{InstanceID: "i-0123abcd", Region: "us-east-1", AccountID: "123456789012", Source: "h.csv:2"}},
		{"instance_id,region,Account ID", audit.Target{InstanceID: "i-0123abcd", Region: "us-east-1", AccountID: "123456789012", Source: "h.csv:2"}},
		// A column with no name is dropped, not made a label.
		{"instance_id,,", audit.Target{InstanceID: "i-0123abcd", Source: "h.csv:2"}},
		// As inventories and exports spell them: a label instead, the
		// instances were asked of the run's region and account, and found
		// not managed.
		{"instance_id,AWS Region,AWS Account ID", audit.Target{InstanceID: "i-0123abcd", Region: "us-east-1", AccountID: "123456789012", Source: "h.csv:2"}},
		{"instance_id,aws_region,Account Number", audit.Target{InstanceID: "i-0123abcd", Region: "us-east-1", AccountID: "123456789012", Source: "h.csv:2"}},
		{"instance_id,awsRegion,aws_account_number", audit.Target{InstanceID: "i-0123abcd", Region: "us-east-1", AccountID: "123456789012", Source: "h.csv:2"}},
		{"instance_id,AWS Region Code,AWS Account Number", audit.Target{InstanceID: "i-0123abcd", Region: "us-east-1", AccountID: "123456789012", Source: "h.csv:2"}},
		{"instance_id,Region Code,aws_account_id", audit.Target{InstanceID: "i-0123abcd", Region: "us-east-1", AccountID: "123456789012", Source: "h.csv:2"}},
	}
	for _, tt := range tests {
		t.Run(tt.header, func(t *testing.T) {
			n := strings.Count(tt.header, ",") + 1
			row := strings.Join([]string{"i-0123abcd", "us-east-1", "123456789012"}[:min(n, 3)], ",")
			row += strings.Repeat(",x", max(0, n-3))
			var f audit.Fleet
			if err := f.Read(strings.NewReader(tt.header+"\n"+row+"\n"), "h.csv"); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := tgtProblems(t, &f); got != nil {
				t.Fatalf("problems: %q", got)
			}
			if want := []audit.Target{tt.want}; !reflect.DeepEqual(f.Targets(), want) {
				t.Errorf("targets %+v, want %+v", f.Targets(), want)
			}
			if len(f.LabelKeys) != 0 {
				t.Errorf("LabelKeys = %q, want none", f.LabelKeys)
			}
		})
	}
}

// tgtManyIDs returns n distinct 8-digit instance IDs, one a line.
func tgtManyIDs(n int) string {
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, "i-%08x\n", i)
	}
	return b.String()
}

func TestReadProblems(t *testing.T) {
	// Lines of junk, even past the first 8 KiB, are bad lines; a NUL byte
	// anywhere refuses the list (TestReadMalformed).
	pad := tgtManyIDs(800)
	padLines := strings.Count(pad, "\n")
	tests := []struct {
		name    string
		file    string
		input   string
		want    []string
		targets int
	}{
		{
			name: "plain text", file: "bad.txt", input: tgtFixture(t, "bad.txt"), targets: 2,
			want: []string{
				`bad.txt:2: "i-12345": 5 hex digits (want i- followed by 8 or 17 hex digits)`,
				`bad.txt:3: "I-0123ABCD": upper-case letters: instance IDs are lower case`,
				`bad.txt:4: "i-0123456789abcdef0x": 'x' is not a hex digit (want i- followed by 8 or 17 hex digits)`,
				`bad.txt:5: "i-": nothing after i- (want i- followed by 8 or 17 hex digits)`,
				`bad.txt:6: "i-0123 abcd": contains a space`,
				`bad.txt:7: "i-0123456789abcdef0,us-east-1": contains a comma: a CSV list needs a header row with an instance_id column`,
				`bad.txt:8: "ami-0123456789abcdef0": ami- is not an instance ID prefix (want i- followed by 8 or 17 hex digits, or mi- followed by 17)`,
				`bad.txt:9: "web-1.example.com": not an instance ID (want i- followed by 8 or 17 hex digits, or mi- followed by 17)`,
				`bad.txt:10: "i-٠١٢٣٤٥٦٧": contains a non-ASCII character '٠' (want i- or mi- and the digits 0-9 and letters a-f)`,
			},
		},
		{
			name: "binary junk after 8 KiB", file: "junk.txt", targets: 800,
			input: pad + "\xff\xfe\xfd\n\x1b[31mi-0123abcd\n",
			want: []string{
				fmt.Sprintf(`junk.txt:%d: "\xff\xfe\xfd": not valid UTF-8 (binary data?)`, padLines+1),
				fmt.Sprintf(`junk.txt:%d: "\x1b[31mi-0123abcd": contains a control character (U+001B)`, padLines+2),
			},
		},
		{
			name: "CSV cells", file: "f.csv", targets: 1,
			input: "instance_id,region,account_id,owner\n" +
				"i-0123abcd,us-east-1,123456789012,ok\n" +
				"i-0123abcd,US-EAST-1,123456789012,x\n" +
				"i-0123abcd,us-east-1,12345678901,x\n" +
				",us-east-1,123456789012,x\n" +
				"i-0123abcd,us-east-1,123456789012\n" +
				"i-0123abcd,us-east-1,123456789012,x,y\n" +
				"i-12345,nowhere,1,x\n",
			want: []string{
				`f.csv:3: "i-0123abcd": region "US-EAST-1": upper-case letters: Regions are lower case`,
				`f.csv:4: "i-0123abcd": account_id "12345678901": 11 digits, want 12 (did a spreadsheet drop leading zeros?)`,
				`f.csv:5: no instance ID in the instance_id column`,
				`f.csv:6: "i-0123abcd": 3 fields, but the header has 4`,
				`f.csv:7: "i-0123abcd": 5 fields, but the header has 4`,
				`f.csv:8: "i-12345": 5 hex digits (want i- followed by 8 or 17 hex digits)`,
			},
		},
		{
			name: "CSV quotes", file: "q.csv", targets: 2,
			input: "# line numbers count this line\n" +
				"owner,instance_id\n" +
				"a\"b,i-0123abcd\n" +
				"\"multi\nline\",i-11111111\n" +
				"  \"spaces before a quote\", i-55555555\n" +
				"\"x\"y,i-22222222\n" +
				"\"never closed,i-33333333\n",
			want: []string{
				`q.csv:3: bare " in an unquoted field (quote the whole field and double the quote: "a""b") (at column 2)`,
				`q.csv:7: extra or missing " in a quoted field (at column 3)`,
				`q.csv:8: extra or missing " in a quoted field (at column 26)`,
			},
		},
		{
			name: "CSV with a short row first", file: "s.csv", targets: 0,
			input: "region,instance_id\nus-east-1\n",
			want:  []string{`s.csv:2: "us-east-1": 1 field, but the header has 2`},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			if err := f.Read(strings.NewReader(tt.input), tt.file); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := tgtProblems(t, &f); !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(tt.want, "\n     "))
			}
			if len(f.Targets()) != tt.targets {
				t.Errorf("%d targets, want %d: %q", len(f.Targets()), tt.targets, tgtSources(f.Targets()))
			}
			for _, p := range f.Invalid {
				if p.Source == "" || p.Problem == "" {
					t.Errorf("invalid target without Source or Problem: %+v", p)
				}
			}
		})
	}
}

// tgtCounter counts the bytes read through it.
type tgtCounter struct {
	r io.Reader
	n int64
}

func (c *tgtCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}

// tgtRepeat is an endless stream of one byte.
type tgtRepeat byte

func (r tgtRepeat) Read(p []byte) (int, error) {
	for i := range p {
		p[i] = byte(r)
	}
	return len(p), nil
}

func TestReadMalformed(t *testing.T) {
	errBoom := errors.New("boom")
	tests := []struct {
		name    string
		file    string
		input   func() io.Reader
		wantErr string // the whole list is refused
		want    []string
		targets int
		maxRead int64 // when set, Read must not consume more of the input
	}{
		{
			name: "binary file", file: "prog",
			input:   func() io.Reader { return strings.NewReader("\x7fELF\x02\x01\x01\x00\x00\x00\ni-0123abcd\n") },
			wantErr: `prog:1: "\x7fELF\x02\x01\x01\x00\x00\x00": NUL byte (a binary file? want a text list of instance IDs)`,
		},
		{
			name: "NUL byte on line 3", file: "ids.txt",
			input:   func() io.Reader { return strings.NewReader("i-0123abcd\ni-11111111\ni-2222\x002222\n") },
			wantErr: `ids.txt:3: "i-2222\x002222": NUL byte (a binary file? want a text list of instance IDs)`,
		},
		{
			// A NUL byte is refused past the first 8 KiB too: a label that
			// starts with one reads as a formula in a spreadsheet.
			name: "NUL byte in a CSV label after 8 KiB", file: "fleet.csv",
			input: func() io.Reader {
				return strings.NewReader("instance_id,owner\n" + strings.ReplaceAll(tgtManyIDs(800), "\n", ",team\n") +
					"i-0123abcd,\"\x00=HYPERLINK(\"\"http://evil.example\"\")\"\n")
			},
			wantErr: `fleet.csv:802: "i-0123abcd,\"\x00=HYPERLINK(\"\"http://evil.example\"\")\"": NUL byte (a binary file? want a text list of instance IDs)`,
		},
		{
			name: "NUL byte in a comment after 8 KiB", file: "ids.txt",
			input:   func() io.Reader { return strings.NewReader(tgtManyIDs(800) + "# \x00\n") },
			wantErr: `ids.txt:801: "# \x00": NUL byte (a binary file? want a text list of instance IDs)`,
		},
		{
			name: "NUL byte in a line longer than the read buffer", file: "ids.txt",
			input: func() io.Reader {
				return strings.NewReader(tgtManyIDs(800) + strings.Repeat("a", 100<<10) + "\x00\n")
			},
			wantErr: `ids.txt:801: "` + strings.Repeat("a", 59) + `…": NUL byte (a binary file? want a text list of instance IDs)`,
		},
		{
			name: "UTF-16", file: "ids.txt",
			input:   func() io.Reader { return strings.NewReader("\xff\xfei\x00-\x000\x00") },
			wantErr: "ids.txt:1: UTF-16 text: save the list as UTF-8",
		},
		{
			// Notepad's "UTF-16 LE" and some exports write no mark: the
			// NUL of each character was told as a binary file's.
			name: "UTF-16 LE without a byte-order mark", file: "ids.txt",
			input:   func() io.Reader { return strings.NewReader("i\x00-\x000\x00d\x000\x001\x00\r\x00\n\x00") },
			wantErr: "ids.txt:1: UTF-16 text: save the list as UTF-8",
		},
		{
			name: "UTF-16 BE without a byte-order mark", file: "ids.csv",
			input:   func() io.Reader { return strings.NewReader("\x00i\x00n\x00s\x00t\x00a\x00n\x00c\x00e") },
			wantErr: "ids.csv:1: UTF-16 text: save the list as UTF-8",
		},
		{
			name: "10 MB line", file: "big.txt",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader("i-0123abcd\n\n"), io.LimitReader(tgtRepeat('a'), 10<<20), strings.NewReader("\ni-11111111\n"))
			},
			wantErr: "big.txt:3: line longer than 1 MiB",
			maxRead: 1<<20 + 128<<10,
		},
		{
			name: "endless line", file: "big.txt",
			input:   func() io.Reader { return tgtRepeat('a') },
			wantErr: "big.txt:1: line longer than 1 MiB",
			maxRead: 1<<20 + 128<<10,
		},
		{
			name: "10 MB line in a CSV list", file: "big.csv",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader("instance_id,note\ni-0123abcd,\"x\n"), io.LimitReader(tgtRepeat('a'), 10<<20))
			},
			wantErr: "big.csv:3: line longer than 1 MiB",
			maxRead: 1<<20 + 128<<10,
		},
		{
			name: "a line of exactly 1 MiB is read", file: "edge.txt",
			input: func() io.Reader {
				return io.MultiReader(io.LimitReader(tgtRepeat('a'), 1<<20), strings.NewReader("\r\ni-0123abcd\n"))
			},
			want:    []string{`edge.txt:1: "` + strings.Repeat("a", 59) + `…": not an instance ID (want i- followed by 8 or 17 hex digits, or mi- followed by 17)`},
			targets: 1,
		},
		{
			name: "no instance_id column", file: "ids.csv",
			input:   func() io.Reader { return strings.NewReader("a,b,c\n1,2,3\n") },
			wantErr: "ids.csv:1: no instance_id column in the header (have: a, b, c)",
		},
		{
			name: "NUL byte in a CSV header", file: "ids.csv",
			input:   func() io.Reader { return strings.NewReader("\ufeff# hosts\n\nName , \"IP, v4\",\"\x00\"\n") },
			wantErr: `ids.csv:3: "Name , \"IP, v4\",\"\x00\"": NUL byte (a binary file? want a text list of instance IDs)`,
		},
		{
			name: "header names are quoted when odd", file: "ids.csv",
			input:   func() io.Reader { return strings.NewReader("\ufeff# hosts\n\nName , \"IP, v4\",\"\x1b\"\n") },
			wantErr: `ids.csv:3: no instance_id column in the header (have: Name, "IP, v4", "\x1b")`,
		},
		{
			name: "two columns of one name", file: "ids.csv",
			input:   func() io.Reader { return strings.NewReader("instance_id,owner,owner\n") },
			wantErr: `ids.csv:1: two columns named "owner" in the header (columns 2 and 3)`,
		},
		{
			name: "two instance ID columns", file: "ids.csv",
			input:   func() io.Reader { return strings.NewReader("InstanceId,x,instance_id\n") },
			wantErr: `ids.csv:1: two instance_id columns in the header (columns 1 and 3)`,
		},
		{
			name: "too many columns", file: "wide.csv",
			input:   func() io.Reader { return strings.NewReader("instance_id" + strings.Repeat(",", 1000) + "\n") },
			wantErr: `wide.csv:1: 1001 columns in the header, more than 1000`,
		},
		{
			name: "read error", file: "ids.txt",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader("i-0123abcd\ni-11111111\n"), iotest.ErrReader(errBoom))
			},
			wantErr: "ids.txt:3: reading: boom",
		},
		{
			name: "read error after 8 KiB", file: "ids.txt",
			input: func() io.Reader {
				return io.MultiReader(strings.NewReader(tgtManyIDs(1000)), iotest.ErrReader(errBoom))
			},
			wantErr: "ids.txt:1001: reading: boom",
		},
		{
			name: "ID with trailing garbage", file: "ids.txt",
			input:   func() io.Reader { return strings.NewReader("i-0123abcd\ni-0123456789abcdef0x\n") },
			want:    []string{`ids.txt:2: "i-0123456789abcdef0x": 'x' is not a hex digit (want i- followed by 8 or 17 hex digits)`},
			targets: 1,
		},
		{
			name: "Windows line ends", file: "ids.txt",
			input:   func() io.Reader { return strings.NewReader("i-0123abcd\r\ni-11111111\r\n\r\ni-2222\r\n") },
			want:    []string{`ids.txt:4: "i-2222": 4 hex digits (want i- followed by 8 or 17 hex digits)`},
			targets: 2,
		},
		{
			name: "old Mac line ends", file: "ids.txt",
			input:   func() io.Reader { return strings.NewReader("i-0123abcd\ri-11111111\r") },
			want:    []string{`ids.txt:1: "i-0123abcd\ri-11111111": contains a carriage return (\r): lines must end in \n or \r\n`},
			targets: 0,
		},
		{
			// Older Excel for Mac's "CSV": the header's last name was
			// told as a label holding a control character.
			name: "old Mac line ends in a CSV list", file: "excelmac.csv",
			input:   func() io.Reader { return strings.NewReader("instance_id,owner\ri-0123abcd,alice\r") },
			wantErr: `excelmac.csv:1: "instance_id,owner\ri-0123abcd,alice": contains a carriage return (\r): lines must end in \n or \r\n`,
		},
		{
			name: "old Mac line ends in a quoted CSV list", file: "excelmac.csv",
			input: func() io.Reader {
				return strings.NewReader("# export\n\"instance_id\",\"owner\"\r\"i-0123abcd\",\"alice\"\r")
			},
			wantErr: `excelmac.csv:2: "\"instance_id\",\"owner\"\r\"i-0123abcd\",\"alice\"": contains a carriage return (\r): lines must end in \n or \r\n`,
		},
		{
			// The comment of the first line ended at the first "\r" no
			// more than at its "\n": it swallowed the IDs after it, and one
			// instance of three was audited, with nothing said.
			name: "old Mac line ends and a trailing comment", file: "ids.txt",
			input: func() io.Reader {
				return strings.NewReader("i-0123456789abcdef0  # web\ri-99bb2fcf\ri-0123456789abcdef1\r")
			},
			want:    []string{`ids.txt:1: "i-0123456789abcdef0  # web\ri-99bb2fcf\ri-0123456789abcdef1": contains a carriage return (\r): lines must end in \n or \r\n`},
			targets: 0,
		},
		{
			name: "old Mac line ends after a comment line", file: "ids.txt",
			input:   func() io.Reader { return strings.NewReader("# web\ri-0123abcd\ri-11111111\r") },
			want:    []string{`ids.txt:1: "# web\ri-0123abcd\ri-11111111": contains a carriage return (\r): lines must end in \n or \r\n`},
			targets: 0,
		},
		{
			name: "old Mac line ends in a later comment", file: "ids.txt",
			input:   func() io.Reader { return strings.NewReader("i-0123abcd\n# web\ri-11111111\r") },
			want:    []string{`ids.txt:2: "# web\ri-11111111": contains a carriage return (\r): lines must end in \n or \r\n`},
			targets: 1,
		},
		{
			// Told a comment, the whole list was: "held no instance IDs".
			name: "old Mac line ends in a CSV list that opens with a comment", file: "excelmac.csv",
			input:   func() io.Reader { return strings.NewReader("# export\rinstance_id,owner\ri-0123abcd,alice\r") },
			wantErr: `excelmac.csv:1: "# export\rinstance_id,owner\ri-0123abcd,alice": contains a carriage return (\r): lines must end in \n or \r\n`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := &tgtCounter{r: tt.input()}
			var f audit.Fleet
			err := f.Read(in, tt.file)
			if tt.maxRead > 0 && in.n > tt.maxRead {
				t.Errorf("Read consumed %d bytes, want at most %d: a long line must not be buffered whole", in.n, tt.maxRead)
			}
			if tt.wantErr != "" {
				if err == nil || err.Error() != tt.wantErr {
					t.Fatalf("Read error %v, want %q", err, tt.wantErr)
				}
				var re *audit.ReadError
				if !errors.As(err, &re) || re.Path != tt.file || re.Line < 1 {
					t.Errorf("Read error %#v, want an *audit.ReadError naming %s and a line", err, tt.file)
				}
				if len(f.Targets())+len(f.Invalid)+f.Duplicates+len(f.LabelKeys) != 0 {
					t.Errorf("Read failed but changed the fleet: %+v", f)
				}
				if tt.name == "read error" && !errors.Is(err, errBoom) {
					t.Errorf("Read error %v does not wrap the reader's error", err)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := tgtProblems(t, &f); !slices.Equal(got, tt.want) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.want)
			}
			if len(f.Targets()) != tt.targets {
				t.Errorf("%d targets, want %d", len(f.Targets()), tt.targets)
			}
		})
	}
}

// TestReadNotUTF8: a list saved in another encoding than UTF-8 (Latin-1 or
// Windows-1252, as spreadsheets export CSV) is refused where its bytes would
// become a label's name or value. Replaced by U+FFFD, "M\xfcller" and
// "M\xf6ller" were one owner, and each was mailed the other's instances.
// Where the bytes cannot be mistaken for another value they are not a
// problem: a comment, a column without a name, and an instance ID (which is
// invalid anyway, and recorded by its line).
func TestReadNotUTF8(t *testing.T) {
	const reason = "not UTF-8 (a Latin-1 or Windows-1252 export?): save the list as UTF-8"
	tests := []struct {
		name     string
		file     string
		input    string
		wantErr  string // the whole list is refused
		want     []audit.Target
		problems []string
	}{
		{
			name: "two owners that differ only where they are not UTF-8", file: "fleet.csv",
			input:   "instance_id,owner,owner_email\ni-0123abcd,M\xfcller,mueller@example.com\ni-11111111,M\xf6ller,moeller@example.com\n",
			wantErr: `fleet.csv:2: owner "M\xfcller": ` + reason,
		},
		{
			name: "a column name", file: "fleet.csv",
			input:   "# Inventar\ninstance_id,Eigent\xfcmer\ni-0123abcd,x\n",
			wantErr: `fleet.csv:2: column 2 "Eigent\xfcmer": ` + reason,
		},
		{
			name: "a label of a row that is invalid", file: "fleet.csv",
			input:   "instance_id,owner\ni-0123abcd,alice\ni-12345,M\xfcller\n",
			wantErr: `fleet.csv:3: owner "M\xfcller": ` + reason,
		},
		{
			name: "on the line its row starts on", file: "fleet.csv",
			input:   "instance_id,notes,owner\ni-0123abcd,\"a\nb\",alice\ni-11111111,\"c\nd\",M\xfcller\n",
			wantErr: `fleet.csv:4: owner "M\xfcller": ` + reason,
		},
		{
			name: "UTF-8 after a byte-order mark", file: "fleet.csv",
			input: "\ufeffinstance_id,Eigentümer\ni-0123abcd,Müller\ni-11111111,Möller\n",
			want: []audit.Target{
				{InstanceID: "i-0123abcd", Source: "fleet.csv:2", Labels: map[string]string{"Eigentümer": "Müller"}},
				{InstanceID: "i-11111111", Source: "fleet.csv:3", Labels: map[string]string{"Eigentümer": "Möller"}},
			},
		},
		{
			name: "comments and a column without a name", file: "fleet.csv",
			input: "# Eigent\xfcmer: M\xfcller\ninstance_id,\ni-0123abcd,M\xfcller\n",
			want:  []audit.Target{{InstanceID: "i-0123abcd", Source: "fleet.csv:3"}},
		},
		{
			name: "comments in a plain list", file: "ids.txt",
			input: "# M\xfcller\ni-0123abcd  # M\xfcller\n",
			want:  []audit.Target{{InstanceID: "i-0123abcd", Source: "ids.txt:2"}},
		},
		{
			name: "instance IDs are invalid lines, each its own", file: "fleet.csv",
			input: "instance_id,owner\ni-0123abc\xfc,a\ni-0123abc\xf6,a\n",
			problems: []string{
				`fleet.csv:2: "i-0123abc\xfc": not valid UTF-8 (binary data?)`,
				`fleet.csv:3: "i-0123abc\xf6": not valid UTF-8 (binary data?)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			err := f.Read(strings.NewReader(tt.input), tt.file)
			if tt.wantErr != "" {
				var re *audit.ReadError
				if !errors.As(err, &re) || re.Path != tt.file || err.Error() != tt.wantErr {
					t.Fatalf("Read: %v, want the *audit.ReadError %q", err, tt.wantErr)
				}
				if f.Len()+len(f.Invalid)+len(f.LabelKeys) != 0 {
					t.Errorf("a refused list left %d targets, %d invalid lines and labels %q", f.Len(), len(f.Invalid), f.LabelKeys)
				}
				return
			}
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if got := f.Targets(); len(got)+len(tt.want) > 0 && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("targets:\n got %+v\nwant %+v", got, tt.want)
			}
			if got := tgtProblems(t, &f); !slices.Equal(got, tt.problems) {
				t.Errorf("problems:\n got %q\nwant %q", got, tt.problems)
			}
		})
	}
}

// TestReadCSVHashIsData: in a CSV list "#" is data. A row whose first cell
// starts with "#" (a Slack channel, say) is a target, not a comment that
// drops the instance without a word.
func TestReadCSVHashIsData(t *testing.T) {
	var f audit.Fleet
	in := "# comment lines may precede the header\nslack_channel,instance_id,owner\n#ops-alerts,i-0123abcd,alice\n# not a comment,i-11111111,bob\n"
	if err := f.Read(strings.NewReader(in), "owners.csv"); err != nil {
		t.Fatal(err)
	}
	want := []audit.Target{
		{InstanceID: "i-0123abcd", Source: "owners.csv:3", Labels: map[string]string{"slack_channel": "#ops-alerts", "owner": "alice"}},
		{InstanceID: "i-11111111", Source: "owners.csv:4", Labels: map[string]string{"slack_channel": "# not a comment", "owner": "bob"}},
	}
	if got := f.Targets(); !reflect.DeepEqual(got, want) || len(f.Invalid) != 0 {
		t.Errorf("targets %+v, invalid %+v; want %+v", got, f.Invalid, want)
	}
}

// TestReadUnbalancedQuote: a quote left open swallows every row after it
// into one field; the list is refused, naming the line the quote opened on
// and the lines it swallowed, instead of losing those rows as one invalid
// line.
func TestReadUnbalancedQuote(t *testing.T) {
	tests := []struct {
		name, input string
		line        int
		want        string
	}{
		{
			name:  "never closed",
			input: "instance_id,owner\ni-0123abcd,\"alice\ni-11111111,bob\ni-22222222,carol\n",
			line:  2, want: "runs over lines 2 to 4 without",
		},
		{
			name:  "closed too late, then junk",
			input: "owner,instance_id\n\"alice,i-0123abcd\ni-11111111,bob\"x,y\ni-22222222,carol\n",
			line:  2, want: "runs over lines 2 to 3 without",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			err := f.Read(strings.NewReader(tt.input), "q.csv")
			var re *audit.ReadError
			if !errors.As(err, &re) || re.Path != "q.csv" || re.Line != tt.line || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Read: %v, want a *ReadError at q.csv:%d saying %q", err, tt.line, tt.want)
			}
			if f.Len() != 0 || len(f.Invalid) != 0 {
				t.Errorf("a refused list left %d targets and %d invalid lines", f.Len(), len(f.Invalid))
			}
		})
	}
}

// TestApplyDefaultsCollapses: the same instance bare in a text list and
// with the default region in a CSV list is one target once the default is
// applied, not two (which could never all get a result).
func TestApplyDefaultsCollapses(t *testing.T) {
	var f audit.Fleet
	if err := f.Read(strings.NewReader("i-0123abcd\ni-11111111\n"), "ids.txt"); err != nil {
		t.Fatal(err)
	}
	if err := f.Read(strings.NewReader("instance_id,region,account_id,owner\ni-0123abcd,us-east-1,,alice\ni-11111111,eu-west-1,,bob\ni-22222222,us-east-1,123456789012,carol\n"), "fleet.csv"); err != nil {
		t.Fatal(err)
	}
	if f.Len() != 5 || f.Duplicates != 0 {
		t.Fatalf("before defaults: %d targets, %d duplicates; want 5 and 0", f.Len(), f.Duplicates)
	}
	f.ApplyDefaults("us-east-1", "123456789012")
	want := []string{
		"123456789012 us-east-1 i-0123abcd ids.txt:1",
		"123456789012 us-east-1 i-11111111 ids.txt:2",
		"123456789012 eu-west-1 i-11111111 fleet.csv:3",
		"123456789012 us-east-1 i-22222222 fleet.csv:4",
	}
	var got []string
	for x := range f.All() {
		got = append(got, x.AccountID+" "+x.Region+" "+x.InstanceID+" "+x.Source)
	}
	if !slices.Equal(got, want) || f.Duplicates != 1 {
		t.Errorf("after defaults: %q with %d duplicates, want %q with 1", got, f.Duplicates, want)
	}
	if !f.Has(audit.Key{AccountID: "123456789012", Region: "us-east-1", InstanceID: "i-0123abcd"}) ||
		f.Has(audit.Key{Region: "us-east-1", InstanceID: "i-0123abcd"}) {
		t.Error("Has does not follow the defaults")
	}
}

func TestReadErrorLeavesFleet(t *testing.T) {
	var f audit.Fleet
	f.AddID("--instance-id", "i-0123abcd", "", "")
	f.AddID("--instance-id", "i-33333333", "", "")
	f.AddID("--instance-id", "i-bad", "", "")
	if err := f.Read(strings.NewReader("instance_id,owner\ni-11111111,a\ni-0123abcd,b\n"), "a.csv"); err != nil {
		t.Fatal(err)
	}
	before := f
	beforeTargets := f.Targets()
	before.Invalid = slices.Clone(f.Invalid)
	before.LabelKeys = slices.Clone(f.LabelKeys)

	// The refused list repeats a labelled target and a bare one with
	// labels that they lack: neither gains them.
	bad := io.MultiReader(strings.NewReader("instance_id,env,x\ni-22222222,prod,\ni-11111111,dev,\ni-33333333,test,\nbad\n"), io.LimitReader(tgtRepeat('a'), 2<<20))
	if err := f.Read(bad, "b.csv"); err == nil {
		t.Fatal("Read of a list with a 2 MiB line succeeded, want an error")
	}
	if !reflect.DeepEqual(f.Targets(), beforeTargets) || !reflect.DeepEqual(f.Invalid, before.Invalid) ||
		f.Duplicates != before.Duplicates || !slices.Equal(f.LabelKeys, before.LabelKeys) {
		t.Errorf("after a failed Read the fleet is\n%+v\nwant it as it was:\n%+v", f, before)
	}
	// The IDs of the failed list were forgotten, not kept as seen.
	if err := f.Read(strings.NewReader("i-22222222\n"), "c.txt"); err != nil {
		t.Fatal(err)
	}
	if got, want := tgtSources(f.Targets()), []string{"--instance-id i-0123abcd", "--instance-id i-33333333", "a.csv:2 i-11111111", "c.txt:1 i-22222222"}; !slices.Equal(got, want) {
		t.Errorf("targets %q, want %q", got, want)
	}
}

func TestReadEmpty(t *testing.T) {
	tests := []struct {
		name  string
		input string
	}{
		{"nothing", ""},
		{"blank lines", "\n \n\t\r\n"},
		{"comments only", "# no instances yet\n   # none\n"},
		{"byte-order mark only", "\ufeff"},
		{"CSV header only", "instance_id,owner\r\n"},
		{"CSV with blank rows", "# x\ninstance_id,owner\n,\n  ,  \n\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			if err := f.Read(strings.NewReader(tt.input), "empty.txt"); err != nil {
				t.Fatalf("Read: %v", err)
			}
			if len(f.Targets()) != 0 || len(f.Invalid) != 0 || f.Duplicates != 0 {
				t.Errorf("fleet %+v, want no targets", f)
			}
			if err := f.Err(); err != nil {
				t.Errorf("Err() = %v, want nil", err)
			}
		})
	}
}

func TestFleetDuplicates(t *testing.T) {
	var f audit.Fleet
	f.AddID("--instance-id", " i-0123abcd ", "", "")
	f.AddID("--instance-id", "i-0123abcd", "us-east-1", "")
	f.AddID("--instance-id", "i-0123abcd", "us-east-1", "123456789012")
	f.AddID("--instance-id", "i-0123abcd", "", "") // duplicate
	lists := []struct{ name, text string }{
		{"one.csv", "instance_id,region,owner\ni-0123abcd,us-east-1,first\ni-11111111,,ann\ni-0123abcd,us-east-1,second\n"},
		{"two.csv", "instance_id,env,owner\ni-11111111,prod,bob\ni-22222222,dev,cat\n"},
		{"three.txt", "i-22222222\ni-0123abcd\ni-bad\ni-bad\n"},
	}
	for _, l := range lists {
		if err := f.Read(strings.NewReader(l.text), l.name); err != nil {
			t.Fatal(err)
		}
	}
	// The first occurrence keeps its source and its labels' values, and
	// gains the labels it lacks from the later ones.
	want := []audit.Target{
		{InstanceID: "i-0123abcd", Source: "--instance-id"},
		{InstanceID: "i-0123abcd", Region: "us-east-1", Source: "--instance-id", Labels: map[string]string{"owner": "first"}},
		{InstanceID: "i-0123abcd", Region: "us-east-1", AccountID: "123456789012", Source: "--instance-id"},
		{InstanceID: "i-11111111", Source: "one.csv:3", Labels: map[string]string{"owner": "ann", "env": "prod"}},
		{InstanceID: "i-22222222", Source: "two.csv:3", Labels: map[string]string{"env": "dev", "owner": "cat"}},
	}
	if !reflect.DeepEqual(f.Targets(), want) {
		t.Errorf("targets:\n got %+v\nwant %+v", f.Targets(), want)
	}
	// --instance-id once, one.csv:2 and :4, two.csv:2, three.txt:1 and :2.
	if f.Duplicates != 6 {
		t.Errorf("Duplicates = %d, want 6", f.Duplicates)
	}
	if got := len(f.Invalid); got != 2 {
		t.Errorf("%d invalid, want 2: bad lines are never collapsed", got)
	}
	if got, want := f.LabelKeys, []string{"owner", "env"}; !slices.Equal(got, want) {
		t.Errorf("LabelKeys = %q, want %q", got, want)
	}
}

// TestFleetDuplicateLabelsMerge: a later duplicate adds the labels that the
// first target lacks; where both have one, the first's value stays. The
// same ID bare in one.txt and with owner=alice in one.csv fell out of
// alice's --split-by group when one.txt came first, without a word, and
// stayed in it when one.csv did.
func TestFleetDuplicateLabelsMerge(t *testing.T) {
	type list struct{ name, text string }
	bare := list{"one.txt", "i-0123abcd\n"}
	alice := list{"one.csv", "instance_id,owner\ni-0123abcd,alice\n"}
	tests := []struct {
		name       string
		lists      []list
		region     string // ApplyDefaults's, when set
		wantSource string
		want       map[string]string
	}{
		{"bare first", []list{bare, alice}, "", "one.txt:1", map[string]string{"owner": "alice"}},
		{"labelled first", []list{alice, bare}, "", "one.csv:2", map[string]string{"owner": "alice"}},
		{"the first's value wins, the later's other labels join", []list{alice, {"two.csv", "instance_id,owner,env\ni-0123abcd,bob,prod\n"}}, "",
			"one.csv:2", map[string]string{"owner": "alice", "env": "prod"}},
		{"an empty value is a value", []list{{"two.csv", "instance_id,owner\ni-0123abcd,\n"}, alice}, "", "two.csv:2", map[string]string{"owner": ""}},
		{"in one list", []list{{"two.csv", "instance_id,owner,env\ni-0123abcd,alice,\ni-0123abcd,bob,prod\n"}}, "",
			"two.csv:2", map[string]string{"owner": "alice", "env": ""}},
		{"made one by the default region", []list{bare, {"three.csv", "instance_id,region,owner\ni-0123abcd,us-east-1,alice\n"}}, "us-east-1",
			"one.txt:1", map[string]string{"owner": "alice"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			for _, l := range tt.lists {
				if err := f.Read(strings.NewReader(l.text), l.name); err != nil {
					t.Fatal(err)
				}
			}
			if tt.region != "" {
				f.ApplyDefaults(tt.region, "")
			}
			got := f.Targets()
			if len(got) != 1 || f.Duplicates != 1 || got[0].Source != tt.wantSource || !maps.Equal(got[0].Labels, tt.want) {
				t.Fatalf("targets %+v with %d duplicates, want one from %s labelled %v", got, f.Duplicates, tt.wantSource, tt.want)
			}
		})
	}
}

func TestAddID(t *testing.T) {
	tests := []struct {
		name                string
		id, region, account string
		want                string // problem, "" for a target
	}{
		{"ID only", "i-0123abcd", "", "", ""},
		{"with region and account", "i-0123abcd", "eu-central-1", "123456789012", ""},
		{"spaces around", "\ti-0123abcd \n", "", "", ""},
		{"bad ID", "i-0123", "us-east-1", "", "4 hex digits (want i- followed by 8 or 17 hex digits)"},
		{"bad region", "i-0123abcd", "us-east-1a", "", `region "us-east-1a": not an AWS Region (want one like us-east-1)`},
		{"bad account", "i-0123abcd", "", "12345", `account_id "12345": 5 digits, want 12 (did a spreadsheet drop leading zeros?)`},
		{"empty", "  ", "", "", "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			f.AddID("--instance-id", tt.id, tt.region, tt.account)
			if tt.want == "" {
				want := []audit.Target{{InstanceID: strings.TrimSpace(tt.id), Region: tt.region, AccountID: tt.account, Source: "--instance-id"}}
				if !reflect.DeepEqual(f.Targets(), want) || len(f.Invalid) != 0 {
					t.Errorf("targets %+v, invalid %+v; want %+v", f.Targets(), f.Invalid, want)
				}
				return
			}
			if len(f.Targets()) != 0 || len(f.Invalid) != 1 {
				t.Fatalf("targets %+v, invalid %+v; want one invalid", f.Targets(), f.Invalid)
			}
			if got := f.Invalid[0]; got.Problem != tt.want || got.Source != "--instance-id" {
				t.Errorf("invalid %+v, want Problem %q and Source --instance-id", got, tt.want)
			}
		})
	}
}

func TestInputError(t *testing.T) {
	var b strings.Builder
	for i := range 120 {
		fmt.Fprintf(&b, "i-%d\n", i)
	}
	long := "i-" + strings.Repeat("\x01", 100)
	tests := []struct {
		name  string
		input string
		want  []string // the lines of Error(), "..." matching any number of lines
	}{
		{
			name:  "one",
			input: "i-0123abcd\ni-xyz\n",
			want: []string{
				`ids.txt:2: "i-xyz": 'x' is not a hex digit (want i- followed by 8 or 17 hex digits)`,
			},
		},
		{
			name:  "first 50 and a count",
			input: b.String(),
			want: []string{
				`ids.txt:1: "i-0": 1 hex digits (want i- followed by 8 or 17 hex digits)`,
				"...",
				`ids.txt:50: "i-49": 2 hex digits (want i- followed by 8 or 17 hex digits)`,
				"... and 70 more invalid lines",
			},
		},
		{
			name:  "51 is 50 and 1 more",
			input: b.String()[:strings.Index(b.String(), "i-51\n")],
			want: []string{
				`ids.txt:1: "i-0": 1 hex digits (want i- followed by 8 or 17 hex digits)`,
				"...",
				"... and 1 more invalid line",
			},
		},
		{
			name:  "long value cut and escaped",
			input: long + "\n",
			want: []string{
				`ids.txt:1: "i-` + strings.Repeat(`\x01`, 57) + `…": contains a control character (U+0001)`,
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var f audit.Fleet
			if err := f.Read(strings.NewReader(tt.input), "ids.txt"); err != nil {
				t.Fatal(err)
			}
			err := f.Err()
			var ie *audit.InputError
			if !errors.As(err, &ie) {
				t.Fatalf("Err() = %v, want an *audit.InputError", err)
			}
			if len(ie.Problems) != len(f.Invalid) {
				t.Errorf("%d problems, want %d", len(ie.Problems), len(f.Invalid))
			}
			got := strings.Split(err.Error(), "\n")
			if !tgtLinesMatch(got, tt.want) {
				t.Errorf("Error():\n%s\nwant lines:\n%s", err, strings.Join(tt.want, "\n"))
			}
			if strings.HasPrefix(tt.name, "first 50") && len(got) != 51 {
				t.Errorf("Error() has %d lines, want 50 problems and the count", len(got))
			}
		})
	}
}

// tgtLinesMatch matches got against want, where a want line "..." stands for
// any number of lines.
func tgtLinesMatch(got, want []string) bool {
	if len(want) == 0 {
		return len(got) == 0
	}
	if want[0] == "..." {
		for i := 0; i <= len(got); i++ {
			if tgtLinesMatch(got[i:], want[1:]) {
				return true
			}
		}
		return false
	}
	return len(got) > 0 && got[0] == want[0] && tgtLinesMatch(got[1:], want[1:])
}

// tgtRandomTargets returns n targets with distinct random 17-digit IDs,
// the same for the same seed.
func tgtRandomTargets(n int, seed uint64) []audit.Target {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	seen := map[string]bool{}
	var ts []audit.Target
	for len(ts) < n {
		id := fmt.Sprintf("i-0%016x", rng.Uint64())
		if seen[id] {
			continue
		}
		seen[id] = true
		ts = append(ts, audit.Target{InstanceID: id, Source: "gen:" + strconv.Itoa(len(ts)+1)})
	}
	return ts
}

// tgtShard returns part k of n of ts, through a Fleet: the targets that
// Fleet.Shard keeps, with the Sources of ts.
func tgtShard(ts []audit.Target, k, n int) []audit.Target {
	var f audit.Fleet
	source := map[audit.Key]string{}
	for _, x := range ts {
		f.AddID("--instance-id", x.InstanceID, x.Region, x.AccountID)
		source[x.Key()] = x.Source
	}
	f.Shard(k, n)
	got := f.Targets()
	for i := range got {
		got[i].Source = source[got[i].Key()]
	}
	return got
}

func TestShardPartition(t *testing.T) {
	ts := tgtRandomTargets(1000, 1)
	// The same instance in another Region is another target, in the same part.
	for _, x := range ts[:50] {
		ts = append(ts, audit.Target{InstanceID: x.InstanceID, Region: "eu-west-1", Source: "again"})
	}
	for _, n := range []int{1, 2, 3, 8, 17} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			part := map[audit.Key]int{}
			idPart := map[string]int{}
			for k := range n {
				got := tgtShard(ts, k, n)
				prev := -1
				for _, x := range got {
					if p, ok := part[x.Key()]; ok {
						t.Fatalf("%s in parts %d and %d", x.InstanceID, p, k)
					}
					part[x.Key()] = k
					if p, ok := idPart[x.InstanceID]; ok && p != k {
						t.Errorf("instance %s in parts %d and %d", x.InstanceID, p, k)
					}
					idPart[x.InstanceID] = k
					i := slices.IndexFunc(ts, func(y audit.Target) bool { return y.Key() == x.Key() })
					if i <= prev {
						t.Fatalf("part %d is out of input order at %s", k, x.InstanceID)
					}
					prev = i
				}
				if again := tgtShard(ts, k, n); !reflect.DeepEqual(again, got) {
					t.Errorf("part %d of %d differs between two calls", k, n)
				}
			}
			if len(part) != len(ts) {
				t.Errorf("the parts hold %d targets, want all %d", len(part), len(ts))
			}
			// The part does not depend on the input order.
			shuffled := slices.Clone(ts)
			rand.New(rand.NewPCG(7, 7)).Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
			for k := range n {
				for _, x := range tgtShard(shuffled, k, n) {
					if part[x.Key()] != k {
						t.Fatalf("%s is in part %d of the shuffled input, %d of the original", x.InstanceID, k, part[x.Key()])
					}
				}
			}
		})
	}
}

func TestShardEven(t *testing.T) {
	sequential := make([]audit.Target, 10000)
	for i := range sequential {
		sequential[i] = audit.Target{InstanceID: fmt.Sprintf("i-%017x", i)}
	}
	tests := []struct {
		name    string
		targets []audit.Target
		n       int
	}{
		{"random IDs in 8", tgtRandomTargets(10000, 42), 8},
		{"sequential IDs in 8", sequential, 8},
		{"random IDs in 3", tgtRandomTargets(10000, 43), 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mean := float64(len(tt.targets)) / float64(tt.n)
			for k := range tt.n {
				got := len(tgtShard(tt.targets, k, tt.n))
				if float64(got) < mean*0.85 || float64(got) > mean*1.15 {
					t.Errorf("part %d of %d has %d targets, want %.0f ±15%%", k, tt.n, got, mean)
				}
			}
		})
	}
}

// TestShardHash pins the documented hash, computed here with hash/fnv, so
// that shards of one fleet split by two versions of auditor still agree.
func TestShardHash(t *testing.T) {
	part := func(id string, n int) int {
		h := fnv.New64a()
		h.Write([]byte(id))
		x := h.Sum64()
		x ^= x >> 33
		x *= 0xff51afd7ed558ccd
		x ^= x >> 33
		x *= 0xc4ceb9fe1a85ec53
		x ^= x >> 33
		return int(x % uint64(n))
	}
	ts := tgtRandomTargets(200, 9)
	for _, n := range []int{2, 5, 8} {
		for k := range n {
			for _, x := range tgtShard(ts, k, n) {
				if want := part(x.InstanceID, n); want != k {
					t.Errorf("%s in part %d of %d, want %d", x.InstanceID, k, n, want)
				}
			}
		}
	}
}

// TestSiteInHash pins the part of a few account-regions (the hash of
// "ACCOUNT/REGION"), so that a fleet sharded by site in a schedule keeps
// each account-region in its shard from one version of auditor to the
// next: one that moved would be audited twice, or by no shard.
func TestSiteInHash(t *testing.T) {
	tests := []struct {
		account, region string
		n, want         int
	}{
		{"111111111111", "us-east-1", 7, 2},
		{"111111111111", "eu-west-1", 7, 6},
		{"222222222222", "us-east-1", 7, 3},
		{"123456789012", "ap-southeast-2", 3, 2},
		{"111111111111", "us-east-1", 3, 2},
		{"", "us-east-1", 7, 1},
	}
	for _, tt := range tests {
		for k := range tt.n {
			if got := audit.SiteIn(tt.account, tt.region, k, tt.n); got != (k == tt.want) {
				t.Errorf("SiteIn(%q, %q, %d, %d) = %v, want part %d", tt.account, tt.region, k, tt.n, got, tt.want)
			}
		}
	}
}

func TestShardPanics(t *testing.T) {
	for _, kn := range [][2]int{{0, 0}, {-1, 2}, {2, 2}, {0, -1}} {
		func() {
			defer func() {
				if recover() == nil {
					t.Errorf("Shard(_, %d, %d) did not panic", kn[0], kn[1])
				}
			}()
			var f audit.Fleet
			f.Shard(kn[0], kn[1])
		}()
	}
}

var tgtIDPattern = regexp.MustCompile(`^(i-([0-9a-f]{8}|[0-9a-f]{17})|mi-[0-9a-f]{17})$`)

var tgtLine = regexp.MustCompile(`^(.*):([1-9][0-9]*)$`)

// tgtLineOf returns the line number of a FILE:LINE source of file name.
func tgtLineOf(t *testing.T, source, name string) int {
	t.Helper()
	m := tgtLine.FindStringSubmatch(source)
	if m == nil || m[1] != name {
		t.Fatalf("source %q is not %s:LINE", source, name)
	}
	n, _ := strconv.Atoi(m[2])
	return n
}

// tgtSummary is what a Read makes of a list, Sources aside.
func tgtSummary(f *audit.Fleet) string {
	var b strings.Builder
	for _, x := range f.Targets() {
		fmt.Fprintf(&b, "%q %q %q %q\n", x.InstanceID, x.Region, x.AccountID, x.Labels)
	}
	fmt.Fprintf(&b, "invalid %d duplicates %d labels %q", len(f.Invalid), f.Duplicates, f.LabelKeys)
	return b.String()
}

// tgtSafe reports whether a message prints safely: valid UTF-8 without
// control characters other than line ends.
func tgtSafe(msg string) bool {
	return utf8.ValidString(msg) && !strings.ContainsFunc(msg, func(r rune) bool {
		return r < ' ' && r != '\n' || r >= 0x7f && r < 0xa0
	})
}

func FuzzTargets(f *testing.F) {
	for _, name := range []string{"plain.txt", "fleet.csv", "bad.txt"} {
		b, err := os.ReadFile(filepath.Join("testdata", "targets", name))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"\ufeffi-0123abcd\r\n",
		"instance_id\ni-0123abcd\n",
		"a,b,c\n",
		"i-0123abcd,x\n",
		"instance_id,region,account_id,o\ni-0123abcd,us-east-1,123456789012,\"a\nb\"\n\"x\n",
		"\x00\xff\xfe",
		"#\n  # x\ni-0123abcd # c\n",
		"instance_id,owner,owner\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, in []byte) {
		// ValidID agrees with the pattern the SSM API documents, and its
		// reasons print safely.
		for _, line := range strings.Split(string(in), "\n") {
			p := audit.ValidID(line)
			if (p == "") != tgtIDPattern.MatchString(line) || !tgtSafe(p) || strings.Contains(p, "\n") {
				t.Fatalf("ValidID(%q) = %q", line, p)
			}
		}

		var fl audit.Fleet
		err := fl.Read(bytes.NewReader(in), "in")
		lines := bytes.Count(in, []byte("\n")) + 1

		// Reading one byte at a time gives the same answer.
		var one audit.Fleet
		err1 := one.Read(iotest.OneByteReader(bytes.NewReader(in)), "in")
		if fmt.Sprint(err) != fmt.Sprint(err1) || !reflect.DeepEqual(fl, one) {
			t.Fatalf("one byte at a time, Read gives\n%v %+v\nnot\n%v %+v", err1, one, err, fl)
		}
		if err != nil {
			if !tgtSafe(err.Error()) || strings.Contains(err.Error(), "\n") {
				t.Fatalf("error prints unsafe text: %q", err)
			}
			var re *audit.ReadError
			if !errors.As(err, &re) || re.Path != "in" || re.Line < 1 || re.Line > lines {
				t.Fatalf("error %#v does not name the file and a line of it", err)
			}
			if len(fl.Targets())+len(fl.Invalid)+fl.Duplicates+len(fl.LabelKeys) != 0 {
				t.Fatalf("Read failed with %v but left %+v", err, fl)
			}
			return
		}
		if len(fl.Targets())+len(fl.Invalid)+fl.Duplicates > lines {
			t.Fatalf("%d targets, %d invalid and %d duplicates from %d lines", len(fl.Targets()), len(fl.Invalid), fl.Duplicates, lines)
		}
		seen := map[audit.Key]bool{}
		last := 0
		for _, x := range fl.Targets() {
			if p := audit.ValidID(x.InstanceID); p != "" || x.Problem != "" {
				t.Fatalf("target %+v is not valid: %s", x, p)
			}
			if x.Region != "" && audit.ValidRegion(x.Region) != "" || x.AccountID != "" && audit.ValidAccountID(x.AccountID) != "" {
				t.Fatalf("target %+v has a bad region or account", x)
			}
			if seen[x.Key()] {
				t.Fatalf("target %+v twice", x)
			}
			seen[x.Key()] = true
			n := tgtLineOf(t, x.Source, "in")
			if n <= last || n > lines {
				t.Fatalf("target %+v after line %d, of %d lines", x, last, lines)
			}
			last = n
			for k, v := range x.Labels {
				if !slices.Contains(fl.LabelKeys, k) || !utf8.ValidString(v) || audit.ValidLabel(k) != "" {
					t.Fatalf("target %+v has label %q=%q", x, k, v)
				}
				for line := range strings.SplitSeq(v, "\n") {
					if p := audit.ValidLabel(line); p != "" {
						t.Fatalf("target %+v has label %q=%q: %s", x, k, v, p)
					}
				}
			}
		}
		last = 0
		for _, x := range fl.Invalid {
			if x.Problem == "" || len(x.InstanceID) > 256 {
				t.Fatalf("invalid target %+v", x)
			}
			n := tgtLineOf(t, x.Source, "in")
			if n <= last || n > lines {
				t.Fatalf("invalid target %+v after line %d, of %d lines", x, last, lines)
			}
			last = n
		}
		if msg := fmt.Sprint(fl.Err()); !tgtSafe(msg) {
			t.Fatalf("Err() prints unsafe text: %q", msg)
		}
		if (len(fl.Invalid) == 0) != (fl.Err() == nil) {
			t.Fatalf("Err() = %v with %d invalid", fl.Err(), len(fl.Invalid))
		}

		// The targets written back as a CSV list read as the same targets.
		var out bytes.Buffer
		w := csv.NewWriter(&out)
		head := append([]string{"instance_id", "region", "account_id"}, fl.LabelKeys...)
		w.Write(head)
		for _, x := range fl.Targets() {
			row := []string{x.InstanceID, x.Region, x.AccountID}
			for _, k := range fl.LabelKeys {
				row = append(row, x.Labels[k])
			}
			w.Write(row)
		}
		w.Flush()
		var back audit.Fleet
		if err := back.Read(&out, "back.csv"); err != nil {
			t.Fatalf("reading the targets back: %v", err)
		}
		if len(back.Invalid) != 0 || len(back.Targets()) != len(fl.Targets()) {
			t.Fatalf("read back %d targets, %d invalid (%v), want %d", len(back.Targets()), len(back.Invalid), back.Err(), len(fl.Targets()))
		}
		for i, x := range back.Targets() {
			y := fl.Targets()[i]
			if x.Key() != y.Key() {
				t.Fatalf("read back %+v, want %+v", x, y)
			}
			for _, k := range fl.LabelKeys {
				if x.Labels[k] != y.Labels[k] {
					t.Fatalf("read back label %q=%q, want %q", k, x.Labels[k], y.Labels[k])
				}
			}
		}

		// CRLF line ends change nothing but the bytes.
		if bytes.ContainsAny(in, "\r\x00") || len(in) > 1<<19 {
			return
		}
		var win audit.Fleet
		errWin := win.Read(bytes.NewReader(bytes.ReplaceAll(in, []byte("\n"), []byte("\r\n"))), "in")
		if fmt.Sprint(errWin) != fmt.Sprint(err) || tgtSummary(&win) != tgtSummary(&fl) {
			t.Fatalf("with CRLF line ends Read gives\n%v\n%s\nnot\n%v\n%s", errWin, tgtSummary(&win), err, tgtSummary(&fl))
		}
	})
}

func BenchmarkFleetRead(b *testing.B) {
	var plain, csvList strings.Builder
	csvList.WriteString("instance_id,region,account_id,owner,env\n")
	for i := range 100000 {
		fmt.Fprintf(&plain, "i-0%016x\n", i)
		fmt.Fprintf(&csvList, "i-0%016x,us-east-1,123456789012,team-%d,prod\n", i, i%10)
	}
	for _, bb := range []struct{ name, text string }{{"plain", plain.String()}, {"csv", csvList.String()}} {
		b.Run(bb.name, func(b *testing.B) {
			b.SetBytes(int64(len(bb.text)))
			for b.Loop() {
				var f audit.Fleet
				if err := f.Read(strings.NewReader(bb.text), "ids"); err != nil || len(f.Targets()) != 100000 {
					b.Fatalf("Read: %v, %d targets", err, len(f.Targets()))
				}
			}
		})
	}
}

// BenchmarkFleetDuplicateLabels: what merging a duplicate's labels costs,
// beside the same lists read with nothing to merge, in the same run.
//
// txt_then_csv reads big.txt (1,000,000 IDs) then big.csv (the same IDs
// with owner, owner_email and env), so that every row of big.csv brings its
// labels to a bare target; its baseline reads big.csv then big.txt, which
// ends with the same targets and labels and merges nothing.
// one_duplicate reads big.txt then a CSV of one of its IDs with an owner;
// its baseline reads big.txt then a CSV of an ID it lacks.
//
// Each reports the time (ms) and the bytes allocated (alloc_MB) reading the
// two lists, then the same for the last list alone (last_ms,
// last_alloc_MB), the heap in use at its highest above where it started
// (peak_MB), and the fleet's live heap once read (live_MB); base_ the same
// for the baseline, and x_base the ratios to the baseline's.
//
//	go test ./audit -run '^$' -bench FleetDuplicateLabels -benchtime 1x
func BenchmarkFleetDuplicateLabels(b *testing.B) {
	const n = 1_000_000
	dir := b.TempDir()
	write := func(name string, fill func(w io.Writer)) string {
		b.Helper()
		path := filepath.Join(dir, name)
		f, err := os.Create(path)
		if err != nil {
			b.Fatal(err)
		}
		w := bufio.NewWriter(f)
		fill(w)
		if err := w.Flush(); err != nil {
			b.Fatal(err)
		}
		if err := f.Close(); err != nil {
			b.Fatal(err)
		}
		return path
	}
	id := func(i int) string { return fmt.Sprintf("i-%017x", i*7919) }
	txt := write("big.txt", func(w io.Writer) {
		for i := range n {
			fmt.Fprintln(w, id(i))
		}
	})
	csvList := write("big.csv", func(w io.Writer) {
		fmt.Fprintln(w, "instance_id,owner,owner_email,env")
		for i := range n {
			fmt.Fprintf(w, "%s,team-%d,team-%d@example.com,%s\n", id(i), i%50, i%50, []string{"prod", "dev", "test"}[i%3])
		}
	})
	one := write("one.csv", func(w io.Writer) { fmt.Fprintf(w, "instance_id,owner\n%s,alice\n", id(n/2)) })
	other := write("other.csv", func(w io.Writer) { fmt.Fprintf(w, "instance_id,owner\n%s,alice\n", id(n)) })

	tests := []struct {
		name                 string
		lists, base          []string
		targets, baseTargets int
		owners               int // targets with an owner, in both
	}{
		{"txt_then_csv", []string{txt, csvList}, []string{csvList, txt}, n, n, n},
		{"one_duplicate", []string{txt, one}, []string{txt, other}, n, n + 1, 1},
	}
	for _, tt := range tests {
		b.Run(tt.name, func(b *testing.B) {
			// The first reads of a process pay for the pages its heap grows
			// into: a read of the baseline, not measured, pays for both sides.
			readFleetCost(b, tt.base, tt.baseTargets, tt.owners)
			var got, base fleetCost
			for b.Loop() {
				got = readFleetCost(b, tt.lists, tt.targets, tt.owners)
				base = readFleetCost(b, tt.base, tt.baseTargets, tt.owners)
			}
			for _, m := range []struct {
				prefix string
				c      fleetCost
			}{{"", got}, {"base_", base}} {
				b.ReportMetric(m.c.ms, m.prefix+"ms")
				b.ReportMetric(m.c.allocMB, m.prefix+"alloc_MB")
				b.ReportMetric(m.c.lastMS, m.prefix+"last_ms")
				b.ReportMetric(m.c.lastAllocMB, m.prefix+"last_alloc_MB")
				b.ReportMetric(m.c.peakMB, m.prefix+"peak_MB")
				b.ReportMetric(m.c.liveMB, m.prefix+"live_MB")
			}
			b.ReportMetric(got.ms/base.ms, "x_base_ms")
			b.ReportMetric(got.allocMB/base.allocMB, "x_base_alloc")
			b.ReportMetric(got.peakMB/base.peakMB, "x_base_peak")
			b.ReportMetric(got.liveMB/base.liveMB, "x_base_live")
		})
	}
}

// fleetCost is what reading lists into a Fleet cost; see
// BenchmarkFleetDuplicateLabels.
type fleetCost struct{ ms, allocMB, lastMS, lastAllocMB, peakMB, liveMB float64 }

// readFleetCost reads lists, in order, into a new Fleet, and fails b unless
// it ends with targets targets of which owners have an owner label.
func readFleetCost(b *testing.B, lists []string, targets, owners int) fleetCost {
	b.Helper()
	inUse := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}, {Name: "/memory/classes/heap/unused:bytes"}}
	heapInUse := func() uint64 {
		metrics.Read(inUse)
		return inUse[0].Value.Uint64() + inUse[1].Value.Uint64()
	}
	runtime.GC()
	var before, last, after runtime.MemStats
	runtime.ReadMemStats(&before)
	start := heapInUse()
	// The peak is sampled, as a process watched from outside would be.
	done, peak := make(chan struct{}), make(chan uint64)
	go func() {
		var top uint64
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			top = max(top, heapInUse())
			select {
			case <-done:
				peak <- top
				return
			case <-tick.C:
			}
		}
	}()
	var c fleetCost
	var f audit.Fleet
	t0 := time.Now()
	for i, path := range lists {
		r, err := os.Open(path)
		if err != nil {
			b.Fatal(err)
		}
		var tLast time.Time
		if i == len(lists)-1 {
			runtime.ReadMemStats(&last)
			tLast = time.Now()
		}
		err = f.Read(r, filepath.Base(path))
		r.Close()
		if err != nil {
			b.Fatal(err)
		}
		if i == len(lists)-1 {
			c.lastMS = float64(time.Since(tLast).Microseconds()) / 1000
		}
	}
	c.ms = float64(time.Since(t0).Microseconds()) / 1000
	runtime.ReadMemStats(&after)
	c.allocMB = float64(after.TotalAlloc-before.TotalAlloc) / 1e6
	c.lastAllocMB = float64(after.TotalAlloc-last.TotalAlloc) / 1e6
	close(done)
	c.peakMB = float64(int64(max(<-peak, heapInUse()))-int64(start)) / 1e6
	runtime.GC()
	runtime.ReadMemStats(&after)
	c.liveMB = float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / 1e6

	got, labelled := 0, 0
	for t := range f.All() {
		got++
		if _, ok := t.Labels["owner"]; ok {
			labelled++
		}
	}
	if got != targets || labelled != owners || f.Len() != targets {
		b.Fatalf("read %d targets, %d with an owner; want %d and %d", got, labelled, targets, owners)
	}
	return c
}

// TestFleetCompact: a fleet holds a plain list in under 100 bytes an ID, so
// that ten million IDs fit in about a gigabyte (the list itself is 20 bytes
// a line).
func TestFleetCompact(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a list of a million IDs; skipped under -short")
	}
	const n = 1_000_000
	var list bytes.Buffer
	for i := range n {
		fmt.Fprintf(&list, "i-%017x\n", i*7919)
	}
	runtime.GC()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	var f audit.Fleet
	if err := f.Read(&list, "big.txt"); err != nil || f.Len() != n {
		t.Fatalf("Read: %v, %d targets", err, f.Len())
	}
	f.ApplyDefaults("us-east-1", "123456789012")
	runtime.GC()
	runtime.ReadMemStats(&after)
	perID := float64(after.HeapAlloc-before.HeapAlloc) / n
	t.Logf("%.1f bytes an ID", perID)
	if perID >= 100 {
		t.Errorf("the fleet holds %.1f bytes an ID, want under 100", perID)
	}
	runtime.KeepAlive(&f)
}

// TestFleetSetLabels: labels looked up later join a target's list columns,
// the list's value winning where both name one; a target the fleet does
// not hold is left alone.
func TestFleetSetLabels(t *testing.T) {
	var f audit.Fleet
	if err := f.Read(strings.NewReader("instance_id,owner\ni-0123456789abcdef0,alice\ni-0123456789abcdef1,bob\n"), "fleet.csv"); err != nil {
		t.Fatal(err)
	}
	k0 := audit.Key{InstanceID: "i-0123456789abcdef0"}
	f.SetLabels(k0, map[string]string{"tag:Team": "payments", "owner": "mallory"})
	f.SetLabels(audit.Key{InstanceID: "i-00000000000000bad"}, map[string]string{"tag:Team": "nobody"})
	got := map[string]map[string]string{}
	for _, b := range f.Batches() {
		for tg := range b.Targets {
			got[tg.InstanceID] = tg.Labels
		}
	}
	if l := got["i-0123456789abcdef0"]; len(l) != 2 || l["owner"] != "alice" || l["tag:Team"] != "payments" {
		t.Errorf("labels %v, want owner alice (the list's) and tag:Team payments", l)
	}
	if l := got["i-0123456789abcdef1"]; len(l) != 1 || l["owner"] != "bob" {
		t.Errorf("labels %v, want owner bob alone", l)
	}
	if len(got) != 2 || !slices.Equal(f.LabelKeys, []string{"owner", "tag:Team"}) {
		t.Errorf("%d targets, label keys %v; want 2 and [owner tag:Team]", len(got), f.LabelKeys)
	}
}

// TestFleetKeepThenFind: once Keep has dropped targets, those after them
// are still found by key, by SetInfo and SetLabels and by the duplicates of
// a later list, and the dropped ones are not.
func TestFleetKeepThenFind(t *testing.T) {
	var f audit.Fleet
	if err := f.Read(strings.NewReader("i-00000001\ni-00000002\ni-00000003\n"), "one.txt"); err != nil {
		t.Fatal(err)
	}
	f.Keep(func(t audit.Target) bool { return t.InstanceID != "i-00000001" })
	info := &audit.InstanceInfo{ComputerName: "three"}
	f.SetInfo(audit.Key{InstanceID: "i-00000003"}, info)
	f.SetLabels(audit.Key{InstanceID: "i-00000001"}, map[string]string{"tag:Team": "gone"})
	if err := f.Read(strings.NewReader("instance_id,owner\ni-00000002,bob\n"), "two.csv"); err != nil {
		t.Fatal(err)
	}
	got := f.Targets()
	if len(got) != 2 || f.Duplicates != 1 {
		t.Fatalf("targets %+v with %d duplicates, want i-00000002 and i-00000003 with 1", got, f.Duplicates)
	}
	if got[0].InstanceID != "i-00000002" || !maps.Equal(got[0].Labels, map[string]string{"owner": "bob"}) || got[0].Info != nil {
		t.Errorf("first target %+v, want i-00000002 owned by bob, without info", got[0])
	}
	if got[1].InstanceID != "i-00000003" || got[1].Labels != nil || got[1].Info != info {
		t.Errorf("second target %+v, want i-00000003 with its info, without labels", got[1])
	}
}

// TestFleetDrain: a run's batches hand each target its instance information
// (looked up for listed targets) once and the fleet lets go of it; Batches
// is otherwise unchanged.
func TestFleetDrain(t *testing.T) {
	var f audit.Fleet
	ids := []string{"i-0123456789abcdef0", "i-0123456789abcdef1", "mi-0123456789abcdef2"}
	for i, id := range ids {
		f.AddID("--instance-id", id, "eu-west-1", "111111111111")
		if i != 1 {
			f.SetInfo(audit.Key{AccountID: "111111111111", Region: "eu-west-1", InstanceID: id}, &audit.InstanceInfo{ComputerName: "node-" + id})
		}
	}
	infos := func(bs []audit.Batch) map[string]string {
		got := map[string]string{}
		for _, b := range bs {
			for tg := range b.Targets {
				got[tg.InstanceID] = "none"
				if tg.Info != nil {
					got[tg.InstanceID] = tg.Info.ComputerName
				}
			}
		}
		return got
	}
	want := map[string]string{ids[0]: "node-" + ids[0], ids[1]: "none", ids[2]: "node-" + ids[2]}
	if got := infos(f.Batches()); !reflect.DeepEqual(got, want) {
		t.Fatalf("Batches: %v, want %v", got, want)
	}
	if got := infos(f.Drain()); !reflect.DeepEqual(got, want) {
		t.Fatalf("Drain: %v, want %v", got, want)
	}
	after := infos(f.Batches())
	for _, id := range ids {
		if after[id] != "none" {
			t.Errorf("after Drain the fleet still holds %s's information (%s)", id, after[id])
		}
	}
	if f.Len() != len(ids) {
		t.Errorf("Drain changed the fleet: %d targets, want %d", f.Len(), len(ids))
	}
}

// terminalInput reads as a terminal does: its text, then one end of input
// (a Ctrl-D), after which a read waits for more typing; here it fails the
// test instead.
type terminalInput struct {
	t          *testing.T
	name, text string
	eof        bool
}

func (r *terminalInput) Read(p []byte) (int, error) {
	switch {
	case r.text != "":
		n := copy(p, r.text)
		r.text = r.text[n:]
		return n, nil
	case !r.eof:
		r.eof = true
		return 0, io.EOF
	}
	r.t.Errorf("read again after the end of input: a person at a terminal would have to press Ctrl-D twice (%s)", r.name)
	return 0, io.EOF
}

// TestReadShortListAtATerminal: a list of one short ID typed at a
// terminal, ended by one Ctrl-D, is read without a second: looking for
// UTF-16 in the first 16 bytes of 11 read again past the end of input.
func TestReadShortListAtATerminal(t *testing.T) {
	for _, text := range []string{"i-0123abcd\n", "i-0123abcd", "\ufeffi-0123abcd\n", "i-1\n"} {
		var f audit.Fleet
		err := f.Read(&terminalInput{t: t, name: fmt.Sprintf("%q", text), text: text}, "-")
		if text == "i-1\n" {
			if err != nil {
				t.Errorf("Read(%q): %v, want its line invalid", text, err)
			}
			continue
		}
		if got, want := tgtSources(f.Targets()), []string{"stdin:1 i-0123abcd"}; err != nil || !slices.Equal(got, want) {
			t.Errorf("Read(%q): targets %q, %v, want %q", text, got, err, want)
		}
	}
	br := bufio.NewReader(&terminalInput{t: t, name: "HeadUTF16", text: "i-0123abcd\n"})
	if utf16, err := audit.HeadUTF16(br); utf16 || err != nil {
		t.Errorf("HeadUTF16 = %v, %v, want false, nil", utf16, err)
	}
	if line, err := br.ReadString('\n'); line != "i-0123abcd\n" || err != nil {
		t.Errorf("after HeadUTF16, read %q, %v, want the line", line, err)
	}
}
