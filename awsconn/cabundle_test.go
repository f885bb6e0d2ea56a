package awsconn

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"testing"
)

// TestCABundleNotPEM: a CA bundle that holds no PEM certificate (a DER
// file, a key, a file cut short) was told "loading the AWS configuration:
// failed to load custom CA bundle PEM file", naming neither the file nor
// the setting that named it. Both are named, and what the file must hold.
func TestCABundleNotPEM(t *testing.T) {
	bad := filepath.Join(t.TempDir(), "corp-ca.der")
	if err := os.WriteFile(bad, []byte{0x30, 0x82, 0x01, 0x0a}, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, config string
		env          map[string]string
		want         []string
	}{
		{"AWS_CA_BUNDLE", "[default]\nregion = eu-west-1\n", map[string]string{"AWS_CA_BUNDLE": bad},
			[]string{"AWS_CA_BUNDLE", bad, "no PEM certificate"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			isolate(t, tc.config)
			for k, v := range tc.env {
				t.Setenv(k, v)
			}
			_, err := Load(context.Background(), Settings{Region: "eu-west-1"})
			var ce *ConfigError
			if !errors.As(err, &ce) {
				t.Fatalf("Load = %v, want a *ConfigError", err)
			}
			saysOnly(t, err.Error(), tc.want, nil)
		})
	}
}
