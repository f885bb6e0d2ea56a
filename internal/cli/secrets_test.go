package cli

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestHideSecrets: once hidden, the SMTP password is still what the
// delivery reads (the options' getenv), and no longer in the environment
// that a process the auditor starts (a credential_process) inherits.
func TestHideSecrets(t *testing.T) {
	t.Setenv(envSMTPPassword, "s3cret-pw")
	t.Cleanup(func() {
		secretEnv.Lock()
		secretEnv.m = nil
		secretEnv.Unlock()
	})
	HideSecrets()
	if got := defaultRunOptions().getenv(envSMTPPassword); got != "s3cret-pw" {
		t.Errorf("the delivery reads %q, want the password", got)
	}
	out, err := exec.Command("env").Output()
	if err != nil {
		t.Skipf("no env command to start: %v", err)
	}
	if strings.Contains(string(out), "s3cret-pw") || os.Getenv(envSMTPPassword) != "" {
		t.Errorf("a child process still sees %s", envSMTPPassword)
	}
}
