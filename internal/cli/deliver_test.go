package cli

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/xuri/excelize/v2"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/report"
	"github.com/auditor-dev/auditor/ssmsim"
)

// mailSetup is an SMTP server that wants STARTTLS and a login, the
// certificate it offers in a file, and the flags and environment that
// reach it.
type mailSetup struct {
	srv  *smtptest.Server
	args []string
}

func newMailSetup(t *testing.T, opts smtptest.Options) mailSetup {
	t.Helper()
	opts.Username, opts.Password = "auditor", "s3cret-pass"
	srv := smtptest.NewServer(t, opts)
	ca := writeFile(t, "smtp-ca.pem", string(srv.CertPEM))
	t.Setenv(envSMTPUser, opts.Username)
	t.Setenv(envSMTPPassword, opts.Password)
	return mailSetup{srv, []string{"--smtp", "smtp://" + srv.Addr, "--smtp-ca-bundle", ca, "--mail-from", "auditor@example.com"}}
}

// TestMailDelivered: a run that mails its reports through a server that
// wants STARTTLS and AUTH: the message carries the figures in its subject,
// a text and an HTML part within the budget, the workbook (which opens) and
// the error codes, and no secret.
func TestMailDelivered(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\ni-0000000000000dead\n")
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--mail-to", "ops@example.com,owner@example.com", "--mail-max-body", "20000"}, ms.args...)
	got := runCLI(t, "", args...)
	if got.code != 1 {
		t.Fatalf("exit %d, want 1 (findings; the mail was sent)\n%s", got.code, got.stderr)
	}
	msgs := ms.srv.Messages()
	if len(msgs) != 1 {
		t.Fatalf("%d messages received, want 1\n%s", len(msgs), got.stderr)
	}
	if !slices.Equal(msgs[0].To, []string{"ops@example.com", "owner@example.com"}) {
		t.Errorf("recipients %q", msgs[0].To)
	}
	if bytes.Contains(msgs[0].Data, []byte("s3cret-pass")) || strings.Contains(got.stderr, "s3cret-pass") {
		t.Error("the SMTP password is in the message or on stderr")
	}
	m, err := smtptest.Parse(msgs[0].Data)
	if err != nil {
		t.Fatal(err)
	}
	if m.Header.Get("Auto-Submitted") != "auto-generated" {
		t.Errorf("Auto-Submitted %q", m.Header.Get("Auto-Submitted"))
	}
	// The hand fleet: 3 instances, 1 failing, 1 not managed.
	if !strings.Contains(m.Subject, "1 of 2 audited instances non-compliant") || !strings.Contains(m.Subject, "1 not managed") {
		t.Errorf("subject %q: want the headline figures (1 of 2 audited non-compliant, 1 not managed)", m.Subject)
	}
	text, html := m.Part("text/plain"), m.Part("text/html")
	if text == nil || html == nil {
		t.Fatalf("parts %v: want text/plain and text/html", m.Containers)
	}
	if len(html.Body) > 20000 {
		t.Errorf("HTML part of %d bytes, past --mail-max-body 20000", len(html.Body))
	}
	if !strings.Contains(string(text.Body), "i-0123456789abcdef0") {
		t.Errorf("the text part does not name the failing instance:\n%s", text.Body)
	}
	var names []string
	for _, a := range m.Attachments() {
		names = append(names, a.Filename)
		if a.Filename == report.XLSXFile {
			wb, err := excelize.OpenReader(bytes.NewReader(a.Body))
			if err != nil {
				t.Fatalf("the attached workbook does not open: %v", err)
			}
			if !slices.Contains(wb.GetSheetList(), "Failures") {
				t.Errorf("the attached workbook's sheets %q", wb.GetSheetList())
			}
			wb.Close()
			disk, _ := os.ReadFile(filepath.Join(out, report.XLSXFile))
			if !bytes.Equal(disk, a.Body) {
				t.Error("the attached workbook is not the one on disk")
			}
		}
	}
	if !slices.Equal(names, []string{report.XLSXFile, report.ErrorCodesCSV}) {
		t.Errorf("attachments %q", names)
	}
	ri, _ := audit.ReadRunInfo(filepath.Join(out, audit.RunFile))
	if ri.Options["mail_to"] != "ops@example.com,owner@example.com" {
		t.Errorf("run.json options %v: want where the mail went", ri.Options)
	}

	// auditor report mails what it renders, as run does.
	merged := filepath.Join(t.TempDir(), "merged")
	rep := runCLI(t, "", append([]string{"report", filepath.Join(out, audit.ResultsFile), "--out", merged, "--quiet", "--mail-to", "ops@example.com"}, ms.args...)...)
	if rep.code != 1 || len(ms.srv.Messages()) != 2 {
		t.Errorf("auditor report --mail-to: exit %d, %d messages in all, want 1 and 2\n%s", rep.code, len(ms.srv.Messages()), rep.stderr)
	}
}

// TestMailRefused: a server that refuses the message for good: exit 5,
// the reports on disk, the reason on stderr, and "auditor mail" sends them
// once the server takes them.
func TestMailRefused(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	var mu sync.Mutex
	refuse := true
	ms := newMailSetup(t, smtptest.Options{Reject: func(stage smtptest.Stage, n int) *smtptest.Reply {
		mu.Lock()
		defer mu.Unlock()
		if stage == smtptest.StageRcpt && refuse {
			return &smtptest.Reply{Code: 550, Message: "5.1.1 mailbox unavailable"}
		}
		return nil
	}})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--mail-to", "ops@example.com"}, ms.args...)
	got := runCLI(t, "", args...)
	if got.code != 5 {
		t.Fatalf("exit %d, want 5 (reports written, delivery failed)\n%s", got.code, got.stderr)
	}
	for _, name := range []string{audit.ResultsFile, audit.RunFile, report.HTMLFile, report.XLSXFile} {
		if _, err := os.Stat(filepath.Join(out, name)); err != nil {
			t.Errorf("%s not on disk after the delivery failed", name)
		}
	}
	if !strings.Contains(got.stderr, "550") || !strings.Contains(got.stderr, "auditor mail "+out+" --to ops@example.com --mail-from auditor@example.com") {
		t.Errorf("stderr does not give the server's reason and how to send again:\n%s", got.stderr)
	}
	if strings.Count(got.stderr, "mailbox unavailable") != 1 { // not "550", which a temporary path may hold
		t.Errorf("the failure is told more than once:\n%s", got.stderr)
	}
	mu.Lock()
	refuse = false
	mu.Unlock()
	again := runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...)
	if again.code != 0 {
		t.Fatalf("auditor mail: exit %d\n%s", again.code, again.stderr)
	}
	if n := len(ms.srv.Messages()); n != 1 {
		t.Errorf("%d messages after auditor mail, want 1", n)
	}
	if bad := runCLI(t, "", append([]string{"mail", t.TempDir(), "--to", "ops@example.com"}, ms.args...)...); bad.code != 2 || !strings.Contains(bad.stderr, "run.json") {
		t.Errorf("auditor mail of a directory without a run: exit %d, want 2 naming run.json\n%s", bad.code, bad.stderr)
	}
}

// TestMailRetried: a server that answers 451 twice, then accepts, gets the
// mail, once.
func TestMailRetried(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: two back-offs (6s) of SMTP retries; the deliver package tests them quickly")
	}
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{Reject: func(stage smtptest.Stage, n int) *smtptest.Reply {
		if stage == smtptest.StageData && n <= 2 {
			return &smtptest.Reply{Code: 451, Message: "4.3.0 try again later"}
		}
		return nil
	}})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--mail-to", "ops@example.com"}, ms.args...)...)
	if got.code != 1 {
		t.Fatalf("exit %d, want 1\n%s", got.code, got.stderr)
	}
	if n, tx := len(ms.srv.Messages()), ms.srv.Transactions(); n != 1 || tx != 3 {
		t.Errorf("%d messages in %d transactions, want 1 in 3", n, tx)
	}
}

