package deliver_test

import (
	"strings"
	"testing"

	"github.com/auditor-dev/auditor/deliver"
)

// TestParseS3URLRefusesOddPrefixes: "s3://bucket//" was taken with the
// prefix "/", so that the reports went to keys such as "/report.html" (a
// folder with no name in the console), and "s3://bucket/%0a/" put a
// newline in every key. Both are refused, and the error names the URL.
func TestParseS3URLRefusesOddPrefixes(t *testing.T) {
	for _, tt := range []struct {
		url, want string
	}{
		{"s3://reports//", "empty folder name"},
		{"s3://reports//weekly/", "empty folder name"},
		{"s3://reports/%0a/", "control character"},
		{"s3://reports/weekly%09x/", "control character"},
		{"s3://reports/a/%7f/", "control character"},
	} {
		t.Run(tt.url, func(t *testing.T) {
			bucket, prefix, err := deliver.ParseS3URL(tt.url)
			if err == nil {
				t.Fatalf("ParseS3URL(%q) = %q, %q, want an error", tt.url, bucket, prefix)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "S3 URL \"s3://reports/") {
				t.Errorf("error %q does not name the URL and say %q", err, tt.want)
			}
			if strings.ContainsAny(err.Error(), "\n\t\x7f") {
				t.Errorf("error %q holds the control character itself", err)
			}
		})
	}
	// What is taken still is: a prefix of printable characters, spaces
	// and letters beyond ASCII among them.
	for url, want := range map[string]string{
		"s3://reports/a%20b/": "a b/",
		"s3://reports/été/":   "été/",
	} {
		if _, prefix, err := deliver.ParseS3URL(url); err != nil || prefix != want {
			t.Errorf("ParseS3URL(%q): prefix %q, %v; want %q", url, prefix, err, want)
		}
	}
}
