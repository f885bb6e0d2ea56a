package cli

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestSignalsCaughtBeforeTheSDKInitialises: a SIGTERM in the first 60 to
// 130 ms of the process (its packages' initialisation: the SDK's SSM
// schemas, excelize) killed it with 143 and nothing said, and a SIGINT
// to a job that a shell started in the background, with SIGINT ignored,
// was dropped, and the whole audit ran, where README promises exit 3
// for a signal while the lists are read. The handler is now installed by
// a package that initialises before those (internal/earlysig). Go's
// inittrace lists each package's initialisation in order.
func TestSignalsCaughtBeforeTheSDKInitialises(t *testing.T) {
	bin := binary(t)
	cmd := exec.Command(bin, "--version")
	cmd.Env = append(os.Environ(), "GODEBUG=inittrace=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("auditor --version: %v\n%s", err, stderr.String())
	}
	early, heavy := -1, -1
	var order []string
	sc := bufio.NewScanner(&stderr)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 2 || f[0] != "init" {
			continue
		}
		order = append(order, f[1])
		switch {
		case f[1] == "github.com/auditor-dev/auditor/internal/earlysig":
			early = len(order) - 1
		case heavy < 0 && (strings.HasPrefix(f[1], "github.com/aws/aws-sdk-go-v2/service/") || strings.HasPrefix(f[1], "github.com/xuri/")):
			heavy = len(order) - 1
		}
	}
	if heavy < 0 {
		t.Fatalf("no service client of the SDK nor excelize initialised; inittrace:\n%s", strings.Join(order, "\n"))
	}
	if early < 0 || early > heavy {
		t.Errorf("the signal handler's package initialised at %d, the first of the SDK's clients or excelize (%s) at %d: want it before\n%s",
			early, order[heavy], heavy, strings.Join(order, "\n"))
	}
}