// TestMailToLabelWithoutAddresses: groups without an address in
// --mail-to-label were said so only in the lines --quiet hides; now one
// warning names the groups left without mail and the label, whatever
// --quiet says. (A label that no instance has at all fails the delivery:
// TestMailToLabelNoInstanceHas.)
func TestMailToLabelWithoutAddresses(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet(), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	list := writeFile(t, "owners.csv", "instance_id,owner,owner_email\ni-00000000000000a01,alice,alice@example.com\ni-00000000000000b01,bob,\ni-00000000000000c01,carol,\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)...)
	if n := len(ms.srv.Messages()); n != 1 {
		t.Errorf("%d messages sent, want alice's", n)
	}
	if !regexp.MustCompile(`warning: 2 groups of --split-by owner have no address in label "owner_email" \(bob, carol\): not mailed`).MatchString(got.stderr) {
		t.Errorf("under --quiet, no warning names the groups left without mail and the label:\n%s", got.stderr)
	}
}

// TestOwnersNotUTF8: an inventory saved as Latin-1 (as spreadsheets export
// CSV) is refused before any call, with or without --skip-invalid, naming
// the line and the value. Read with U+FFFD for the bytes that are not UTF-8,
// Müller and Möller were one owner, and each was mailed the other's
// instances.
func TestOwnersNotUTF8(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, srv := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	list := writeFile(t, "fleet.csv", "instance_id,owner,owner_email\n"+
		"i-0123456789abcdef0,M\xfcller,mueller@example.com\n"+
		"i-0123456789abcdef1,M\xf6ller,moeller@example.com\n")
	for _, extra := range [][]string{nil, {"--skip-invalid"}} {
		out := filepath.Join(t.TempDir(), "out")
		args := append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
			"--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)
		got := runCLI(t, "", append(args, extra...)...)
		if got.code != 2 {
			t.Fatalf("%v: exit %d, want 2\n%s", extra, got.code, got.stderr)
		}
		if want := `fleet.csv:2: owner "M\xfcller": not UTF-8`; !strings.Contains(got.stderr, want) {
			t.Errorf("%v: stderr does not say %s:\n%s", extra, want, got.stderr)
		}
		if n := srv.Stats().Requests; n != 0 {
			t.Errorf("%v: %d requests to AWS, want none", extra, n)
		}
		if n := len(ms.srv.Messages()); n != 0 {
			t.Errorf("%v: %d messages sent, want none", extra, n)
		}
		if _, err := os.Stat(out); !errors.Is(err, fs.ErrNotExist) {
			t.Errorf("%v: the output directory was made (%v), want nothing left behind", extra, err)
		}
	}
}

// TestMailEachOwner: --mail-to-label owner_email mails each owner the
// reports of their own instances only.
func TestMailEachOwner(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	list := writeFile(t, "fleet.csv", "instance_id,owner_email\ni-0123456789abcdef0,alice@example.com\ni-0123456789abcdef1,bob@example.com\ni-0000000000000dead,alice@example.com\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 1 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	want := map[string][]string{
		"alice@example.com": {"i-0123456789abcdef0", "i-0000000000000dead"},
		"bob@example.com":   {"i-0123456789abcdef1"},
	}
	msgs := ms.srv.Messages()
	if len(msgs) != len(want) {
		t.Fatalf("%d messages, want one for each of %d owners\n%s", len(msgs), len(want), got.stderr)
	}
	all := []string{"i-0123456789abcdef0", "i-0123456789abcdef1", "i-0000000000000dead"}
	for _, msg := range msgs {
		if len(msg.To) != 1 {
			t.Fatalf("recipients %q, want one owner", msg.To)
		}
		m, err := smtptest.Parse(msg.Data)
		if err != nil {
			t.Fatal(err)
		}
		var book []byte
		for _, a := range m.Attachments() {
			if a.Filename == report.XLSXFile {
				book = a.Body
			}
		}
		wb, err := excelize.OpenReader(bytes.NewReader(book))
		if err != nil {
			t.Fatalf("%s: the workbook: %v", msg.To[0], err)
		}
		rows, err := wb.GetRows("Instances")
		wb.Close()
		if err != nil {
			t.Fatal(err)
		}
		var ids []string
		for _, r := range rows[1:] {
			for _, c := range r {
				if slices.Contains(all, c) {
					ids = append(ids, c)
				}
			}
		}
		slices.Sort(ids)
		w := slices.Sorted(slices.Values(want[msg.To[0]]))
		if !slices.Equal(ids, w) {
			t.Errorf("%s received the instances %q, want their own %q", msg.To[0], ids, w)
		}
	}
}

// serveS3 serves an S3 fake holding the buckets named, points the run's
// S3 client at it, and returns its URL.
func serveS3(t *testing.T, buckets ...string) string {
	t.Helper()
	backend := s3mem.New()
	for _, b := range buckets {
		if err := backend.CreateBucket(b); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_S3", srv.URL)
	return srv.URL
}

// s3Client is a client of the S3 fake at url, to read what was uploaded.
func s3Client(url string) *s3.Client {
	return s3.New(s3.Options{Region: "us-east-1", BaseEndpoint: aws.String(url), UsePathStyle: true,
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
}

// TestUploadRun: --upload puts every file the run wrote under the prefix,
// byte for byte, each split group under its own.
func TestUploadRun(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	s3URL := serveS3(t, "reports")
	list := writeFile(t, "fleet.csv", "instance_id,owner\ni-0123456789abcdef0,alice\ni-0123456789abcdef1,bob\n")
	out := filepath.Join(t.TempDir(), "out")
	started := time.Now().UTC().Format(time.DateOnly)
	got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--split-by", "owner", "--upload", "s3://reports/weekly/{date}/")
	if got.code != 1 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	client := s3Client(s3URL)
	objects := map[string][]byte{}
	list2, err := client.ListObjectsV2(context.Background(), &s3.ListObjectsV2Input{Bucket: aws.String("reports")})
	if err != nil {
		t.Fatal(err)
	}
	for _, o := range list2.Contents {
		obj, err := client.GetObject(context.Background(), &s3.GetObjectInput{Bucket: aws.String("reports"), Key: o.Key})
		if err != nil {
			t.Fatal(err)
		}
		var b bytes.Buffer
		b.ReadFrom(obj.Body)
		obj.Body.Close()
		objects[*o.Key] = b.Bytes()
	}
	// {date} is the day the run started on: the one before today's for
	// a run across midnight UTC.
	day := time.Now().UTC().Format(time.DateOnly)
	if day != started && slices.ContainsFunc(slices.Collect(maps.Keys(objects)), func(k string) bool { return strings.HasPrefix(k, "weekly/"+started+"/") }) {
		day = started
	}
	want := map[string][]byte{}
	for _, p := range strings.Fields(got.stdout) {
		rel, err := filepath.Rel(out, p)
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			t.Fatal(err)
		}
		want["weekly/"+day+"/"+filepath.ToSlash(rel)] = b
	}
	if len(want) < 10 || !slices.ContainsFunc(slices.Collect(maps.Keys(want)), func(k string) bool { return strings.HasSuffix(path.Dir(k), "/by-owner/alice") }) {
		t.Fatalf("the run printed %d files, want the reports and alice's group among them:\n%s", len(want), got.stdout)
	}
	for k, b := range want {
		if !bytes.Equal(objects[k], b) {
			t.Errorf("object %s: %d bytes, want the %d of the file", k, len(objects[k]), len(b))
		}
	}
	for k := range objects {
		if _, ok := want[k]; !ok {
			t.Errorf("object %s is not a file of the run", k)
		}
	}
	// Every file of the output but the hidden ones (the lock, the split's
	// marker) is uploaded: the split's index.csv too.
	prefix := "weekly/" + day + "/"
	filepath.WalkDir(out, func(p string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, p)
		rel = filepath.ToSlash(rel)
		if strings.HasPrefix(rel, ".") || strings.Contains(rel, "/.") {
			return nil
		}
		if _, ok := objects[prefix+rel]; !ok {
			t.Errorf("%s is a file of the run, but not uploaded", rel)
		}
		return nil
	})

	// A bucket that is not there: the reports stay on disk, exit 5.
	out2 := filepath.Join(t.TempDir(), "out")
	bad := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out2, "--quiet", "--upload", "s3://no-such-bucket/x/")
	if bad.code != 5 {
		t.Fatalf("upload to a missing bucket: exit %d, want 5\n%s", bad.code, bad.stderr)
	}
	if _, err := os.Stat(filepath.Join(out2, report.HTMLFile)); err != nil {
		t.Error("the reports are not on disk after the upload failed")
	}
	if !strings.Contains(bad.stderr, "no-such-bucket") {
		t.Errorf("stderr does not name the bucket:\n%s", bad.stderr)
	}
}

// TestDeliveryFlagsChecked: delivery flags that cannot work are refused
// with exit 2 before anything is asked of AWS.
func TestDeliveryFlagsChecked(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"--mail-to", "ops@example.com", "--smtp", "smtp://mail.example.com:587"}, "--mail-from"},
		{[]string{"--mail-to", "not an address", "--mail-from", "a@example.com", "--smtp", "smtp://mail.example.com"}, "not a mail address"},
		{[]string{"--mail-to", "ops@example.com", "--mail-from", "a@example.com"}, "--smtp"},
		{[]string{"--mail-to", "ops@example.com", "--mail-from", "a@example.com", "--smtp", "smtp://user:pw@mail.example.com"}, "AUDITOR_SMTP_USERNAME"},
		{[]string{"--mail-to", "ops@example.com", "--mail-from", "a@example.com", "--smtp", "http://mail.example.com"}, "scheme"},
		{[]string{"--upload", "https://bucket/x"}, "--upload"},
		{[]string{"--upload-kms-key", "alias/x"}, "--upload-sse aws:kms"},
		{[]string{"--upload-bucket-owner", "111122223333"}, "--upload-bucket-owner needs --upload"},
		{[]string{"--upload", "s3://reports/x/", "--upload-bucket-owner", "1111-2222-3333"}, "want 12 digits"},
		{[]string{"--upload", "s3://reports/x/", "--upload-acl", "public-read"}, `--upload-acl "public-read": want bucket-owner-full-control`},
		{[]string{"--upload-acl", "bucket-owner-full-control"}, "--upload-acl needs --upload"},
		{[]string{"--mail-when", "sometimes"}, "--mail-when"},
		// Format characters (U+202E, a zero-width space): an address that
		// reads as another.
		{[]string{"--mail-to", "ops@example.com\u202e", "--mail-from", "a@example.com", "--smtp", "smtp://mail.example.com"}, `"ops@example.com\u202e": not a mail address: it holds a format character (U+202E)`},
		{[]string{"--mail-to", "ops@example.com", "--mail-from", "Audit\u200b <a@example.com>", "--smtp", "smtp://mail.example.com"}, "--mail-from"},
		// A quoted local part, whose quotes net/mail drops from the
		// envelope's address: refused here, not when the mail is built.
		{[]string{"--mail-to", `"ops@corp.example"@evil.example`, "--mail-from", "a@example.com", "--smtp", "smtp://mail.example.com"}, `"\"ops@corp.example\"@evil.example": not a mail address`},
		// A bare IPv4 address for a domain, which is no host name: the
		// error says what to give instead.
		{[]string{"--mail-to", "ops@1.2.3.4", "--mail-from", "a@example.com", "--smtp", "smtp://mail.example.com"}, `--mail-to "ops@1.2.3.4": not a mail address: its domain "1.2.3.4" is an IP address, not a host name`},
		{[]string{"--mail-to", "ops@example.com", "--mail-from", "Auditor <audit@10.0.0.1>", "--smtp", "smtp://mail.example.com"}, `--mail-from "Auditor <audit@10.0.0.1>": not a mail address: its domain "10.0.0.1" is an IP address`},
	} {
		out := filepath.Join(t.TempDir(), "out")
		got := runCLI(t, "", append([]string{"run", "--instances", ids, "--region", "us-east-1", "--endpoint-url", "http://127.0.0.1:1", "--out", out}, tt.args...)...)
		if got.code != 2 || !strings.Contains(got.stderr, tt.want) {
			t.Errorf("%q: exit %d, want 2 and %q\n%s", tt.args, got.code, tt.want, got.stderr)
		}
		if strings.Contains(got.stderr, "pw@") {
			t.Errorf("%q: the password of the URL is on stderr", tt.args)
		}
		if _, err := os.Stat(out); err == nil {
			t.Errorf("%q: the output directory was made", tt.args)
		}
	}
}

// TestMailWhen: --mail-when decides from the finished run alone, whatever
// --fail-on says.
func TestMailWhen(t *testing.T) {
	complete := func(outcomes map[audit.Outcome]int, changes *audit.ChangeInfo) audit.RunInfo {
		return audit.RunInfo{Complete: true, Outcomes: outcomes, Changes: changes}
	}
	clean := map[audit.Outcome]int{audit.OutcomeCompliant: 3}
	failing := map[audit.Outcome]int{audit.OutcomeCompliant: 2, audit.OutcomeNoncompliant: 1}
	counts := func(k audit.ChangeKind, n int) *audit.ChangeInfo {
		return &audit.ChangeInfo{Counts: audit.ChangeCounts{k: n}}
	}
	for _, tt := range []struct {
		name, when string
		info       audit.RunInfo
		want       bool
	}{
		{"always, clean", mailAlways, complete(clean, nil), true},
		{"findings, clean", mailFindings, complete(clean, nil), false},
		{"findings, a failure", mailFindings, complete(failing, nil), true},
		{"findings, incomplete", mailFindings, audit.RunInfo{Outcomes: clean}, true},
		{"changes, no baseline", mailChanges, complete(failing, nil), true},
		{"changes, only still failing", mailChanges, complete(failing, counts(audit.StillFailing, 1)), false},
		{"changes, one resolved", mailChanges, complete(clean, counts(audit.Resolved, 1)), true},
		{"changes, an association gone", mailChanges, complete(clean, counts(audit.VanishedAssociation, 1)), true},
		// ExecutionError, then TimedOut: another failure of the same
		// association, still failing, not new.
		{"changes, an error code changed", mailChanges, complete(failing, &audit.ChangeInfo{Counts: audit.ChangeCounts{audit.StillFailing: 1}, ErrorCodeChanged: 1}), true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dl := &delivery{d: &deliveryOptions{mailWhen: tt.when}, logf: func(string, ...any) {}}
			if got := dl.shouldMail(tt.info); got != tt.want {
				t.Errorf("shouldMail = %v, want %v", got, tt.want)
			}
		})
	}
}

