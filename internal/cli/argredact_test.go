package cli

import (
	"strings"
	"testing"
)

// TestRefusedArgumentHidesSecrets: an argument refused whole (an unknown
// command, a flag before its command, an unexpected argument) was quoted
// as it was, and with it a URL's password or --external-id's value, into
// stderr and the cron mail that keeps it. A URL is shown as RedactURL
// shows it, a secret flag by its name alone.
func TestRefusedArgumentHidesSecrets(t *testing.T) {
	isolateAWS(t, "AKIATESTTESTTESTTEST")
	ids := writeFile(t, "f5.txt", "i-0123456789abcdef0\n")
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"a flag with a URL before its command", []string{"--endpoint-url=https://u:pxpass@host"}, `unknown command "--endpoint-url=https://***@host" (did you mean auditor run --endpoint-url?)`},
		{"--smtp before its command", []string{"--smtp=smtp://u:pxpass@host"}, `unknown command "--smtp=smtp://***@host"`},
		{"a login without a scheme", []string{"--smtp=u:pxpass@host"}, `unknown command "--smtp=***@host"`},
		{"an unknown flag with a URL", []string{"--smpt=smtp://u:pxpass@host"}, `"--smpt=smtp://***@host"`},
		{"a URL as the command", []string{"https://u:pxpass@host"}, `unknown command "https://***@host"`},
		{"--external-id before its command", []string{"--external-id=pxpass"}, `unknown command "--external-id" (did you mean auditor run --external-id?)`},
		{"--external-id with one dash", []string{"-external-id=pxpass"}, `unknown command "-external-id"`},
		{"a secret-named flag", []string{"--smtp-password=pxpass"}, `unknown command "--smtp-password"`},
		{"run's argument", []string{"run", "--instances", ids, "https://u:pxpass@host"}, `run: unexpected argument "https://***@host"`},
		{"demo's argument", []string{"demo", "https://u:pxpass@host"}, `demo: unexpected argument "https://***@host"`},
		{"simulate's argument", []string{"simulate", "https://u:pxpass@host"}, `simulate: unexpected argument "https://***@host"`},
		{"a value a flag refused", []string{"run", "--instances", ids, "--max-attempts=https://u:pxpass@host"}, `invalid value "https://***@host" for --max-attempts`},
		{"a URL given as a flag's name", []string{"run", "--instances", ids, "-https://u:pxpass@host"}, `unknown flag -https://***@host`},
		{"mail's directory", []string{"mail", "https://u:pxpass@host", "--to", "ops@example.com"}, `mail: https://***@host: no such directory`},
		{"an argument that is no URL kept", []string{"run", "--instances", ids, "extra.txt"}, `run: unexpected argument "extra.txt"`},
		// A URL without its scheme, and a one-letter user whose password
		// begins with a slash, read as no path.
		{"a URL without its scheme", []string{"//u:pxpass@host/x"}, `unknown command "***@host/x"`},
		{"a login like a drive", []string{"run", "--instances", ids, "x:/pxpass@host"}, `run: unexpected argument "***@host"`},
		// An '@' or a '?' of ordinary text is no login and no query.
		{"an address kept", []string{"me@example.com"}, `unknown command "me@example.com"`},
		{"a value with an @ kept", []string{"run", "--instances", ids, "--stale-after=ops@7d"}, `invalid value "ops@7d" for --stale-after`},
		{"a question kept", []string{"run", "--instances", ids, "why?"}, `run: unexpected argument "why?"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := runCLI(t, "", tt.args...)
			if got.code != int(exitUsage) || !strings.Contains(got.stderr, tt.want) {
				t.Errorf("exit %d, want %d saying %q\n%s", got.code, exitUsage, tt.want, got.stderr)
			}
			if strings.Contains(got.stdout+got.stderr, "pxpass") {
				t.Errorf("the secret is repeated:\n%s%s", got.stdout, got.stderr)
			}
		})
	}
}
