package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"
)

// TestWatchSignals: the first signal cancels; the same signal again within
// a second (timeout(1) sends it twice) is ignored; one later ends the
// process; a context cancelled otherwise ends the watch without dying.
func TestWatchSignals(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	var clock atomic.Int64 // nanoseconds after t0
	now := func() time.Time { return t0.Add(time.Duration(clock.Load())) }
	setNow := func(v time.Time) { clock.Store(int64(v.Sub(t0))) }

	sigs := make(chan os.Signal)
	died := make(chan os.Signal, 1)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		watchSignals(ctx, cancel, sigs, now, func(s os.Signal) { died <- s })
		close(done)
	}()

	sigs <- syscall.SIGTERM
	<-ctx.Done()
	setNow(t0.Add(50 * time.Millisecond))
	sigs <- syscall.SIGTERM // received: the watch took it
	select {
	case s := <-died:
		t.Fatalf("died of %v 50 ms after the first signal; want it taken as the same one", s)
	case <-time.After(100 * time.Millisecond):
	}
	setNow(t0.Add(1500 * time.Millisecond))
	sigs <- syscall.SIGINT
	select {
	case s := <-died:
		if s != syscall.SIGINT {
			t.Errorf("died of %v, want SIGINT", s)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("a second signal 1.5 s after the first did not end the process")
	}
	<-done

	ctx2, cancel2 := context.WithCancel(context.Background())
	done2 := make(chan struct{})
	go func() {
		watchSignals(ctx2, cancel2, make(chan os.Signal), time.Now, func(os.Signal) { t.Error("died without a signal") })
		close(done2)
	}()
	cancel2()
	select {
	case <-done2:
	case <-time.After(5 * time.Second):
		t.Fatal("the watch went on after its context was cancelled without a signal")
	}
}

// TestSecondSignalSaysSo: a process stopped at once by a second signal
// says so on stderr, with what to do next, and ends with 128 + the
// signal's number (130 for SIGINT), as the README's exit codes say.
func TestSecondSignalSaysSo(t *testing.T) {
	if mode := os.Getenv("SIGNALS_CHILD"); mode != "" {
		if mode == "json" {
			newConsole(os.Stderr).setFormat(logJSON)
		}
		ctx, stop := NotifyContext(context.Background(), nil)
		defer stop()
		p, _ := os.FindProcess(os.Getpid())
		p.Signal(os.Interrupt)
		<-ctx.Done()
		time.Sleep(duplicateWindow + 100*time.Millisecond)
		p.Signal(os.Interrupt)
		time.Sleep(10 * time.Second)
		os.Exit(0)
	}
	for _, mode := range []string{"text", "json"} {
		cmd := exec.Command(os.Args[0], "-test.run=^TestSecondSignalSaysSo$")
		cmd.Env = append(os.Environ(), "SIGNALS_CHILD="+mode)
		var stderr strings.Builder
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			t.Fatalf("%s: the child ended with %v, want a signal's exit", mode, err)
		}
		// Killed by the signal itself (a shell shows 130), or exited 130.
		if st, ok := ee.Sys().(syscall.WaitStatus); !ok || !(st.Signaled() && st.Signal() == syscall.SIGINT || st.ExitStatus() == 130) {
			t.Errorf("%s: the child ended with %v, want SIGINT or exit 130", mode, err)
		}
		if !strings.Contains(stderr.String(), "--resume") {
			t.Errorf("%s: stderr %q: want a line saying what to do next", mode, stderr.String())
		}
		// With --log-format json, one JSON record, as every other line.
		var rec map[string]any
		if mode == "json" && (json.Unmarshal([]byte(strings.TrimSpace(stderr.String())), &rec) != nil || rec["level"] != "ERROR") {
			t.Errorf("json: stderr %q: want one JSON record of level ERROR", stderr.String())
		}
	}
}

// TestDieAsPID1: the kernel drops a signal of default action that PID 1
// (the auditor as a container's ENTRYPOINT) sends to itself, and Go then
// exits 2, which the README gives to a usage error (and a Kubernetes
// podFailurePolicy to FailJob). As PID 1, die exits 128 + the signal's
// number without sending it; elsewhere it sends it, so that a shell sees
// the process signalled.
func TestDieAsPID1(t *testing.T) {
	for _, tt := range []struct {
		name      string
		sig       os.Signal
		pid1      bool
		wantRaise bool
		want      int
	}{
		{"SIGTERM as PID 1", syscall.SIGTERM, true, false, 143},
		{"SIGINT as PID 1", os.Interrupt, true, false, 130},
		{"SIGTERM elsewhere", syscall.SIGTERM, false, true, 143},
		{"SIGINT elsewhere", os.Interrupt, false, true, 130},
	} {
		t.Run(tt.name, func(t *testing.T) {
			raised := false
			got := dieBy(tt.sig, tt.pid1, func(s os.Signal) bool {
				raised = true
				if s != tt.sig {
					t.Errorf("sent %v, want %v", s, tt.sig)
				}
				return false // as if it were lost: dieBy goes on to exit
			})
			if raised != tt.wantRaise {
				t.Errorf("sent the signal to itself: %v, want %v", raised, tt.wantRaise)
			}
			if got != tt.want {
				t.Errorf("exit %d, want %d", got, tt.want)
			}
		})
	}
}