// TestMailAgainElsewhere: a run compared with a baseline given as a
// relative path, mailed again by `auditor mail` from another working
// directory, says the same changes as when mailed from where it ran.
func TestMailAgainElsewhere(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	base := time.Now().UTC().Add(-7 * 24 * time.Hour).Truncate(time.Minute)
	before := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 21, Size: 60, BaseTime: base})
	after, _ := before.Drift(ssmsim.DriftConfig{Seed: 4, Elapsed: 7 * 24 * time.Hour})
	var ids bytes.Buffer
	after.WriteIDs(&ids)
	list := writeFile(t, "ids.txt", ids.String())
	ms := newMailSetup(t, smtptest.Options{})
	dir := t.TempDir()
	t.Chdir(dir)
	for _, week := range []struct {
		fleet *ssmsim.Fleet
		args  []string
	}{{before, []string{"--out", "week1"}}, {after, []string{"--out", "week2", "--baseline", "week1"}}} {
		url, _ := serve(t, week.fleet, ssmsim.Options{})
		args := append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--quiet"}, week.args...)
		if got := runCLI(t, "", args...); got.code > 1 {
			t.Fatalf("%v: exit %d\n%s", week.args, got.code, got.stderr)
		}
	}
	mail := func() *smtptest.Mail {
		t.Helper()
		got := runCLI(t, "", append([]string{"mail", filepath.Join(dir, "week2"), "--to", "ops@example.com"}, ms.args...)...)
		msgs := ms.srv.Messages()
		if got.code != 0 || len(msgs) == 0 {
			t.Fatalf("auditor mail: exit %d, %d messages\n%s", got.code, len(msgs), got.stderr)
		}
		m, err := smtptest.Parse(msgs[len(msgs)-1].Data)
		if err != nil {
			t.Fatal(err)
		}
		return m
	}
	here := mail()
	if !strings.Contains(here.Subject, "new") {
		t.Fatalf("subject %q from where the run was: want the new failures", here.Subject)
	}
	t.Chdir(t.TempDir())
	elsewhere := mail()
	if elsewhere.Subject != here.Subject {
		t.Errorf("mailed from another directory, subject %q; from where the run was, %q", elsewhere.Subject, here.Subject)
	}
	if h, e := here.Part("text/plain"), elsewhere.Part("text/plain"); h == nil || e == nil || !bytes.Equal(h.Body, e.Body) {
		t.Error("the text part differs when mailed from another directory")
	}

	// The baseline gone: the mail still goes, without the changes, and
	// says so.
	if err := os.RemoveAll(filepath.Join(dir, "week1")); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", append([]string{"mail", filepath.Join(dir, "week2"), "--to", "ops@example.com"}, ms.args...)...)
	if got.code != 0 || !strings.Contains(got.stderr, "week1") || !strings.Contains(got.stderr, "is gone") {
		t.Errorf("mail with the baseline gone: exit %d, want 0 and a word naming it\n%s", got.code, got.stderr)
	}
}

// TestMailEachOwnerRetry: one group's mail refused for good: exit 5, and the
// command printed to send it again, read as a shell reads it, mails that
// group alone.
func TestMailEachOwnerRetry(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ms, refuse := refusingMail(t, 2)
	// A sender and a directory a shell would misread unquoted.
	for i, a := range ms.args {
		if a == "--mail-from" {
			ms.args[i+1] = "Auditor <audit@example.com>"
		}
	}
	list := writeFile(t, "fleet.csv", "instance_id,owner_email\ni-0123456789abcdef0,alice@example.com\ni-0123456789abcdef1,bob@example.com\ni-0000000000000dead,carol@example.com\n")
	out := filepath.Join(t.TempDir(), "it's the $run")
	got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 5 {
		t.Fatalf("exit %d, want 5\n%s", got.code, got.stderr)
	}
	// The groups go in order of their value: bob's is the second message.
	if n := len(ms.srv.Messages()); n != 2 {
		t.Fatalf("%d messages, want 2 (alice's and carol's)\n%s", n, got.stderr)
	}
	args := retryCommand(t, got.stderr)
	refuse(0)
	again := runCLI(t, "", args[1:]...)
	if again.code != 0 {
		t.Fatalf("%q: exit %d\n%s", args, again.code, again.stderr)
	}
	msgs := ms.srv.Messages()
	if len(msgs) != 3 {
		t.Fatalf("%d messages after the retry, want 3: bob's alone sent again\n%s", len(msgs), again.stderr)
	}
	if !slices.Equal(msgs[2].To, []string{"bob@example.com"}) || msgs[2].From != "audit@example.com" {
		t.Errorf("the retry went from %q to %q, want from audit@example.com to bob@example.com", msgs[2].From, msgs[2].To)
	}
	m, err := smtptest.Parse(msgs[2].Data)
	if err != nil {
		t.Fatal(err)
	}
	if text := m.Part("text/plain"); text == nil || !strings.Contains(string(text.Body), "i-0123456789abcdef1") || strings.Contains(string(text.Body), "i-0123456789abcdef0") {
		t.Error("the retry is not bob's own report")
	}

	// auditor mail --mail-to-label of the whole run, bob's refused again
	// (the 6th transaction: the run's 3, the retry's, then alice's): its
	// command mails bob alone.
	refuse(6)
	got = runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 5 {
		t.Fatalf("auditor mail --mail-to-label: exit %d, want 5\n%s", got.code, got.stderr)
	}
	args = retryCommand(t, got.stderr)
	if dir := args[2]; filepath.Dir(filepath.Dir(dir)) != out || !strings.HasPrefix(filepath.Base(filepath.Dir(dir)), "by-") {
		t.Errorf("%q: want a group's directory of %s", args, out)
	}
	if !slices.Contains(args, "bob@example.com") || slices.Contains(args, "--mail-to-label") {
		t.Errorf("%q: want bob's group to bob@example.com alone", args)
	}
}

// retryCommand returns the one command that stderr says delivers again, as
// a shell splits it.
func retryCommand(t *testing.T, stderr string) []string {
	t.Helper()
	var hints []string
	for _, line := range strings.Split(stderr, "\n") {
		if _, h, ok := strings.Cut(line, "once fixed, deliver them with: "); ok {
			hints = append(hints, h)
		}
	}
	if len(hints) != 1 {
		t.Fatalf("%d commands to deliver again, want 1 (bob's group)\n%s", len(hints), stderr)
	}
	args, err := shellWords(hints[0])
	if err != nil {
		t.Fatalf("%s\nis not one plain command to a shell: %v", hints[0], err)
	}
	if len(args) < 3 || args[0] != "auditor" || args[1] != "mail" {
		t.Fatalf("%q: want auditor mail DIR ...", args)
	}
	return args
}

// TestShellCommand: each argument comes back whole from a shell, whatever
// is in it.
func TestShellCommand(t *testing.T) {
	args := []string{"auditor", "mail", "it's the $run", "Auditor <audit@example.com>", "", "=x", "a\"b\\c", "*", "~me", "#x", "s3://b/p/", "--sse-kms-key-id", "alias/k"}
	line := shellCommand(args...)
	got, err := shellWords(line)
	if err != nil {
		t.Fatalf("%s: %v", line, err)
	}
	if !slices.Equal(got, args) {
		t.Errorf("%s\nsplits into %q, want %q", line, got, args)
	}
}

// TestGroupsAgain: the whole run's command when the groups due and not
// mailed are all the run's groups, else one for each of them alone.
func TestGroupsAgain(t *testing.T) {
	dl := &delivery{out: "r3", d: &deliveryOptions{mailToLabel: "owner_email", mailFrom: "a@example.com", smtp: "smtp://mail.example.com:587",
		mailMaxBody: report.DefaultMailMaxBody, mailMaxSize: 10_000_000}}
	bob := &groupMailError{dir: filepath.Join("r3", "by-owner_email", "bob"), to: []string{"bob@example.com"}, err: errors.New("554")}
	unread := errors.New("carol: reading the record")
	whole := "auditor mail r3 --mail-to-label owner_email --mail-from a@example.com --smtp smtp://mail.example.com:587"
	bobs := "auditor mail " + filepath.Join("r3", "by-owner_email", "bob") + " --to bob@example.com --mail-from a@example.com --smtp smtp://mail.example.com:587"
	// The group of no value goes to --mail-to, which the whole run's
	// command by --mail-to-label would not mail it to.
	nobodys := &groupMailError{dir: filepath.Join("r3", "by-owner_email", "none-e3b0c442"), to: []string{"ops@example.com"}, nobodys: true, err: errors.New("554")}
	nobodysCmd := "auditor mail " + filepath.Join("r3", "by-owner_email", "none-e3b0c442") + " --to ops@example.com --mail-from a@example.com --smtp smtp://mail.example.com:587"
	// A group whose server got the whole message and did not answer may
	// have its mail: the whole run's command would mail it again.
	alice := &groupMailError{dir: filepath.Join("r3", "by-owner_email", "alice"), to: []string{"alice@example.com"},
		err: fmt.Errorf("mail to alice@example.com: %w", &deliver.Error{Op: "end of DATA", Unknown: true, Err: io.EOF})}
	alices := "auditor mail " + filepath.Join("r3", "by-owner_email", "alice") + " --to alice@example.com --mail-from a@example.com --smtp smtp://mail.example.com:587"
	for _, tt := range []struct {
		name string
		r    groupsMailed
		want []again
	}{
		{"none sent", groupsMailed{errs: []error{bob}}, []again{{cmd: whole}}},
		{"some sent", groupsMailed{sent: 2, errs: []error{bob, unread}}, []again{{cmd: bobs}}},
		{"none sent, some held back", groupsMailed{held: 2, errs: []error{bob}}, []again{{cmd: bobs}}},
		{"none sent, a record unread", groupsMailed{errs: []error{bob, unread}}, []again{{cmd: bobs}}},
		{"none sent, the group of no value among them", groupsMailed{errs: []error{bob, nobodys}}, []again{{cmd: bobs}, {cmd: nobodysCmd}}},
		{"none sent, one that may have been delivered", groupsMailed{errs: []error{alice, bob}}, []again{{cmd: alices, maybe: true}, {cmd: bobs}}},
		{"none failed", groupsMailed{sent: 1, held: 2}, nil},
		{"none due", groupsMailed{held: 3}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if got := dl.groupsAgain(tt.r); !slices.Equal(got, tt.want) {
				t.Errorf("groupsAgain = %+v, want %+v", got, tt.want)
			}
		})
	}
}

