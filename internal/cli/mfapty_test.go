//go:build linux

package cli

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
	"unsafe"
)

// TestMFAPromptRestoresTheEcho: Ctrl-C, SIGTERM or --timeout at the MFA
// prompt ended the run while the code was being read without echo, and
// left the user's terminal so: nothing typed afterwards showed. The
// prompt gives the terminal back as it was when the run is stopped, and
// ends its line, before the run's last words. A pseudo-terminal stands in
// for the user's.
func TestMFAPromptRestoresTheEcho(t *testing.T) {
	for _, tc := range []struct {
		name    string
		signal  bool     // a signal stops the run at the prompt
		flags   []string // else, these do
		stopped string   // what the run says
	}{
		{name: "a signal", signal: true, stopped: "interrupted"},
		{name: "--timeout", flags: []string{"--timeout", stallTimeout.String()}, stopped: "--timeout"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := mfaProfile(t)
			master, slave := openPTY(t)
			withTerminal(t, nil, nil)
			openTerminal = func() (io.ReadWriteCloser, error) { return os.OpenFile(slave.Name(), os.O_RDWR|syscall.O_NOCTTY, 0) }
			if !echoing(t, slave) {
				t.Fatal("a new pseudo-terminal does not echo")
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			done := make(chan int, 1)
			var stderr bytes.Buffer
			go func() { done <- run(ctx, append(m.args(), tc.flags...), strings.NewReader(""), io.Discard, &stderr) }()
			prompt := "Enter MFA code for " + mfaSerial + ": "
			if shown := readFor(t, master, len(prompt)); shown != prompt {
				t.Fatalf("the terminal shows %q, want %q", shown, prompt)
			}
			if echoing(t, slave) {
				t.Error("the code is read with echo on")
			}
			if tc.signal {
				cancel() // as the first SIGINT or SIGTERM does (NotifyContext)
			}
			select {
			case code := <-done:
				if code != int(exitIncomplete) || !strings.Contains(stderr.String(), tc.stopped) {
					t.Errorf("exit %d, want %d saying %q\n%s", code, exitIncomplete, tc.stopped, stderr.String())
				}
			case <-time.After(30 * time.Second):
				t.Fatal("the run did not stop")
			}
			if !echoing(t, slave) {
				t.Error("the run left the terminal with echo off")
			}
			if rest := readFor(t, master, 2); rest != "\r\n" {
				t.Errorf("after the prompt the terminal shows %q, want the line ended", rest)
			}
		})
	}
}

// TestMFAPromptReadsAtAPseudoTerminal: the code typed at a terminal is
// read without echo, sent to STS, and the terminal echoes again after.
func TestMFAPromptReadsAtAPseudoTerminal(t *testing.T) {
	m := mfaProfile(t)
	master, slave := openPTY(t)
	withTerminal(t, nil, nil)
	openTerminal = func() (io.ReadWriteCloser, error) { return os.OpenFile(slave.Name(), os.O_RDWR|syscall.O_NOCTTY, 0) }
	done := make(chan cliResult, 1)
	go func() { done <- runCLI(t, "", m.args()...) }()
	prompt := "Enter MFA code for " + mfaSerial + ": "
	if shown := readFor(t, master, len(prompt)); shown != prompt {
		t.Fatalf("the terminal shows %q, want %q", shown, prompt)
	}
	master.Write([]byte("246810\n"))
	got := <-done
	if got.code != int(exitOK) {
		t.Errorf("exit %d, want %d\n%s", got.code, exitOK, got.stderr)
	}
	if codes := m.codes(); len(codes) != 1 || codes[0] != mfaSerial+" 246810" {
		t.Errorf("STS got %q, want the serial and the code once", codes)
	}
	if rest := readFor(t, master, 2); rest != "\r\n" {
		t.Errorf("after the prompt the terminal shows %q, want the line ended, the code not shown", rest)
	}
	if !echoing(t, slave) {
		t.Error("the run left the terminal with echo off")
	}
}

// openPTY opens a pseudo-terminal: its master, and its slave (the
// terminal a program sees), which stays open for the test.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	master, err := os.OpenFile("/dev/ptmx", os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Skipf("no pseudo-terminal here: %v", err)
	}
	t.Cleanup(func() { master.Close() })
	var unlock int32
	var n uint32
	if err := ioctl(master, syscall.TIOCSPTLCK, unsafe.Pointer(&unlock)); err != nil {
		t.Fatal(err)
	}
	if err := ioctl(master, syscall.TIOCGPTN, unsafe.Pointer(&n)); err != nil {
		t.Fatal(err)
	}
	slave, err = os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|syscall.O_NOCTTY, 0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { slave.Close() })
	return master, slave
}

// echoing reports whether the terminal of f echoes what is typed.
func echoing(t *testing.T, f *os.File) bool {
	t.Helper()
	var tio syscall.Termios
	if err := ioctl(f, syscall.TCGETS, unsafe.Pointer(&tio)); err != nil {
		t.Fatal(err)
	}
	return tio.Lflag&syscall.ECHO != 0
}

func ioctl(f *os.File, req uint, arg unsafe.Pointer) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	var errno syscall.Errno
	if err := rc.Control(func(fd uintptr) {
		_, _, errno = syscall.Syscall(syscall.SYS_IOCTL, fd, uintptr(req), uintptr(arg))
	}); err != nil {
		return err
	}
	if errno != 0 {
		return errno
	}
	return nil
}

// readFor reads n bytes from the master of a pseudo-terminal: what the
// program wrote to its terminal.
func readFor(t *testing.T, master *os.File, n int) string {
	t.Helper()
	master.SetReadDeadline(time.Now().Add(30 * time.Second))
	b := make([]byte, n)
	if _, err := io.ReadFull(master, b); err != nil {
		t.Fatalf("reading the terminal: %v (read %q)", err, b)
	}
	return string(b)
}

// TestMFABackgroundRunRefused: a run started in the background of its
// terminal (with & or nohup from an interactive shell) has a terminal, but
// turning off its echo stopped the whole process (SIGTTOU) until someone
// brought it to the front: under nohup, never. It is refused at once, as a
// run without a terminal is. A shell with job control, on a
// pseudo-terminal of its own, starts the run in the background.
func TestMFABackgroundRunRefused(t *testing.T) {
	m := mfaProfile(t)
	master, slave := openPTY(t)
	dir := t.TempDir()
	log := filepath.Join(dir, "run.log")
	script := `set -m; "$0" "$@" </dev/null >` + log + ` 2>&1 & wait $!; echo "rc=$?" >` + log + `.rc`
	cmd := exec.Command("bash", append([]string{"-c", script, binary(t)}, m.args()...)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = slave, slave, slave
	cmd.SysProcAttr = &syscall.SysProcAttr{Setsid: true, Setctty: true, Ctty: 0}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go io.Copy(io.Discard, master)
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-done
		out, _ := os.ReadFile(log)
		t.Fatalf("the background run did not end (stopped by its terminal?)\n%s", out)
	}
	rc, _ := os.ReadFile(log + ".rc")
	out, _ := os.ReadFile(log)
	if strings.TrimSpace(string(rc)) != fmt.Sprintf("rc=%d", exitUsage) || !strings.Contains(string(out), "mfa_serial") {
		t.Errorf("%s, want rc=%d and the refusal of the MFA profile\n%s", rc, exitUsage, out)
	}
}
