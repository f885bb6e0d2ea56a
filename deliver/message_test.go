package deliver_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/smtptest"
)

// parse parses raw with smtptest.Parse, failing the test if it cannot.
func parse(t *testing.T, raw []byte) *smtptest.Mail {
	t.Helper()
	m, err := smtptest.Parse(raw)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// crlf returns b with CRLF line ends made LF.
func crlf(b []byte) string { return strings.ReplaceAll(string(b), "\r\n", "\n") }

func writeFile(t *testing.T, dir, name string, size int) string {
	t.Helper()
	b := make([]byte, size)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, b, 0o666); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestBuild(t *testing.T) {
	dir := t.TempDir()
	xlsx := writeFile(t, dir, "report.xlsx", 40_000)
	csv := filepath.Join(dir, "error_codes.csv")
	if err := os.WriteFile(csv, []byte("code,count\nScriptFailed,3\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	m := deliver.Message{
		From:        "Auditor <auditor@example.com>",
		To:          []string{"ops@example.com", "Sec Team <sec@example.com>"},
		Subject:     "3 of 10 non-compliant — é",
		Text:        "3 of 10 non-compliant\n",
		HTML:        "<p>3 of 10 <b>non-compliant</b></p>",
		Attachments: []string{xlsx, csv},
	}
	raw, left, err := m.Build()
	if err != nil {
		t.Fatal(err)
	}
	if len(left) != 0 {
		t.Errorf("left out %q, want every attachment", left)
	}
	got := parse(t, raw)
	msg, containers, parts, subject := got, got.Containers, got.Parts, got.Subject
	for _, tt := range []struct{ header, got, want string }{
		{"Subject", subject, m.Subject},
		{"Auto-Submitted", msg.Header.Get("Auto-Submitted"), "auto-generated"},
		{"X-Auto-Response-Suppress", msg.Header.Get("X-Auto-Response-Suppress"), "All"},
		{"MIME-Version", msg.Header.Get("MIME-Version"), "1.0"},
	} {
		if tt.got != tt.want {
			t.Errorf("%s: %q, want %q", tt.header, tt.got, tt.want)
		}
	}
	if _, err := msg.Header.Date(); err != nil {
		t.Errorf("Date: %v", err)
	}
	if id := msg.Header.Get("Message-ID"); !strings.HasPrefix(id, "<") || !strings.Contains(id, "@") {
		t.Errorf("Message-ID %q", id)
	}
	to, err := msg.Header.AddressList("To")
	if err != nil || len(to) != 2 || to[1].Address != "sec@example.com" {
		t.Errorf("To: %v, %v", to, err)
	}
	if want := []string{"multipart/mixed", "multipart/alternative"}; !slices.Equal(containers, want) {
		t.Errorf("containers %q, want %q", containers, want)
	}
	var types []string
	for _, p := range parts {
		types = append(types, p.ContentType)
	}
	want := []string{"text/plain", "text/html", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "text/csv"}
	if !slices.Equal(types, want) {
		t.Fatalf("parts %q, want %q", types, want)
	}
	// Text parts travel with CRLF line ends.
	if crlf(parts[0].Body) != m.Text || string(parts[1].Body) != m.HTML {
		t.Errorf("bodies %q and %q, want %q and %q", parts[0].Body, parts[1].Body, m.Text, m.HTML)
	}
	for i, path := range []string{xlsx, csv} {
		p := parts[2+i]
		b, _ := os.ReadFile(path)
		if p.Disposition != "attachment" || p.Filename != filepath.Base(path) || !bytes.Equal(p.Body, b) {
			t.Errorf("attachment %d: %s %q, %d bytes; want attachment %q, %d bytes equal to the file",
				i, p.Disposition, p.Filename, len(p.Body), filepath.Base(path), len(b))
		}
	}
}

// TestBuildMaxSize checks that attachments are added in order while the
// message stays within MaxSize, and that those left out are named.
func TestBuildMaxSize(t *testing.T) {
	dir := t.TempDir()
	big := writeFile(t, dir, "report.xlsx", 300_000)
	small := writeFile(t, dir, "error_codes.csv", 2_000)
	huge := writeFile(t, dir, "associations.csv", 600_000)
	// 40,000 bytes in base64, less its line breaks and part headers.
	medium := writeFile(t, dir, "instances.csv", 30_000)
	tiny := writeFile(t, dir, "run.json", 10)
	base := deliver.Message{From: "a@example.com", To: []string{"b@example.com"}, Subject: "s", Text: "t", HTML: "<p>h</p>"}
	bare, _, err := base.Build()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		max      int64
		files    []string
		wantLeft []string
		wantErr  bool
	}{
		{"all fit", 2_000_000, []string{big, small, huge}, nil, false},
		{"the big one left, a later small one kept", int64(len(bare)) + 100_000, []string{big, small}, []string{big}, false},
		// The medium one passes the check of its size, not once encoded:
		// taken out again, it leaves room for the tiny one after it.
		{"one too big once encoded, a later tiny one kept", int64(len(bare)) + 40_600, []string{medium, tiny}, []string{medium}, false},
		{"none fit", int64(len(bare)) + 500, []string{big, small}, []string{big, small}, false},
		{"just the bodies fit", int64(len(bare)) + 50, nil, nil, false},
		{"not even the bodies", int64(len(bare)) - 1, nil, nil, true},
		{"default is 10 MB", 0, []string{huge, big, small}, nil, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := base
			m.MaxSize, m.Attachments = tt.max, tt.files
			raw, left, err := m.Build()
			if tt.wantErr {
				if err == nil {
					t.Fatalf("Build succeeded with %d bytes, want an error", len(raw))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			max := tt.max
			if max == 0 {
				max = deliver.DefaultMaxSize
			}
			if int64(len(raw)) > max {
				t.Errorf("message is %d bytes, over %d", len(raw), max)
			}
			if !slices.Equal(left, tt.wantLeft) {
				t.Errorf("left out %q, want %q", left, tt.wantLeft)
			}
			var got []string
			for _, p := range parse(t, raw).Attachments() {
				got = append(got, p.Filename)
			}
			var want []string
			for _, f := range tt.files {
				if !slices.Contains(tt.wantLeft, f) {
					want = append(want, filepath.Base(f))
				}
			}
			if !slices.Equal(got, want) {
				t.Errorf("attached %q, want %q", got, want)
			}
		})
	}
}

// TestBuildHostile checks that no text of a message can add a header.
func TestBuildHostile(t *testing.T) {
	m := deliver.Message{
		From:    "a@example.com",
		To:      []string{"b@example.com"},
		Subject: "Report\r\nBcc: evil@example.com\r\nX-Injected: 1\n\n<script>alert(1)</script>",
		Text:    "body\r\n.\r\nMAIL FROM:<evil@example.com>\r\n",
	}
	raw, _, err := m.Build()
	if err != nil {
		t.Fatal(err)
	}
	msg := parse(t, raw)
	parts := msg.Parts
	for _, h := range []string{"Bcc", "X-Injected"} {
		if v := msg.Header.Get(h); v != "" {
			t.Errorf("header %s: %q was injected", h, v)
		}
	}
	subject := msg.Subject
	if strings.ContainsAny(subject, "\r\n") || !strings.HasPrefix(subject, "Report Bcc: evil@example.com X-Injected: 1 <script>") {
		t.Errorf("subject %q, want the text on one line", subject)
	}
	if string(parts[0].Body) != m.Text {
		t.Errorf("body %q, want %q unchanged", parts[0].Body, m.Text)
	}

	for _, bad := range []deliver.Message{
		{From: "a@example.com\r\nBcc: evil@example.com", To: []string{"b@example.com"}, Text: "x"},
		{From: "a@example.com", To: []string{"b@example.com\r\nBcc: evil@example.com"}, Text: "x"},
		{From: "a@example.com", To: []string{"not an address"}, Text: "x"},
		{From: "a@example.com", Text: "x"},
		{From: "a@example.com", To: []string{"b@example.com"}},
	} {
		if _, _, err := bad.Build(); err == nil {
			t.Errorf("Build(%+v) succeeded, want an error", bad)
		}
	}
	missing := deliver.Message{From: "a@example.com", To: []string{"b@example.com"}, Text: "x", Attachments: []string{filepath.Join(t.TempDir(), "nope.xlsx")}}
	if _, _, err := missing.Build(); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing attachment: %v, want os.ErrNotExist", err)
	}
}

func TestContentType(t *testing.T) {
	for name, want := range map[string]string{
		"report.xlsx":     "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
		"error_codes.csv": "text/csv; charset=utf-8",
		"summary.json":    "application/json",
		"results.jsonl":   "application/x-ndjson",
		"REPORT.HTML":     "text/html; charset=utf-8",
		"run.lock":        "application/octet-stream",
	} {
		if got := deliver.ContentType(name); got != want {
			t.Errorf("ContentType(%q) = %q, want %q", name, got, want)
		}
	}
}

// TestAddressFormatCharacters: net/mail takes an address that holds a
// format character (Unicode Cf: U+202E RIGHT-TO-LEFT OVERRIDE, a zero-width
// space, a BOM), which reads as another address in a log or a mail client
// and is not it. No message is built, or sent by SMTP or SES, to or from
// one, and the error says which character.
func TestAddressFormatCharacters(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{})
	for _, tt := range []struct {
		name     string
		from, to string
		char     string
	}{
		{"RLO after the recipient", "a@example.com", "ops@example.com\u202e", "U+202E"},
		{"zero-width space in the recipient", "a@example.com", "ops@exa\u200bmple.com", "U+200B"},
		{"BOM before the recipient", "a@example.com", "\ufeffops@example.com", "U+FEFF"},
		{"isolate in the recipient's name", "a@example.com", "Ops \u2066Team <ops@example.com>", "U+2066"},
		{"RLO in the sender's name", "Audit\u202e <a@example.com>", "ops@example.com", "U+202E"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := deliver.Message{From: tt.from, To: []string{tt.to}, Subject: "s", Text: "t"}
			if _, _, err := m.Build(); err == nil || !strings.Contains(err.Error(), "format character") || !strings.Contains(err.Error(), tt.char) {
				t.Errorf("Build: %v, want %s refused as a format character", err, tt.char)
			}
			api := &fakeSES{}
			if err := deliver.SendSES(context.Background(), api, m); err == nil || len(api.in) > 0 {
				t.Errorf("SendSES: %v, %d calls; want an error and none", err, len(api.in))
			}
			before := srv.Transactions()
			s := deliver.SMTP{URL: "smtp://localhost:" + port(t, srv), TLSConfig: srv.TLSConfig("localhost")}
			if err := s.Send(context.Background(), m); err == nil || srv.Transactions() != before {
				t.Errorf("SMTP: %v, %d transactions; want an error and none", err, srv.Transactions()-before)
			}
		})
	}
	if _, _, err := (deliver.Message{From: "Audit <a@example.com>", To: []string{"Ops Team <ops@example.com>", "sec@example.com"}, Text: "t"}).Build(); err != nil {
		t.Errorf("plain addresses: %v", err)
	}
}