// shellWords splits line into words as a POSIX shell would (quotes and
// backslashes), and fails on anything that would make it more than one
// plain command: an unquoted operator, expansion or glob.
func shellWords(line string) ([]string, error) {
	var words []string
	var w strings.Builder
	inWord := false
	for i := 0; i < len(line); i++ {
		c := line[i]
		switch {
		case c == ' ' || c == '\t':
			if inWord {
				words = append(words, w.String())
				w.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(line[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' at %d", i)
			}
			w.WriteString(line[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(line) && line[i] != '"'; i++ {
				switch line[i] {
				case '$', '`':
					return nil, fmt.Errorf("expansion %q in double quotes at %d", line[i], i)
				case '\\':
					if i+1 < len(line) && strings.IndexByte("$`\"\\", line[i+1]) >= 0 {
						i++
					}
				}
				w.WriteByte(line[i])
			}
			if i >= len(line) {
				return nil, errors.New(`unterminated "`)
			}
			inWord = true
		case c == '\\':
			if i+1 >= len(line) {
				return nil, errors.New("a trailing backslash")
			}
			i++
			w.WriteByte(line[i])
			inWord = true
		case !inWord && strings.HasPrefix(line[i:], "&& "):
			// The one operator taken: a command run after the one
			// before, if that one succeeded.
			words = append(words, "&&")
			i++
		case strings.IndexByte("|&;<>()$`*?[", c) >= 0, (c == '#' || c == '~') && !inWord:
			return nil, fmt.Errorf("unquoted %q at %d", c, i)
		default:
			w.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, w.String())
	}
	return words, nil
}

// TestGroupOf: auditor mail of a group's directory names the group's own
// upload prefix, not the run's.
func TestGroupOf(t *testing.T) {
	out := t.TempDir()
	split := report.SplitDir(out, "owner")
	if err := os.MkdirAll(filepath.Join(split, "alice"), 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(split, report.SplitIndex), []byte("owner,directory\n"), 0o666); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ dir, label, want string }{
		{filepath.Join(split, "alice"), "owner", "by-owner/alice"},
		{filepath.Join(split, "alice") + "/", "owner", "by-owner/alice"},
		{filepath.Join(split, "alice"), "team", ""},
		{filepath.Join(split, "alice"), "", ""},
		{out, "owner", ""},
	} {
		if got := groupOf(tt.dir, tt.label); got != tt.want {
			t.Errorf("groupOf(%q, %q) = %q, want %q", tt.dir, tt.label, got, tt.want)
		}
	}
}

// TestUploadRetryCommand: the command printed after a failed upload asks
// for the same encryption as --upload-sse, and, with the AWS CLI's filters,
// copies every file of the output but the hidden ones (the lock, the
// split's marker, the groups' baselines).
func TestUploadRetryCommand(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	serveS3(t)
	list := writeFile(t, "fleet.csv", "instance_id,owner\ni-0123456789abcdef0,alice\ni-0123456789abcdef1,bob\n")
	dir := t.TempDir()
	t.Chdir(dir)
	// The first run is the second's baseline: each group keeps its part
	// of it as a hidden file.
	if got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", "r8", "--quiet", "--split-by", "owner"); got.code != 1 {
		t.Fatalf("exit %d\n%s", got.code, got.stderr)
	}
	for _, tt := range []struct {
		name string
		args []string
		want []string // the encryption and owner options of aws s3 cp
	}{
		{"aws:kms with a key", []string{"--upload-sse", "aws:kms", "--upload-kms-key", "alias/compliance"}, []string{"--sse", "aws:kms", "--sse-kms-key-id", "alias/compliance"}},
		{"aws:kms", []string{"--upload-sse", "aws:kms"}, []string{"--sse", "aws:kms"}},
		{"AES256", []string{"--upload-sse", "AES256"}, []string{"--sse", "AES256"}},
		{"the bucket's", nil, nil},
		{"an owner checked", []string{"--upload-sse", "AES256", "--upload-bucket-owner", "111122223333"}, []string{"--sse", "AES256", "--expected-bucket-owner", "111122223333"}},
		{"the bucket owner's full control", []string{"--upload-acl", "bucket-owner-full-control"}, []string{"--acl", "bucket-owner-full-control"}},
		// fnmatch would take these for a pattern, in the path that the
		// AWS CLI joins to each filter's.
		{"a directory named [prod] *", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			out := "r9 " + strings.ReplaceAll(tt.name, "'", "")
			// Files of the user's own in --out, which the run leaves be:
			// the upload did not take them, nor may its command.
			if err := os.MkdirAll(filepath.Join(out, "private"), 0o755); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"notes.txt", "private/id_rsa"} {
				if err := os.WriteFile(filepath.Join(out, f), []byte("not the run's\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--split-by", "owner", "--baseline", "r8", "--upload", "s3://no-such-bucket/ssm/r9/"}, tt.args...)...)
			if got.code != 5 {
				t.Fatalf("exit %d, want 5\n%s", got.code, got.stderr)
			}
			var line string
			for _, l := range strings.Split(got.stderr, "\n") {
				if _, h, ok := strings.Cut(l, "once fixed, deliver them with: "); ok && strings.HasPrefix(h, "aws ") {
					line = h
				}
			}
			args, err := shellWords(line)
			if err != nil {
				t.Fatalf("%q is not plain commands to a shell: %v\n%s", line, err, got.stderr)
			}
			// The top run.json goes last, alone, with the same options.
			var last []string
			if i := slices.Index(args, "&&"); i >= 0 {
				args, last = args[:i], args[i+1:]
			}
			root, _ := filepath.Abs(out)
			if len(args) < 6 || !slices.Equal(args[:6], []string{"aws", "s3", "cp", "--recursive", out, "s3://no-such-bucket/ssm/r9/"}) &&
				!slices.Equal(args[:6], []string{"aws", "s3", "cp", "--recursive", root, "s3://no-such-bucket/ssm/r9/"}) {
				t.Fatalf("%q: want aws s3 cp --recursive %s s3://no-such-bucket/ssm/r9/ ...", args, out)
			}
			var sse, filters [][2]string
			for i := 6; i < len(args); i++ {
				if i+1 >= len(args) {
					t.Fatalf("%q: %s without its value", args, args[i])
				}
				switch args[i] {
				case "--sse", "--sse-kms-key-id", "--expected-bucket-owner", "--acl":
					sse = append(sse, [2]string{args[i], args[i+1]})
				case "--exclude", "--include":
					filters = append(filters, [2]string{args[i], args[i+1]})
				}
				i++
			}
			var gotSSE []string
			for _, o := range sse {
				gotSSE = append(gotSSE, o[0], o[1])
			}
			if !slices.Equal(gotSSE, tt.want) {
				t.Errorf("%q: encryption %q, want %q", args, gotSSE, tt.want)
			}
			wantLast := slices.Concat([]string{"aws", "s3", "cp", filepath.Join(out, "run.json"), "s3://no-such-bucket/ssm/r9/run.json"}, tt.want, []string{"--region", "us-east-1"})
			if !slices.Equal(last, wantLast) {
				t.Errorf("%q: then %q, want %q", line, last, wantLast)
			}
			// What the AWS CLI copies: each filter's pattern joined to the
			// source's absolute path as os.path.join does (an absolute
			// pattern is taken whole) and matched with fnmatch (where *
			// crosses /), the last match deciding.
			var copied, want, hidden []string
			filepath.WalkDir(root, func(p string, d os.DirEntry, err error) error {
				if err != nil || d.IsDir() {
					return err
				}
				rel, _ := filepath.Rel(root, p)
				if strings.HasPrefix(rel, ".") || strings.Contains(rel, "/.") {
					hidden = append(hidden, rel)
				} else if rel != "notes.txt" && rel != "private/id_rsa" {
					want = append(want, rel)
				}
				in := true
				for _, f := range filters {
					pattern := f[1]
					if !filepath.IsAbs(pattern) {
						pattern = root + "/" + pattern
					}
					if fnmatch(pattern, p) {
						in = f[0] == "--include"
					}
				}
				if in {
					copied = append(copied, rel)
				}
				return nil
			})
			copied = append(copied, "run.json") // by the last command
			slices.Sort(copied)
			if !slices.ContainsFunc(hidden, func(p string) bool { return strings.HasSuffix(p, "/.baseline.jsonl") }) {
				t.Fatalf("hidden files %q: want the groups' baselines among them", hidden)
			}
			if !slices.Equal(copied, want) {
				t.Errorf("%q copies %q,\nwant every file of the run's but the hidden ones %q", args, copied, want)
			}
		})
	}
}

// fnmatch matches name against pattern as Python's fnmatch does (the AWS
// CLI's filters): * and ? match any character, / included; [...] one of
// its characters, [!...] one not among them, and a '[' without its ']'
// itself.
func fnmatch(pattern, name string) bool {
	var re strings.Builder
	re.WriteString("(?s)^")
	for i := 0; i < len(pattern); i++ {
		switch c := pattern[i]; c {
		case '*':
			re.WriteString(".*")
		case '?':
			re.WriteString(".")
		case '[':
			j := i + 1
			if j < len(pattern) && pattern[j] == '!' {
				j++
			}
			if j < len(pattern) && pattern[j] == ']' {
				j++
			}
			for j < len(pattern) && pattern[j] != ']' {
				j++
			}
			if j >= len(pattern) {
				re.WriteString(`\[`)
				continue
			}
			class := pattern[i+1 : j]
			re.WriteString("[")
			if strings.HasPrefix(class, "!") {
				re.WriteString("^")
				class = class[1:]
			}
			for _, r := range class {
				if r == '-' {
					re.WriteRune(r)
				} else {
					re.WriteString(regexp.QuoteMeta(string(r)))
				}
			}
			re.WriteString("]")
			i = j
		default:
			re.WriteString(regexp.QuoteMeta(string(c)))
		}
	}
	re.WriteString("$")
	return regexp.MustCompile(re.String()).MatchString(name)
}

// TestSignalBeforeDelivery: a signal after the reports are written and
// before they are delivered skips the delivery, and says so in the exit
// code (5: the reports are written, nobody got them) and in the commands
// that deliver them, instead of exit 0 as if the mail had gone.
func TestSignalBeforeDelivery(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\n")
	src := filepath.Join(t.TempDir(), "src")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", src, "--quiet"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "out")
	got := runCtx(ctx, nil, append([]string{"report", filepath.Join(src, "results.jsonl"), "--out", out, "--mail-to", "ops@example.com"}, ms.args...)...)
	if got.code != int(exitDelivery) {
		t.Errorf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("%d messages sent after the signal", n)
	}
	if !strings.Contains(got.stderr, "auditor mail "+out) || strings.Contains(got.stderr, "(exit 0)") {
		t.Errorf("stderr does not give the command that mails the reports, or says exit 0:\n%s", got.stderr)
	}
	if _, err := os.Stat(filepath.Join(out, "report.html")); err != nil {
		t.Error("the reports were not written whole")
	}
}

