package report_test

import (
	"archive/zip"
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/report"
)

// Secrets of the presigned output URLs below: none may reach a report.
const (
	presignToken     = "FwoGZXIvYXdzEXAMPLESESSIONTOKEN"
	presignSignature = "5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7"
	presignKeyID     = "ASIAEXAMPLEKEYID0001"
	presignV2Sig     = "vjbyPxybdZaNmGa%2ByT272YEAiv4%3D"
	presignV2KeyID   = "AKIAEXAMPLEKEYID0002"
)

// presignedURLs are S3 output URLs as an API could give them presigned,
// each with the URL the reports may show instead.
var presignedURLs = []struct{ raw, shown string }{
	{"https://ssm-out.s3.eu-west-1.amazonaws.com/run/i-00000000000000001/stdout?X-Amz-Algorithm=AWS4-HMAC-SHA256" +
		"&X-Amz-Credential=" + presignKeyID + "%2F20250601%2Feu-west-1%2Fs3%2Faws4_request&X-Amz-Date=20250601T120000Z" +
		"&X-Amz-Expires=3600&X-Amz-Security-Token=" + presignToken + "&X-Amz-SignedHeaders=host&X-Amz-Signature=" + presignSignature,
		"https://ssm-out.s3.eu-west-1.amazonaws.com/run/i-00000000000000001/stdout"},
	{"https://s3.amazonaws.com/ssm-out/run/i-00000000000000002/stdout?AWSAccessKeyId=" + presignV2KeyID +
		"&Expires=1748779200&Signature=" + presignV2Sig,
		"https://s3.amazonaws.com/ssm-out/run/i-00000000000000002/stdout"},
	{"s3://ssm-out/run/i-00000000000000003/stdout?x-amz-signature=" + presignSignature + "#x-amz-security-token=" + presignToken,
		"s3://ssm-out/run/i-00000000000000003/stdout"},
}

// TestPresignedOutputURLs: an output URL that carries a signature or a
// credential in its query reaches no report, in any format, as text or as a
// link, even from a record that holds it as the API gave it (one written
// before such URLs were cleaned); the URL itself, without its query, does.
func TestPresignedOutputURLs(t *testing.T) {
	var lines strings.Builder
	for i, u := range presignedURLs {
		fmt.Fprintf(&lines, `{"schema":%d,"account_id":%q,"region":%q,"instance_id":"i-%017x","outcome":"noncompliant","pages":1,`+
			`"audited_at":"2025-06-01T12:01:00Z","associations":[{"AssociationId":"a-%d","Name":"AWS-RunShellScript",`+
			`"ExecutionDate":"2025-06-01T10:00:00Z","Status":"Failed","DetailedStatus":"Failed","ErrorCode":"ScriptFailed",`+
			`"OutputUrl":{"S3OutputUrl":{"OutputUrl":%q}}}]}`+"\n", audit.Schema, acct1, east, i+1, i, u.raw)
	}
	record := filepath.Join(t.TempDir(), audit.ResultsFile)
	if err := os.WriteFile(record, []byte(lines.String()), 0o666); err != nil {
		t.Fatal(err)
	}
	secrets := []string{presignToken, presignSignature, presignKeyID, presignV2Sig, presignV2KeyID,
		"X-Amz-Credential", "X-Amz-Security-Token", "X-Amz-Signature", "x-amz-signature", "AWSAccessKeyId", "Signature="}

	for _, f := range report.Formats() {
		t.Run(string(f), func(t *testing.T) {
			rs, err := audit.OpenRecords(record)
			if err != nil {
				t.Fatal(err)
			}
			defer rs.Close()
			run := fixtureRun()
			run.Targets, run.Invalid = len(presignedURLs), 0
			opts := report.Options{Dir: t.TempDir(), Records: rs, Run: run, Formats: []report.Format{f}, StaleAfter: audit.DefaultStaleAfter}
			paths, err := report.Render(context.Background(), opts)
			if err != nil {
				t.Fatal(err)
			}
			var all strings.Builder
			for _, p := range paths {
				all.WriteString(fileText(t, p))
			}
			got := all.String()
			for _, s := range secrets {
				if strings.Contains(got, s) {
					t.Errorf("%s: the reports hold %q of a presigned output URL", f, s)
				}
			}
			for _, u := range presignedURLs {
				if !strings.Contains(got, u.shown) {
					t.Errorf("%s: the reports lack the output URL %q", f, u.shown)
				}
			}
		})
	}
}

// fileText returns a report file's text: a workbook's every zip entry
// (cells, shared strings, the hyperlinks' targets), any other file whole.
func fileText(t *testing.T, path string) string {
	t.Helper()
	if filepath.Ext(path) != ".xlsx" {
		b, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		return string(b)
	}
	zr, err := zip.OpenReader(path)
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	var out strings.Builder
	for _, zf := range zr.File {
		rc, err := zf.Open()
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		out.Write(b)
	}
	return out.String()
}