// TestAddressSpaces: an address whose mailbox holds a space or a line
// separator other than the ASCII ones net/mail refuses (a no-break space,
// U+2028 from a spreadsheet's cell) is refused: it is not the address it
// reads as, and net/mail took it, so that it went to the server as it was.
func TestAddressSpaces(t *testing.T) {
	for _, tt := range []struct {
		addr string
		char string
	}{
		{"ops\u00a0@example.com", "U+00A0"},
		{"ops@exa\u2028mple.com", "U+2028"},
		{"Ops <ops@exa\u3000mple.com>", "U+3000"},
		{"ops\u0085@example.com", "U+0085"},
	} {
		t.Run(tt.char, func(t *testing.T) {
			if a, err := deliver.ParseAddress(tt.addr); err == nil || !strings.Contains(err.Error(), tt.char) {
				t.Errorf("ParseAddress(%q) = %v, %v; want %s refused", tt.addr, a, err, tt.char)
			}
		})
	}
	if _, err := deliver.ParseAddress("Ops\u00a0Team <ops@example.com>"); err != nil {
		t.Errorf("a no-break space in the name: %v", err)
	}
}

// TestAddressForms: net/mail takes a quoted local part (and drops its
// quotes: "ops@corp.example"@evil.example comes back as
// ops@corp.example@evil.example, which no message can be built to), an
// IP literal and characters past ASCII, which SES and a server without
// SMTPUTF8 do not take. ParseAddress refuses such a mailbox, whatever its
// display name; ParseAddrSpec takes only a bare name@domain.
func TestAddressForms(t *testing.T) {
	for _, tt := range []struct {
		addr    string
		address bool // ParseAddress takes it
		bare    bool // ParseAddrSpec takes it
	}{
		{"ops@corp.example", true, true},
		{"o'b.x+tag@mail-1.corp.example", true, true},
		{"ops@localhost", true, true},
		{"Ops <ops@corp.example>", true, false},
		{"<ops@corp.example>", true, false},
		{"ops@corp.example (Ops)", true, false},
		{`"ops"@corp.example`, true, false},
		{`"ops@corp.example"@evil.example`, false, false},
		{`Ops <"ops@corp.example"@evil.example>`, false, false},
		{`"ops\team"@corp.example`, true, false}, // opsteam@corp.example: \t is a quoted t
		{`"ops\"x"@corp.example`, false, false},
		{"ops@corp.example.", false, false},
		{"user@[10.0.0.1]", false, false},
		{"ops@1.2.3.4", false, false},
		{"Ops <ops@10.0.0.1>", false, false},
		{"ops@host.123", false, false},
		{"ops@123", false, false},
		{"ops@127.1", false, false},
		{"ops@10.0.0.1.example", true, true},
		{"ops@1password.example", true, true},
		{"ops@corp.example2", true, true},
		{"ops@corp_mail.example", false, false},
		{"ops@-corp.example", false, false},
		{"jörg@corp.example", false, false},
		{"Jörg <ops@bücher.example>", false, false},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			if _, err := deliver.ParseAddress(tt.addr); (err == nil) != tt.address {
				t.Errorf("ParseAddress: %v, want taken %v", err, tt.address)
			}
			if got, err := deliver.ParseAddrSpec(tt.addr); (err == nil) != tt.bare || err == nil && got != tt.addr {
				t.Errorf("ParseAddrSpec = %q, %v; want taken %v, as it is", got, err, tt.bare)
			}
			m := deliver.Message{From: "a@example.com", To: []string{tt.addr}, Text: "t"}
			if _, _, err := m.Build(); (err == nil) != tt.address {
				t.Errorf("Build: %v, want built %v", err, tt.address)
			}
		})
	}
	if _, err := deliver.ParseAddress("Jörg Müller <jm@corp.example>"); err != nil {
		t.Errorf("a name past ASCII: %v", err)
	}
}