// TestSignalBeforeDeliveryOfAnInterruptedRun: when the audit itself was
// interrupted, the signal that skips the delivery leaves the exit at 3
// (which a scheduler retries with --resume, and that run delivers), and
// offers no command that would mail the partial reports.
func TestSignalBeforeDeliveryOfAnInterruptedRun(t *testing.T) {
	c := newCommand("run", io.Discard, io.Discard)
	if _, err := c.parse(t.Context(), []string{"--instance-id", "i-0123456789abcdef0", "--mail-to", "ops@example.com", "--mail-from", "a@example.com",
		"--smtp", "smtp://127.0.0.1:1", "--out", t.TempDir()}, false, io.Discard); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stderr bytes.Buffer
	if err := c.o.deliver(ctx, nil, audit.RunInfo{Interrupted: true}, nil, nil, &stderr); err != nil {
		t.Errorf("interrupted audit, signal before delivery: %v, want nil (exit 3 stands)", err)
	}
	if strings.Contains(stderr.String(), "auditor mail") || !strings.Contains(stderr.String(), "--resume") {
		t.Errorf("stderr %q: want the resume, not a mail of partial reports", stderr.String())
	}
	var de *errDelivery
	if err := c.o.deliver(ctx, nil, audit.RunInfo{Complete: true}, nil, nil, io.Discard); !errors.As(err, &de) {
		t.Errorf("whole audit, signal before delivery: %v, want a delivery error (exit 5)", err)
	}
	// auditor report delivers what it merged, an interrupted input or not:
	// no resume of its own delivers it.
	c.o.merging = true
	if err := c.o.deliver(ctx, nil, audit.RunInfo{Interrupted: true}, nil, nil, io.Discard); !errors.As(err, &de) {
		t.Errorf("report of an interrupted run, signal before delivery: %v, want a delivery error (exit 5)", err)
	}
}

// TestMailAnEmptyShard: auditor mail of a shard's directory that holds no
// results (no target fell in that shard) is refused, not a mail of
// nothing.
func TestMailAnEmptyShard(t *testing.T) {
	dir := t.TempDir()
	os.WriteFile(filepath.Join(dir, audit.ResultsFile), nil, 0o644)
	if err := writeJSON(filepath.Join(dir, audit.RunFile), audit.RunInfo{Schema: audit.Schema, Complete: true, Parts: []audit.Part{{Fleet: "f", Shard: "1/2"}}}); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", "mail", dir, "--to", "ops@example.com", "--mail-from", "a@example.com", "--smtp", "smtp://127.0.0.1:1")
	if got.code != 2 || !strings.Contains(got.stderr, "no results") {
		t.Errorf("mail of an empty shard: exit %d, want 2\n%s", got.code, got.stderr)
	}
}

// TestNothingFoundIsReported: a discovery that finds no node (a filter that
// matches none) is a complete audit of nothing, and says so like any other:
// every report is written and the mail goes, instead of run.json alone and
// silence.
func TestNothingFoundIsReported(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ssmsim.NewFleet(ssmsim.FleetConfig{Seed: 8, Size: 20}), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--discover", "--filter", "Key=tag:Env,Values=no-such-env", "--endpoint-url", url,
		"--region", "us-east-1", "--out", out, "--quiet", "--mail-to", "ops@example.com"}, ms.args...)...)
	if got.code != 0 {
		t.Fatalf("exit %d, want 0\n%s", got.code, got.stderr)
	}
	for _, f := range []string{"report.html", "summary.json", "instances.csv", "report.xlsx"} {
		if _, err := os.Stat(filepath.Join(out, f)); err != nil {
			t.Errorf("%s: %v", f, err)
		}
	}
	if msgs := ms.srv.Messages(); len(msgs) != 1 {
		t.Errorf("%d messages, want 1\n%s", len(msgs), got.stderr)
	}
	// Its mail can be sent again, as the command printed after a failed
	// delivery does.
	if again := runCLI(t, "", append([]string{"mail", out, "--to", "ops@example.com"}, ms.args...)...); again.code != 0 || len(ms.srv.Messages()) != 2 {
		t.Errorf("auditor mail of the run: exit %d, %d messages in all, want 0 and 2\n%s", again.code, len(ms.srv.Messages()), again.stderr)
	}
	// Shards that found nothing merge into reports of nothing, mailed too.
	var shards []string
	for k := range 2 {
		dir := filepath.Join(t.TempDir(), fmt.Sprintf("shard-%d", k))
		got := runCLI(t, "", "run", "--discover", "--filter", "Key=tag:Env,Values=no-such-env", "--endpoint-url", url,
			"--region", "us-east-1", "--out", dir, "--quiet", "--shard", fmt.Sprintf("%d/2", k))
		if got.code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", k, got.code, got.stderr)
		}
		shards = append(shards, filepath.Join(dir, "results.jsonl"))
	}
	merged := filepath.Join(t.TempDir(), "merged")
	got = runCLI(t, "", append(append([]string{"report"}, shards...), append([]string{"--out", merged, "--mail-to", "ops@example.com"}, ms.args...)...)...)
	if got.code != 0 {
		t.Fatalf("merge: exit %d\n%s", got.code, got.stderr)
	}
	if _, err := os.Stat(filepath.Join(merged, "report.html")); err != nil {
		t.Errorf("merge: %v", err)
	}
	if n := len(ms.srv.Messages()); n != 3 {
		t.Errorf("merge: %d messages in all, want 3\n%s", n, got.stderr)
	}
	if again := runCLI(t, "", append([]string{"mail", merged, "--to", "ops@example.com"}, ms.args...)...); again.code != 0 {
		t.Errorf("auditor mail of the merge: exit %d\n%s", again.code, again.stderr)
	}
	if again := runCLI(t, "", append([]string{"mail", filepath.Dir(shards[0]), "--to", "ops@example.com"}, ms.args...)...); again.code != 2 {
		t.Errorf("auditor mail of an empty shard: exit %d, want 2 (its reports are the merge's)\n%s", again.code, again.stderr)
	}
}

// TestMailServerDownStopsTheGroups: with a mail for each owner, a server
// that refuses the login (or cannot be reached, or hangs: minutes for each
// group) fails the first group and is not tried again for every other
// one; the command printed mails the whole run again once it is fixed.
func TestMailServerDownStopsTheGroups(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	t.Setenv(envSMTPPassword, "not-the-password")
	list := writeFile(t, "fleet.csv", "instance_id,owner_email\ni-0123456789abcdef0,alice@example.com\ni-0123456789abcdef1,bob@example.com\ni-0000000000000dead,carol@example.com\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 5 {
		t.Fatalf("exit %d, want 5\n%s", got.code, got.stderr)
	}
	if n := ms.srv.Connections(); n != 1 {
		t.Errorf("%d connections to a server that refused the login, want 1 (not one for each of 3 groups)\n%s", n, got.stderr)
	}
	if args := retryCommand(t, got.stderr); !slices.Contains(args, "--mail-to-label") {
		t.Errorf("%q: want the whole run mailed again by --mail-to-label", args)
	}
}

// TestMailServerFailsAfterAGroup: the server fails after the first
// group's mail went: the next group's fails, the ones after it are not
// tried, and the command printed for each mails that group alone, to its
// own addresses, once the server is back.
func TestMailServerFailsAfterAGroup(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	// The first connection reaches the server; later ones reach another,
	// whose certificate the bundle does not trust: a failure of the server
	// itself, at once.
	other := smtptest.NewServer(t, smtptest.Options{})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for n := 0; ; n++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			to := ms.srv.Addr
			if n > 0 {
				to = other.Addr
			}
			s, err := net.Dial("tcp", to)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(s, c); s.Close() }()
			go func() { io.Copy(c, s); c.Close() }()
		}
	}()
	args := slices.Clone(ms.args)
	args[slices.Index(args, "--smtp")+1] = "smtp://" + ln.Addr().String()
	list := writeFile(t, "fleet.csv", "instance_id,owner_email\ni-0123456789abcdef0,alice@example.com\ni-0123456789abcdef1,bob@example.com\ni-0000000000000dead,carol@example.com\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--mail-to-label", "owner_email"}, args...)...)
	if got.code != 5 || len(ms.srv.Messages()) != 1 {
		t.Fatalf("exit %d, %d messages; want 5 and alice's\n%s", got.code, len(ms.srv.Messages()), got.stderr)
	}
	if n := other.Connections(); n != 1 {
		t.Errorf("%d connections to the failing server, want 1: carol's group is not tried\n%s", n, got.stderr)
	}
	var hints [][]string
	for _, line := range strings.Split(got.stderr, "\n") {
		if _, h, ok := strings.Cut(line, "once fixed, deliver them with: "); ok {
			words, err := shellWords(h)
			if err != nil {
				t.Fatal(err)
			}
			hints = append(hints, words)
		}
	}
	if len(hints) != 2 {
		t.Fatalf("%d commands to mail again, want bob's and carol's\n%s", len(hints), got.stderr)
	}
	for _, words := range hints {
		words[slices.Index(words, "--smtp")+1] = "smtp://" + ms.srv.Addr // the server is back
		before := len(ms.srv.Messages())
		again := runCLI(t, "", words[1:]...)
		msgs := ms.srv.Messages()
		if again.code != 0 || len(msgs) != before+1 || len(msgs[before].To) != 1 || !slices.Contains(words, msgs[before].To[0]) {
			t.Errorf("%q: exit %d, want one message to the address it names\n%s", words, again.code, again.stderr)
		}
	}
}

// TestMailWhenChangesEachOwner: with --mail-when changes and a mail for
// each owner, only the owners whose own instances changed are mailed: the
// run as a whole changed, but bob's group did not.
func TestMailWhenChangesEachOwner(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ms := newMailSetup(t, smtptest.Options{})
	list := writeFile(t, "fleet.csv", "instance_id,owner_email\ni-0123456789abcdef0,alice@example.com\ni-0123456789abcdef1,bob@example.com\n")
	root := t.TempDir()
	before, _ := serve(t, handFleet(true), ssmsim.Options{})
	if got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", before, "--region", "us-east-1", "--out", filepath.Join(root, "w1"), "--quiet"); got.code != 1 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	// Week 2: alice's failure is resolved; bob's instance is as it was.
	after, _ := serve(t, handFleet(false), ssmsim.Options{})
	got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", after, "--region", "us-east-1", "--out", filepath.Join(root, "w2"), "--quiet",
		"--baseline", filepath.Join(root, "w1"), "--mail-when", "changes", "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 0 {
		t.Fatalf("week 2: exit %d\n%s", got.code, got.stderr)
	}
	msgs := ms.srv.Messages()
	if len(msgs) != 1 || !slices.Equal(msgs[0].To, []string{"alice@example.com"}) {
		var to [][]string
		for _, m := range msgs {
			to = append(to, m.To)
		}
		t.Errorf("mailed %q, want alice alone (bob's instance did not change)\n%s", to, got.stderr)
	}
}

