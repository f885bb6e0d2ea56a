package cli

import (
	"net"
	"os"
	"strings"
	"testing"
)

// TestSimulateFlags: the bucket and rate-schedule flags are documented in
// --help, and bad values are usage errors that say what to write.
func TestSimulateFlags(t *testing.T) {
	help := runCLI(t, "", "simulate", "--help")
	for _, flag := range []string{"--burst", "--rate-schedule", "--throttle-rate", "--log-stats", "--clock-skew"} {
		if !strings.Contains(help.stdout, flag) {
			t.Errorf("simulate --help does not mention %s", flag)
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--burst", "-1"}, "--burst -1: want 0 (one second of --rate-limit) or more"},
		{[]string{"--rate-schedule", "0s:200,20s"}, `--rate-schedule: step 2 "20s": want OFFSET:RATE, such as 20s:100`},
		{[]string{"--rate-schedule", "20s:100,10s:50"}, `--rate-schedule: step 2 "10s:50": offsets must increase`},
		{[]string{"--failing", "2"}, "--failing 2: want a share from 0 to 1"},
		{[]string{"--error-rate", "-1"}, "--error-rate -1: want a probability from 0 to 1"},
		{[]string{"--drop-rate", "1.5"}, "--drop-rate 1.5: want a probability from 0 to 1"},
		{[]string{"--throttle-rate", "-0.1"}, "--throttle-rate -0.1: want a probability from 0 to 1"},
		{[]string{"--latency", "-5s"}, "--latency -5s: want 0 or more"},
		{[]string{"--jitter", "-1ms"}, "--jitter -1ms: want 0 or more"},
		{[]string{"--rate-limit", "-3"}, "--rate-limit -3: want 0 (no limit) or more"},
		{[]string{"--regions", "2"}, "--regions 2: an organisation's regions: give --accounts N too"},
		// A port out of range or not a number was exit 4, with the
		// resolver's words ("lookup tcp/abc: unknown port").
		{[]string{"--listen", "127.0.0.1:99999"}, `--listen "127.0.0.1:99999": the port is a number from 0 to 65535`},
		{[]string{"--listen", "127.0.0.1:abc"}, `--listen "127.0.0.1:abc": the port is a number from 0 to 65535`},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			r := runCLI(t, "", append([]string{"simulate", "--ids", "-"}, tc.args...)...)
			if r.code != int(exitUsage) || !strings.Contains(r.stderr, tc.want) {
				t.Errorf("exit %d, stderr %q; want %d and %q", r.code, r.stderr, exitUsage, tc.want)
			}
		})
	}
}

// TestSimulateBusyPortKeepsIDs: a second simulator on a port already taken
// fails without replacing the IDs file of the one that serves there.
func TestSimulateBusyPortKeepsIDs(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	ids := writeFile(t, "ids.txt", "i-0123456789abcdef0\n")
	r := runCLI(t, "", "simulate", "--listen", ln.Addr().String(), "--ids", ids, "--fleet-size", "5")
	if r.code != int(exitFatal) {
		t.Errorf("exit %d, want %d\n%s", r.code, exitFatal, r.stderr)
	}
	// "bind: address already in use" alone did not say what to do.
	for _, w := range []string{ln.Addr().String(), "another process listens there", "--listen", "127.0.0.1:0"} {
		if !strings.Contains(r.stderr, w) {
			t.Errorf("stderr does not say %q\n%s", w, r.stderr)
		}
	}
	if b, _ := os.ReadFile(ids); string(b) != "i-0123456789abcdef0\n" {
		t.Errorf("the IDs file was replaced: %q", b)
	}
}

// TestSimulateIDsURLPasswordHidden: --ids given a URL with a password (a
// file is wanted) names it without the password, as every other flag that
// takes a file does; the simulator printed it whole, twice.
func TestSimulateIDsURLPasswordHidden(t *testing.T) {
	r := runCLI(t, "", "simulate", "--listen", "127.0.0.1:0", "--ids", "https://u:secretpw@example.com/x.txt", "--fleet-size", "5")
	if r.code == int(exitOK) {
		t.Fatalf("exit 0, want an error\n%s", r.stderr)
	}
	if strings.Contains(r.stderr, "secretpw") {
		t.Errorf("stderr shows the password:\n%s", r.stderr)
	}
	if !strings.Contains(r.stderr, "--ids") {
		t.Errorf("stderr does not name --ids:\n%s", r.stderr)
	}
}
