package awsconn

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"testing"
)

// TestContainerTokenFileBad: a container authorization token file
// (AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE, EKS Pod Identity's) that is
// missing, or holds a line break (written with echo), read "no credentials
// found: see where they are looked for with: aws configure list". The SDK
// refuses a token with a line break anywhere in it, trailing included; it
// trims nothing. The file is named with what is wrong and what to check;
// the token is never shown.
func TestContainerTokenFileBad(t *testing.T) {
	const token = "eyJTOKENTOKENTOKENTOKEN"
	for _, tc := range []struct {
		name    string
		content *string // nil: no file
		want    []string
	}{
		{"missing", nil, []string{"cannot be read: no such file", "check"}},
		{"ends in a newline", ptr(token + "\n"), []string{"ends in a line break (1 byte)", "printf"}},
		{"ends in CRLF", ptr(token + "\r\n"), []string{"ends in a line break (2 bytes)"}},
		{"a line break inside", ptr("eyJTOKEN\nTOKENTOKENTOKEN"), []string{"holds 1 line break"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Credentials, were it asked: the SDK refuses before.
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.Write([]byte(`{"AccessKeyId":"ASIACONTAINERCONTAIN","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"}`))
			}))
			t.Cleanup(srv.Close)
			isolate(t, "")
			file := filepath.Join(t.TempDir(), "eks-pod-identity-token")
			if tc.content != nil {
				if err := os.WriteFile(file, []byte(*tc.content), 0o600); err != nil {
					t.Fatal(err)
				}
			}
			t.Setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", srv.URL+"/v1/credentials")
			t.Setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", file)
			msg := credentialsError(t, Settings{Region: "eu-west-1", MaxAttempts: 1}).Error()
			want := append([]string{"the container credentials endpoint", "token file \"" + file + "\"", "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"}, tc.want...)
			saysOnly(t, msg, want, []string{"no credentials found", "aws configure list", "TOKENTOKEN"})
		})
	}
}

func ptr(s string) *string { return &s }

// TestContainerTokenFileGood: a token file the SDK takes, or none named,
// is no cause that containerTokenKind reports.
func TestContainerTokenFileGood(t *testing.T) {
	file := filepath.Join(t.TempDir(), "token")
	if err := os.WriteFile(file, []byte("eyJTOKENTOKENTOKENTOKEN"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, path := range []string{file, ""} {
		if got := containerTokenKind(path); got != "" {
			t.Errorf("containerTokenKind(%q) = %q, want \"\"", path, got)
		}
	}
}