// TestMailTheOwnerOfAVanishedInstance: an owner whose instances are all
// gone since the baseline has a group of their own (its reports say they
// are gone) and is mailed it, at the addresses their instances had then.
func TestMailTheOwnerOfAVanishedInstance(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ms := newMailSetup(t, smtptest.Options{})
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	root := t.TempDir()
	w1 := writeFile(t, "w1.csv", "instance_id,owner_email\ni-0123456789abcdef0,alice@example.com\ni-0123456789abcdef1,bob@example.com\n")
	if got := runCLI(t, "", "run", "--instances", w1, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(root, "w1"), "--quiet"); got.code != 1 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	// Week 2: bob's instance has left the list.
	w2 := writeFile(t, "w2.csv", "instance_id,owner_email\ni-0123456789abcdef0,alice@example.com\n")
	got := runCLI(t, "", append([]string{"run", "--instances", w2, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(root, "w2"), "--quiet",
		"--baseline", filepath.Join(root, "w1"), "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 1 {
		t.Fatalf("week 2: exit %d\n%s", got.code, got.stderr)
	}
	var bob *smtptest.Message
	for _, m := range ms.srv.Messages() {
		if slices.Equal(m.To, []string{"bob@example.com"}) {
			bob = &m
		}
	}
	if bob == nil {
		t.Fatalf("bob, whose instance is gone, got no mail\n%s", got.stderr)
	}
	if !bytes.Contains(bob.Data, []byte("i-0123456789abcdef1")) {
		t.Error("bob's mail does not name his instance that is gone")
	}
}

// ownersFleet is a fleet of three owners' instances, alice's, bob's and
// carol's in that order, those named failing an association.
func ownersFleet(failing ...string) *ssmsim.Fleet {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	d := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	for i, owner := range []string{"alice", "bob", "carol"} {
		id := fmt.Sprintf("i-00000000000000%c01", 'a'+i)
		status := "Success"
		if slices.Contains(failing, owner) {
			status = "Failed"
		}
		f.Add(ssmsim.Instance{InstanceID: id, Associations: []ssmsim.Association{
			{AssociationID: fmt.Sprintf("%08d-1111-1111-1111-111111111111", i), Name: "AWS-RunPatchBaseline", InstanceID: id, Status: status, DetailedStatus: status, ExecutionDate: d},
		}})
	}
	return f
}

const ownersList = "instance_id,owner,owner_email\ni-00000000000000a01,alice,alice@example.com\ni-00000000000000b01,bob,bob@example.com\ni-00000000000000c01,carol,carol@example.com\n"

// retryCommands returns every command that stderr says delivers again, as
// a shell splits it.
func retryCommands(t *testing.T, stderr string) [][]string {
	t.Helper()
	return commandsAfter(t, stderr, "once fixed, deliver them with: ")
}

// runRetries runs each command that stderr says delivers again, and
// returns the recipients of the mail they sent, in the order sent.
func runRetries(t *testing.T, ms mailSetup, stderr string) []string {
	t.Helper()
	var mailed []string
	for _, words := range retryCommands(t, stderr) {
		before := len(ms.srv.Messages())
		if again := runCLI(t, "", words[1:]...); again.code != 0 {
			t.Fatalf("%q: exit %d\n%s", words, again.code, again.stderr)
		}
		for _, m := range ms.srv.Messages()[before:] {
			mailed = append(mailed, m.To...)
		}
	}
	return mailed
}

// commandsAfter returns the command that follows marker on each line of
// stderr that has it, as a shell splits it.
func commandsAfter(t *testing.T, stderr, marker string) [][]string {
	t.Helper()
	var cmds [][]string
	for _, line := range strings.Split(stderr, "\n") {
		if _, h, ok := strings.Cut(line, marker); ok {
			words, err := shellWords(h)
			if err != nil {
				t.Fatalf("%s\nis not one plain command to a shell: %v", h, err)
			}
			cmds = append(cmds, words)
		}
	}
	return cmds
}

// TestMailRetryOnlyWhatWasDue: with a mail for each owner, the commands
// printed after a failure mail exactly the groups that were due and not
// mailed: never a group that --mail-when held back (auditor mail has no
// --mail-when to hold it back again), nor one that got its mail.
func TestMailRetryOnlyWhatWasDue(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	week1, _ := serve(t, ownersFleet("alice", "bob", "carol"), ssmsim.Options{})
	list := writeFile(t, "fleet.csv", ownersList)
	root := t.TempDir()
	if got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", week1, "--region", "us-east-1", "--out", filepath.Join(root, "w1"), "--quiet"); got.code != 1 {
		t.Fatalf("week 1: exit %d\n%s", got.code, got.stderr)
	}
	for _, tt := range []struct {
		name    string
		failing []string // this run's failing owners
		args    []string
		// down refuses the login; refuse refuses the DATA of this
		// transaction (from 1).
		down     bool
		refuse   int
		wantCode int
		want     []string // the owners the commands mail, one each
	}{
		{"changes, one owner due, the server down", []string{"alice", "carol"},
			[]string{"--baseline", filepath.Join(root, "w1"), "--mail-when", "changes"}, true, 0, 5, []string{"bob"}},
		{"findings, the server down: a due group not tried", []string{"alice", "carol"},
			[]string{"--mail-when", "findings"}, true, 0, 5, []string{"alice", "carol"}},
		{"findings, one refused, one sent", []string{"alice", "carol"},
			[]string{"--mail-when", "findings"}, false, 1, 5, []string{"alice"}},
		{"findings, nothing due", nil,
			[]string{"--mail-when", "findings"}, true, 0, 0, nil},
		{"always, the server down", nil,
			nil, true, 0, 5, []string{"alice", "bob", "carol"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ms, refuse := refusingMail(t, tt.refuse)
			if tt.down {
				t.Setenv(envSMTPPassword, "not-the-password")
			}
			url, _ := serve(t, ownersFleet(tt.failing...), ssmsim.Options{})
			out := filepath.Join(root, strings.ReplaceAll(tt.name, " ", "-"))
			got := runCLI(t, "", append(append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, tt.args...), ms.args...)...)
			if got.code != tt.wantCode {
				t.Fatalf("exit %d, want %d\n%s", got.code, tt.wantCode, got.stderr)
			}
			sent := len(ms.srv.Messages())
			cmds := retryCommands(t, got.stderr)

			// The server is back: each command mails its own group alone.
			t.Setenv(envSMTPPassword, "s3cret-pass")
			refuse(0)
			var mailed []string
			for _, words := range cmds {
				if len(words) < 3 || words[0] != "auditor" || words[1] != "mail" {
					t.Fatalf("%q: want auditor mail DIR ...", words)
				}
				before := len(ms.srv.Messages())
				again := runCLI(t, "", words[1:]...)
				if again.code != 0 {
					t.Fatalf("%q: exit %d\n%s", words, again.code, again.stderr)
				}
				for _, m := range ms.srv.Messages()[before:] {
					for _, to := range m.To {
						mailed = append(mailed, strings.TrimSuffix(to, "@example.com"))
					}
				}
			}
			slices.Sort(mailed)
			if !slices.Equal(mailed, tt.want) {
				t.Errorf("the %d commands mailed %q, want %q (sent before: %d)\n%s", len(cmds), mailed, tt.want, sent, got.stderr)
			}
		})
	}
}

// TestSignalBeforeDeliveryEachOwner: a signal before a mail for each owner
// prints commands that mail the groups that were due, not those that
// --mail-when held back.
func TestSignalBeforeDeliveryEachOwner(t *testing.T) {
	ms, got := splitSignalledBeforeDelivery(t, ownersFleet("alice", "carol"), ownersList, "--mail-when", "findings")
	mailed := runRetries(t, ms, got.stderr)
	slices.Sort(mailed)
	if want := []string{"alice@example.com", "carol@example.com"}; !slices.Equal(mailed, want) {
		t.Errorf("the commands mailed %q, want %q (bob's group has no finding)\n%s", mailed, want, got.stderr)
	}
}

// refusingMail is a mail set-up whose server refuses, for good, the DATA of
// its refuse-th transaction (none for 0); set changes which.
func refusingMail(t *testing.T, refuse int) (ms mailSetup, set func(int)) {
	t.Helper()
	var mu sync.Mutex
	ms = newMailSetup(t, smtptest.Options{Reject: func(stage smtptest.Stage, n int) *smtptest.Reply {
		mu.Lock()
		defer mu.Unlock()
		if stage == smtptest.StageData && n == refuse {
			return &smtptest.Reply{Code: 554, Message: "5.6.0 message refused"}
		}
		return nil
	}})
	return ms, func(n int) {
		mu.Lock()
		defer mu.Unlock()
		refuse = n
	}
}

// TestMailOwnersWhoseNamesClash: two owners whose directory names clash
// (anyone who may set a tag or a list cell can find such a pair) stopped
// every report and every mail: exit 4, "directory not writable", nobody
// mailed, not even the other owners or --mail-to. Each owner now gets their
// own, and so does --mail-to.
func TestMailOwnersWhoseNamesClash(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("alice"), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	list := writeFile(t, "coll.csv", "instance_id,owner,owner_email\n"+
		"i-00000000000000a01,payments,pay@example.com\n"+
		"i-00000000000000b01,Team ).#..,x@example.com\n"+
		"i-00000000000000c01,Team #+$!$+,y@example.com\n")
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--split-by", "owner", "--mail-to-label", "owner_email", "--mail-to", "ops@example.com"}, ms.args...)...)
	if got.code != 1 {
		t.Fatalf("exit %d, want 1 (findings; every report written and mailed)\n%s", got.code, got.stderr)
	}
	want := map[string]string{ // recipient → the instance its mail is about
		"pay@example.com": "i-00000000000000a01",
		"x@example.com":   "i-00000000000000b01",
		"y@example.com":   "i-00000000000000c01",
		"ops@example.com": "",
	}
	got2 := map[string]bool{}
	for _, m := range ms.srv.Messages() {
		for _, to := range m.To {
			got2[to] = true
			id, ok := want[to]
			if !ok {
				t.Errorf("mailed %s", to)
				continue
			}
			for _, other := range want {
				if other != "" && id != "" && other != id && bytes.Contains(m.Data, []byte(other)) {
					t.Errorf("%s's mail names %s, another owner's instance", to, other)
				}
			}
		}
	}
	if len(got2) != len(want) {
		t.Errorf("mailed %v, want each of %v\n%s", slices.Sorted(maps.Keys(got2)), slices.Sorted(maps.Keys(want)), got.stderr)
	}
}