// TestAddressNumericDomain: net/mail takes a domain that is a bare IPv4
// address (ops@1.2.3.4), which is no host name (no top-level domain is all
// digits) and no address literal either (that is bracketed, and refused
// too). The error says what the domain is and what to give instead.
func TestAddressNumericDomain(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want []string
	}{
		{"ops@1.2.3.4", []string{`its domain "1.2.3.4" is an IP address, not a host name`, "ops@mail.example.com", "[1.2.3.4]"}},
		{"Ops <ops@10.0.0.1>", []string{`its domain "10.0.0.1" is an IP address`}},
		{"ops@host.123", []string{`its domain "host.123" ends in "123", all digits`, "no top-level domain is"}},
		{"ops@127.1", []string{`its domain "127.1" ends in "1", all digits`}},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			_, err := deliver.ParseAddress(tt.addr)
			if err == nil {
				t.Fatal("taken, want refused")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestAddressSyntaxSaysWhatToWrite: net/mail's own errors read "mail:
// missing '@' or angle-addr" for ops@example..com, which has its '@', and
// "mail: no angle-addr" for a name before a bare address: after "not a
// mail address:" they said mail twice and named the grammar, not the fix.
// Each says what is wrong in the value and what to write.
func TestAddressSyntaxSaysWhatToWrite(t *testing.T) {
	for _, tt := range []struct {
		addr string
		want string
	}{
		{"ops@example..com", "two dots in a row"},
		{"ops..x@example.com", "two dots in a row"},
		{".ops@example.com", "a dot at either end"},
		{"opsexample.com", "name@domain"},
		{"Ops ops@example.com", "Ops <ops@example.com>"},
		{"a@example.com;b@example.com", "one address"},
		{"a@example.com, b@example.com", "one address"},
		{"mailto:ops@example.com", "name@domain"},
		{"Ops <ops@example.com", "angle bracket"},
		{"", "empty"},
		{"ops@", "nothing comes after its '@'"},
		{"ops@@example.com", "more than one '@'"},
		{"a@b@c.com", "more than one '@'"},
		{"ops @example.com", "a blank"},
		{"ops@exa mple.com", "a blank"},
		// A guess would be untrue here: net/mail's own words follow the
		// advice, and no fix that is none is suggested.
		{`"Ops Team"`, "want name@domain, or Name <name@domain>"},
		{"Ops Team", "want name@domain, or Name <name@domain>"},
		{"Ops ops@example..com", "want name@domain, or Name <name@domain>"},
		{`"a@b"@exa..mple.com`, "want name@domain, or Name <name@domain>"},
		{"Ops@Team <ops@example.com>", "want name@domain, or Name <name@domain>"},
		{"Ops <ops@example.com> x", "want name@domain, or Name <name@domain>"},
		{"ops@example.com,", "want name@domain, or Name <name@domain>"},
		{"Ops..Team <ops@example.com>(", "want name@domain, or Name <name@domain>"},
		{"(a..b) ops @example.com", "want name@domain, or Name <name@domain>"},
	} {
		t.Run(tt.addr, func(t *testing.T) {
			_, err := deliver.ParseAddress(tt.addr)
			if err == nil {
				t.Fatal("taken, want refused")
			}
			msg := err.Error()
			if !strings.Contains(msg, tt.want) || strings.HasPrefix(msg, "mail:") {
				t.Errorf("error %q: want it to say %q, not starting mail:", msg, tt.want)
			}
			// What it suggests is taken, and what it names is there.
			if i, j := strings.LastIndex(msg, " <"), strings.LastIndex(msg, ">"); strings.Contains(msg, "angle brackets:") && i >= 0 && j > i {
				if _, err := deliver.ParseAddress(msg[strings.LastIndex(msg, ": ")+2:]); err != nil {
					t.Errorf("error %q suggests an address that is refused: %v", msg, err)
				}
			}
			for _, claim := range []struct{ says, needs string }{{"two dots", ".."}, {"more than one address", "@example.com"}} {
				if strings.Contains(msg, claim.says) && !strings.Contains(tt.addr, claim.needs) {
					t.Errorf("error %q says %s of %q", msg, claim.says, tt.addr)
				}
			}
		})
	}
}