// TestSplitFailsAfterTheAudit: a split that fails for want of its
// directory (made by someone else while the run audited) is not reported
// as a directory not writable, and the run's own reports, whole, are
// still delivered; the owners', not written, are not. A delivery that
// fails then is told, with the command that delivers again, though the
// exit is the split's.
func TestSplitFailsAfterTheAudit(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	var mu sync.Mutex
	var split string // made at the run's first call
	url, _, _ := serveLogged(t, ownersFleet("alice"), func(w http.ResponseWriter, r wireReq) bool {
		mu.Lock()
		defer mu.Unlock()
		if r.op == "DescribeInstanceAssociationsStatus" && split != "" {
			os.MkdirAll(split, 0o777)
			os.WriteFile(filepath.Join(split, "keep.txt"), []byte("x"), 0o644)
			split = ""
		}
		return false
	})
	list := writeFile(t, "fleet.csv", ownersList)
	for _, refused := range []bool{false, true} {
		t.Run(fmt.Sprintf("mail refused %v", refused), func(t *testing.T) {
			ms, _ := refusingMail(t, map[bool]int{true: 1}[refused])
			out := filepath.Join(t.TempDir(), "out")
			mu.Lock()
			split = report.SplitDir(out, "owner")
			mu.Unlock()
			got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
				"--split-by", "owner", "--mail-to-label", "owner_email", "--mail-to", "ops@example.com"}, ms.args...)...)
			if got.code != 4 {
				t.Fatalf("exit %d, want 4 (the owners' reports could not be written)\n%s", got.code, got.stderr)
			}
			if !strings.Contains(got.stderr, "was not made by a split") || strings.Contains(got.stderr, "not writable") {
				t.Errorf("stderr does not say why the split failed, or calls it a directory not writable:\n%s", got.stderr)
			}
			if b, err := os.ReadFile(filepath.Join(report.SplitDir(out, "owner"), "keep.txt")); err != nil || string(b) != "x" {
				t.Errorf("keep.txt: %q, %v: the split replaced a file it did not make", b, err)
			}
			var to []string
			for _, m := range ms.srv.Messages() {
				to = append(to, m.To...)
			}
			if refused {
				if len(to) != 0 || !strings.Contains(got.stderr, "once fixed, deliver them with: auditor mail "+out+" --to ops@example.com") {
					t.Errorf("mailed %q; want the refused mail told, with its command\n%s", to, got.stderr)
				}
				return
			}
			if !slices.Equal(to, []string{"ops@example.com"}) {
				t.Errorf("mailed %q, want the run's own reports to ops@example.com alone\n%s", to, got.stderr)
			}
		})
	}
}

// taggedFleet is a fleet of four instances with a Team and an Email tag:
// alpha's two, beta's one, and one without a Team tag whose Email tag is
// the attacker's (anyone who may tag an instance may tag theirs).
func taggedFleet() (*ssmsim.Fleet, string) {
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	d := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	tags := []map[string]string{
		{"Team": "alpha", "Email": "alpha@example.com"},
		{"Team": "alpha", "Email": "alpha@example.com"},
		{"Team": "beta", "Email": "beta@example.com"},
		{"Email": "attacker@evil.example"},
	}
	var ids strings.Builder
	for i, tt := range tags {
		id := fmt.Sprintf("i-%017x", i+1)
		ids.WriteString(id + "\n")
		f.Add(ssmsim.Instance{InstanceID: id, Tags: tt, Associations: []ssmsim.Association{
			{AssociationID: fmt.Sprintf("%08d-1111-1111-1111-111111111111", i), Name: "AWS-RunPatchBaseline", InstanceID: id, Status: "Failed", DetailedStatus: "Failed", ExecutionDate: d},
		}})
	}
	return f, ids.String()
}

// TestMailNobodysGroup: the group of the instances without the split label
// is nobody's: it was mailed to every address among them, so that a split
// label no instance had (its case not the tag's) sent the whole fleet's
// report to every owner, and anyone who took the split tag off their own
// instance and set an Email tag got every untagged instance's. It now goes
// to --mail-to, the run's own recipients, or to nobody, and the run says
// so; a split label that no instance has is warned of.
func TestMailNobodysGroup(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f, ids := taggedFleet()
	url, _ := serve(t, f, ssmsim.Options{})
	t.Setenv("AWS_ENDPOINT_URL_EC2", url)
	list := writeFile(t, "ids.txt", ids)
	// Only one of four instances has an owner in this list.
	owners := writeFile(t, "owners.csv", "instance_id,owner\ni-00000000000000001,alpha\ni-00000000000000002,\ni-00000000000000003,\ni-00000000000000004,\n")
	for _, tt := range []struct {
		name, list, splitBy string
		mailTo              bool
		want                map[string]int // messages to each
		warn, notWarn       []string       // on stderr
	}{
		{"a label no instance has", list, "tag:team", false, map[string]int{},
			[]string{`no instance has the label "tag:team"`, `the labels they have: tag:Email, tag:Team`, `not mailed by --mail-to-label`}, nil},
		{"a label no instance has, and --mail-to", list, "tag:team", true, map[string]int{"ops@example.com": 2},
			[]string{`no instance has the label "tag:team"`}, []string{`not mailed by --mail-to-label`}},
		{"an instance without the label", list, "tag:Team", false, map[string]int{"alpha@example.com": 1, "beta@example.com": 1},
			[]string{`not mailed by --mail-to-label`}, []string{"have no label", "no instance has"}},
		{"an instance without the label, and --mail-to", list, "tag:Team", true, map[string]int{"alpha@example.com": 1, "beta@example.com": 1, "ops@example.com": 2},
			nil, []string{`not mailed by --mail-to-label`}},
		{"most instances without the label", owners, "owner", false, map[string]int{"alpha@example.com": 1},
			[]string{`3 of 4 instances have no label "owner"`, `not mailed by --mail-to-label`}, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ms := newMailSetup(t, smtptest.Options{})
			args := []string{"run", "--instances", tt.list, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"),
				"--tag-labels", "Team,Email", "--split-by", tt.splitBy, "--mail-to-label", "tag:Email", "--fail-on", "none", "--quiet"}
			if tt.mailTo {
				args = append(args, "--mail-to", "ops@example.com")
			}
			got := runCLI(t, "", append(args, ms.args...)...)
			if got.code != 0 {
				t.Fatalf("exit %d\n%s", got.code, got.stderr)
			}
			mailed := map[string]int{}
			for _, m := range ms.srv.Messages() {
				for _, to := range m.To {
					mailed[to]++
				}
			}
			if !maps.Equal(mailed, tt.want) {
				t.Errorf("mailed %v, want %v\n%s", mailed, tt.want, got.stderr)
			}
			for _, w := range tt.warn {
				if !strings.Contains(got.stderr, w) {
					t.Errorf("stderr does not say %s (warnings are not kept quiet):\n%s", w, got.stderr)
				}
			}
			for _, w := range tt.notWarn {
				if strings.Contains(got.stderr, w) {
					t.Errorf("stderr says %s:\n%s", w, got.stderr)
				}
			}
		})
	}
}

// TestNobodysGroupWarningNamesTheFlag: the warning that the group of no
// value is not mailed names the flag that would mail it in the command in
// use: auditor mail said "--mail-to would mail them", a flag it does not
// take ("unknown flag"); its own is --to.
func TestNobodysGroupWarningNamesTheFlag(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, ownersFleet("alice"), ssmsim.Options{})
	list := writeFile(t, "fleet.csv", "instance_id,owner,owner_email\ni-00000000000000a01,alice,alice@example.com\ni-00000000000000b01,bob,bob@example.com\ni-00000000000000c01,,carol@example.com\n")
	ms := newMailSetup(t, smtptest.Options{})
	out := filepath.Join(t.TempDir(), "out")
	got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet",
		"--fail-on", "none", "--split-by", "owner", "--mail-to-label", "owner_email"}, ms.args...)...)
	// One instance has no owner: the warning counts it and names its group
	// by the value it lacks, not in a riddle ("no owner's").
	if got.code != 0 || !strings.Contains(got.stderr, "1 instance with no \"owner\" value (group none-") ||
		!strings.Contains(got.stderr, "): not mailed by --mail-to-label, which mails owners; add --mail-to ADDRESSES to mail them") {
		t.Fatalf("run: exit %d, want 0 warning that --mail-to would mail the group of no value\n%s", got.code, got.stderr)
	}
	got = runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 0 || !strings.Contains(got.stderr, "; add --to ADDRESSES to mail them") || strings.Contains(got.stderr, "--mail-to ") {
		t.Errorf("mail: exit %d, want 0 warning that --to (its own flag) would mail the group of no value\n%s", got.code, got.stderr)
	}
}

// TestSignalBeforeDeliveryNobodysGroup: after a signal before the mail of
// each owner and of --mail-to, the commands printed mail the group of no
// value to --mail-to (the whole run's by --mail-to-label would mail it to
// nobody), and never to the address among its instances.
func TestSignalBeforeDeliveryNobodysGroup(t *testing.T) {
	ms, got := splitSignalledBeforeDelivery(t, ownersFleet("alice"),
		"instance_id,owner,owner_email\ni-00000000000000a01,alice,alice@example.com\ni-00000000000000b01,bob,bob@example.com\ni-00000000000000c01,,carol@example.com\n",
		"--mail-to", "ops@example.com")
	mailed := map[string]int{}
	for _, to := range runRetries(t, ms, got.stderr) {
		mailed[to]++
	}
	// ops: the whole run, and the group of no value.
	if want := map[string]int{"alice@example.com": 1, "bob@example.com": 1, "ops@example.com": 2}; !maps.Equal(mailed, want) {
		t.Errorf("the commands mailed %v, want %v\n%s", mailed, want, got.stderr)
	}
}

// TestMailAddressWithFormatCharacters: net/mail takes an address that
// holds a format character (U+202E RIGHT-TO-LEFT OVERRIDE, a zero-width
// space), which reads as another address and is not it: an Email tag
// "ops@example.com" followed by U+202E was mailed the group's report and
// logged raw. It is refused, and the run says which instance, its line in
// the list and which label, the character escaped (as the tag's value is
// written, audit.EscapeLabel) and why; the group's other
// addresses are mailed. So is one with a no-break space or a line
// separator (U+2028, from a spreadsheet's cell). A tag is where such a value still comes from
// (anyone who may tag an instance sets one); a list cell holding one is
// refused with the list (TestOwnersUnseenCharacters).
func TestMailAddressWithFormatCharacters(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	f := ssmsim.NewFleet(ssmsim.FleetConfig{})
	d := time.Date(2026, 11, 24, 8, 0, 0, 0, time.UTC)
	var ids strings.Builder
	for i, tags := range []map[string]string{
		{"Owner": "alice", "Email": "alice@example.com"},
		{"Owner": "alice", "Email": "ops@example.com\u202e"},
		{"Owner": "carol", "Email": "carol@exam\u200bple.com"},
		{"Owner": "dave", "Email": "dave\u00a0@example.com"},
		{"Owner": "erin", "Email": "erin@exa\u2028mple.com"},
	} {
		id := fmt.Sprintf("i-00000000000000%c01", 'a'+i)
		ids.WriteString(id + "\n")
		f.Add(ssmsim.Instance{InstanceID: id, Tags: tags, Associations: []ssmsim.Association{
			{AssociationID: fmt.Sprintf("%08d-1111-1111-1111-111111111111", i), Name: "AWS-RunPatchBaseline", InstanceID: id, Status: "Success", DetailedStatus: "Success", ExecutionDate: d},
		}})
	}
	url, _ := serve(t, f, ssmsim.Options{})
	t.Setenv("AWS_ENDPOINT_URL_EC2", url)
	ms := newMailSetup(t, smtptest.Options{})
	list := writeFile(t, "ids.txt", ids.String())
	got := runCLI(t, "", append([]string{"run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", filepath.Join(t.TempDir(), "out"),
		"--tag-labels", "Owner,Email", "--split-by", "tag:Owner", "--mail-to-label", "tag:Email", "--fail-on", "none"}, ms.args...)...)
	// carol's group, whose only address is refused, is not mailed: a
	// failed delivery (exit 5), as any group whose values are all refused.
	if got.code != 5 || !strings.Contains(got.stderr, "carol: not mailed") || !strings.Contains(got.stderr, "dave: not mailed") || !strings.Contains(got.stderr, "erin: not mailed") {
		t.Fatalf("exit %d, want 5 naming the groups of carol, dave and erin\n%s", got.code, got.stderr)
	}
	var to []string
	for _, m := range ms.srv.Messages() {
		to = append(to, m.To...)
	}
	if !slices.Equal(to, []string{"alice@example.com"}) {
		t.Errorf("mailed %q, want alice@example.com alone\n%s", to, got.stderr)
	}
	// A tag's value is written escaped (TestTagLabelsUnseen), and so is
	// quoted with its backslash doubled; the message says why it is no
	// address.
	for _, want := range []string{`ids.txt:2`, `tag:Email "ops@example.com\\u202e"`, `ids.txt:3`, `tag:Email "carol@exam\\u200bple.com"`,
		`ids.txt:4 (i-00000000000000d01): tag:Email "dave\\u00a0@example.com"`, `ids.txt:5 (i-00000000000000e01): tag:Email "erin@exa\\u2028mple.com"`,
		"does not show as itself", "fix the tag"} {
		if !strings.Contains(got.stderr, want) {
			t.Errorf("stderr does not say %s:\n%s", want, got.stderr)
		}
	}
	if strings.ContainsAny(got.stderr, "\u202e\u200b\u00a0\u2028") {
		t.Errorf("stderr holds a format character, a no-break space or a line separator as it is:\n%q", got.stderr)
	}
}

// TestMailViaSESRefused: a message SES refuses is a failed delivery (exit
// 5, SES's reason on stderr), and one it takes is sent once. The refusal
// was dropped (a shadowed error): "mailed the reports to ...", exit 0.
func TestMailViaSESRefused(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	var mu sync.Mutex
	refuse, sent := true, 0
	ses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		if refuse {
			w.Header().Set("X-Amzn-ErrorType", "MessageRejected")
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"message": "Email address is not verified."}`)
			return
		}
		sent++
		fmt.Fprint(w, `{"MessageId": "m-1"}`)
	}))
	defer ses.Close()
	t.Setenv("AWS_ENDPOINT_URL_SESV2", ses.URL)
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	mail := []string{"mail", out, "--to", "ops@example.com", "--mail-from", "auditor@example.com", "--mail-via", "ses", "--region", "us-east-1"}
	got := runCLI(t, "", mail...)
	if got.code != 5 || !strings.Contains(got.stderr, "not verified") || strings.Contains(got.stderr, "mailed the reports") {
		t.Errorf("SES refused: exit %d, want 5 with SES's reason and no word of a mail sent\n%s", got.code, got.stderr)
	}
	mu.Lock()
	refuse = false
	mu.Unlock()
	if got := runCLI(t, "", mail...); got.code != 0 || sent != 1 {
		t.Errorf("SES took it: exit %d, %d sent, want 0 and 1\n%s", got.code, sent, got.stderr)
	}
}

// TestMailOfASplitStoppedMidway: auditor mail --mail-to-label of a run whose
// split was stopped before its index (written last) mailed the groups that
// were there, or none, without a word, and exited 0; it is a failed
// delivery that says how to render the split again, and mails no one.
func TestMailOfASplitStoppedMidway(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(true), ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	list := writeFile(t, "fleet.csv", "instance_id,owner_email\ni-0123456789abcdef0,alice@example.com\ni-0123456789abcdef1,bob@example.com\n")
	out := filepath.Join(t.TempDir(), "out")
	if got := runCLI(t, "", "run", "--instances", list, "--endpoint-url", url, "--region", "us-east-1", "--out", out, "--quiet", "--fail-on", "none", "--split-by", "owner_email"); got.code != 0 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	if err := os.Remove(filepath.Join(report.SplitDir(out, "owner_email"), report.SplitIndex)); err != nil {
		t.Fatal(err)
	}
	got := runCLI(t, "", append([]string{"mail", out, "--mail-to-label", "owner_email"}, ms.args...)...)
	if got.code != 5 || !strings.Contains(got.stderr, "--split-by owner_email") {
		t.Errorf("exit %d, want 5 saying how to split again\n%s", got.code, got.stderr)
	}
	if n := len(ms.srv.Messages()); n != 0 {
		t.Errorf("%d messages from a split stopped midway, want none\n%s", n, got.stderr)
	}
}

// splitSignalledBeforeDelivery audits fleet from the list (CSV text), then
// renders its record again split by owner and mailed to each owner_email,
// with extra flags, under a signal that came before the delivery began: it
// returns the mail set-up and that report's result, exit 5 checked.
func splitSignalledBeforeDelivery(t *testing.T, fleet *ssmsim.Fleet, list string, extra ...string) (mailSetup, cliResult) {
	t.Helper()
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, fleet, ssmsim.Options{})
	ms := newMailSetup(t, smtptest.Options{})
	src := filepath.Join(t.TempDir(), "src")
	if got := runCLI(t, "", "run", "--instances", writeFile(t, "fleet.csv", list), "--endpoint-url", url, "--region", "us-east-1", "--out", src, "--quiet"); got.code != 1 {
		t.Fatalf("run: exit %d\n%s", got.code, got.stderr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	out := filepath.Join(t.TempDir(), "out")
	args := append([]string{"report", filepath.Join(src, "results.jsonl"), "--out", out, "--fail-on", "none",
		"--split-by", "owner", "--mail-to-label", "owner_email"}, extra...)
	got := runCtx(ctx, nil, append(args, ms.args...)...)
	if got.code != int(exitDelivery) {
		t.Fatalf("exit %d, want %d\n%s", got.code, exitDelivery, got.stderr)
	}
	return ms, got
}

// TestUploadAgainWithTheAWSCLI: the command that uploads again, run by the
// AWS CLI itself (--dryrun, to an endpoint that is not listening), copies
// the files written and no other, whatever the output directory is named:
// the CLI joins each filter's pattern to the directory's absolute path,
// unquoted, so a '[' in that path made every pattern miss and every file
// go, and a '*' let an --include reach further down.
func TestUploadAgainWithTheAWSCLI(t *testing.T) {
	aws, err := exec.LookPath("aws")
	if err != nil {
		if os.Getenv("AUDITOR_REQUIRE_AWSCLI") != "" {
			t.Fatal("aws CLI not on PATH, and AUDITOR_REQUIRE_AWSCLI is set: CI must run the upload command through it")
		}
		t.Skip("no aws command to run the upload command with (Debian: apt-get install awscli)")
	}
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	t.Setenv("AWS_DEFAULT_REGION", "us-east-1")
	t.Setenv("HOME", t.TempDir())
	dir := t.TempDir()
	t.Chdir(dir)
	// What the run wrote, a --split-by group whole.
	ours := []string{"results.csv", "report.html", "run.json", "by-owner/alice/report.html", "by-owner/alice/run.json"}
	// The run's hidden files, which the upload leaves out, and the user's
	// own: a file beside the reports, and one that an --include of
	// results.csv joined to a path with a '*' would match.
	theirs := []string{".auditor.lock", "by-owner/alice/.baseline.jsonl", "notes.txt", "private/b/results.csv"}
	for _, out := range []string{"reports", "reports[prod]", "a*b", "run?1", filepath.Join(dir, "abs[olute]")} {
		t.Run(out, func(t *testing.T) {
			var written []string
			for _, f := range append(ours, theirs...) {
				p := filepath.Join(out, f)
				if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(p, []byte("x\n"), 0o644); err != nil {
					t.Fatal(err)
				}
				if slices.Contains(ours, f) {
					written = append(written, p)
				}
			}
			dl := &delivery{d: &deliveryOptions{upload: "s3://no-such-bucket/ssm/"}, out: out, written: written}
			line := dl.uploadAgain()
			words, err := shellWords(line)
			if err != nil {
				t.Fatalf("%q is not plain commands to a shell: %v", line, err)
			}
			// Each command in turn, as the shell runs "a && b".
			var got, last []string
			var cmds [][]string
			for i := slices.Index(words, "&&"); i >= 0; i = slices.Index(words, "&&") {
				cmds, words = append(cmds, words[:i]), words[i+1:]
			}
			for _, args := range append(cmds, words) {
				if len(args) < 2 || args[0] != "aws" {
					t.Fatalf("%q: %q is not an aws command", line, args)
				}
				cmd := exec.Command(aws, slices.Concat(args[1:], []string{"--dryrun", "--endpoint-url", "http://127.0.0.1:9"})...)
				// The AWS CLI takes an empty AWS_PROFILE for a profile's name.
				cmd.Env = slices.DeleteFunc(os.Environ(), func(kv string) bool { return strings.HasPrefix(kv, "AWS_") && strings.HasSuffix(kv, "=") })
				var stderr bytes.Buffer
				cmd.Stderr = &stderr
				stdout, err := cmd.Output()
				if err != nil {
					t.Fatalf("%s: %v\n%s", line, err, stderr.String())
				}
				last = nil
				for _, l := range strings.Split(string(stdout), "\n") {
					if _, key, ok := strings.Cut(l, " to s3://no-such-bucket/ssm/"); ok && strings.HasPrefix(l, "(dryrun) upload: ") {
						got, last = append(got, key), append(last, key)
					}
				}
			}
			slices.Sort(got)
			if want := slices.Sorted(slices.Values(ours)); !slices.Equal(got, want) {
				t.Errorf("%s\ncopies %q, want %q", line, got, want)
			}
			// A reader that waits for the top run.json, as for the
			// upload's, sees the whole set: it goes alone, last.
			if !slices.Equal(last, []string{"run.json"}) {
				t.Errorf("%s\nuploads %q last, want run.json alone", line, last)
			}
		})
	}
}

// TestUploadAgainNamesTheKeys: the command that uploads again names the
// prefix the upload used, decoded, since the AWS CLI takes an S3 path as it
// is: s3://audits/alice%40example.com/ put the reports under
// alice@example.com/, and "aws s3 cp ... s3://audits/alice%40example.com/"
// would have put them under alice%40example.com/.
func TestUploadAgainNamesTheKeys(t *testing.T) {
	dl := &delivery{d: &deliveryOptions{upload: "s3://audits/alice%40example.com/a%20b/"}, out: "run"}
	got := dl.uploadAgain()
	if want := "'s3://audits/alice@example.com/a b/'"; !strings.Contains(got, want) {
		t.Errorf("uploadAgain = %s, want it to name %s", got, want)
	}
}
