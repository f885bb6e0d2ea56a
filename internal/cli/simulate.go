package cli

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/auditor-dev/auditor/awsconn"
	"github.com/auditor-dev/auditor/internal/atomicfile"
	"github.com/auditor-dev/auditor/ssmsim"
)

// simulateCmd serves the simulated SSM endpoint until interrupted, so that
// the AWS CLI or any other client can be pointed at it.
func simulateCmd(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("simulate", "simulate [--listen 127.0.0.1:PORT] [--fleet-size N] [--seed S] [--ids FILE] [flags]", stdout)
	listen := fs.String("listen", "127.0.0.1:4566", "`ADDRESS` to serve on (host:port; port 0 picks a free one)")
	size := fs.Int("fleet-size", 300, "`N` instances in the simulated fleet")
	seed := fs.Int64("seed", 1, "seed `S` of the simulated fleet: the same seed, the same fleet")
	ids := fs.String("ids", "simulated-fleet.txt", "write the fleet's instance IDs to this `FILE` (- for stdout)")
	accounts := fs.Int("accounts", 0, "serve an organisation of `N` accounts (STS, Organizations, EC2 and SSM per account-region) instead of one fleet")
	regions := fs.Int("regions", 0, "with --accounts, `N` regions with fleets in each account (default 1)")
	failing := fs.Float64("failing", 0, "a plain fleet for load tests: this `SHARE` of the instances fail (all their associations), the others succeeded in the last day (default: a realistic mix)")
	var f ssmsim.Faults
	var statsEvery time.Duration
	fs.Float64Var(&f.Rate, "rate-limit", 0, "requests per second (`R`) the endpoint accepts before ThrottlingException (0: no limit), as a token bucket")
	fs.IntVar(&f.Burst, "burst", 0, "size `N` of the token bucket: requests it accepts at once after a quiet spell (0: one second of --rate-limit)")
	schedule := fs.String("rate-schedule", "", "change the rate limit while serving: comma-separated `STEPS` of OFFSET:RATE from the start, such as 0s:200,20s:100,50s:200 (a --burst of 0 follows each rate)")
	fs.Float64Var(&f.ThrottleRate, "throttle-rate", 0, "probability `P` of ThrottlingException whatever the rate, as from other callers")
	fs.DurationVar(&statsEvery, "log-stats", 0, "print the request counters to stderr at this `INTERVAL`, and once more on exit (0: never)")
	fs.Float64Var(&f.ErrorRate, "error-rate", 0, "probability `P` of HTTP 500 InternalServerError")
	fs.Float64Var(&f.DropRate, "drop-rate", 0, "probability `P` of a dropped connection")
	fs.DurationVar(&f.Latency, "latency", 0, "delay `D` of every answer")
	fs.DurationVar(&f.Jitter, "jitter", 0, "spread `D` of the delay, +/-")
	skew := fs.Duration("clock-skew", 0, "the simulated AWS's clock is `D` ahead of this machine's (behind if negative): requests signed further off than the service allows (SSM 5 minutes, STS and EC2 15) are refused as AWS refuses them")
	layers := bindLayers(fs, os.Getenv, os.Environ)
	err := parseFlags(fs, args)
	if err == nil {
		err = layers.apply(stdout)
	}
	if !errors.Is(err, flag.ErrHelp) {
		layers.warnUnknown(stderr)
	}
	if err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usagef("simulate: unexpected argument %q", shownArg(fs.Arg(0)))
	}
	if *size < 1 || *size > maxFleet {
		return usagef("--fleet-size %d: want 1 to %d", *size, maxFleet)
	}
	for _, p := range []struct {
		flag  string
		v     float64
		share bool
	}{{"failing", *failing, true}, {"error-rate", f.ErrorRate, false}, {"drop-rate", f.DropRate, false}, {"throttle-rate", f.ThrottleRate, false}} {
		switch {
		case p.v >= 0 && p.v <= 1:
		case p.share:
			return usagef("--%s %g: want a share from 0 to 1", p.flag, p.v)
		default:
			return usagef("--%s %g: want a probability from 0 to 1", p.flag, p.v)
		}
	}
	if f.Latency < 0 {
		return usagef("--latency %s: want 0 or more", f.Latency)
	}
	if f.Jitter < 0 {
		return usagef("--jitter %s: want 0 or more", f.Jitter)
	}
	if f.Rate < 0 || math.IsNaN(f.Rate) || math.IsInf(f.Rate, 0) {
		return usagef("--rate-limit %g: want 0 (no limit) or more", f.Rate)
	}
	if *regions > 0 && *accounts <= 0 {
		return usagef("--regions %d: an organisation's regions: give --accounts N too", *regions)
	}
	if *accounts > 0 || *regions > 0 {
		set := false
		fs.Visit(func(fl *flag.Flag) { set = set || fl.Name == "ids" })
		if set {
			return usagef("--ids: an organisation's nodes are found by discovery (its \"try:\" line says how); no IDs file is written with --accounts")
		}
	}
	if f.Burst < 0 {
		return usagef("--burst %d: want 0 (one second of --rate-limit) or more", f.Burst)
	}
	var steps []ssmsim.RateStep
	if *schedule != "" {
		var err error
		if steps, err = ssmsim.ParseRateSchedule(*schedule); err != nil {
			return usagef("--rate-schedule: %v", err)
		}
	}
	host, port, err := net.SplitHostPort(*listen)
	if err != nil {
		return usagef("--listen %q: want host:port, such as 127.0.0.1:4566", *listen)
	}
	if n, err := strconv.ParseUint(port, 10, 16); port != "" && (err != nil || n > 65535) {
		return usagef("--listen %q: the port is a number from 0 to 65535 (0 picks a free one)", *listen)
	}
	if !awsconn.IsLoopback(host) {
		return usagef("--listen %q: the simulator serves this machine only; use 127.0.0.1 or localhost", *listen)
	}
	// Execution dates are relative to now, so that staleness reads as in a
	// real fleet.
	base := time.Now().UTC().Truncate(time.Minute)
	if *accounts > 0 || *regions > 0 {
		org, names, err := simulatedOrg(*accounts, *regions, *size, *seed, base, *failing)
		if err != nil {
			return usagef("simulate: %v", err)
		}
		ln, err := listenOn(*listen)
		if err != nil {
			return err
		}
		srv := ssmsim.NewServer(nil, ssmsim.Options{Seed: *seed, ClockSkew: *skew, Faults: f, Org: org})
		fmt.Fprintf(stderr, "simulated AWS organisation at http://%s: management account %s, %s, fleets in %s (seed %d)\n",
			ln.Addr(), org.Management(), plural(activeAccounts(org), "active account"), strings.Join(names, ", "), *seed)
		fmt.Fprintf(stderr, "try: AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_ENDPOINT_URL=http://%s %s run --accounts org --role-name %s --regions %s --discover --region %s\n",
			ln.Addr(), shellQuote(program()), demoRole, strings.Join(names, ","), names[0])
		fmt.Fprintf(stderr, "stop with Ctrl-C\n")
		return srv.Serve(ctx, ln)
	}
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: *seed, Size: *size, BaseTime: base, Failing: *failing})
	// The port first: a simulator that cannot serve must not replace the
	// IDs of one that still does.
	ln, err := listenOn(*listen)
	if err != nil {
		return err
	}
	if *ids == "-" {
		err = fleet.WriteIDs(stdout)
	} else {
		if err = writeIDs(*ids, fleet); err != nil {
			err = fmt.Errorf("--ids %s: %w", shownArg(*ids), shownPathError(err))
		}
	}
	if err != nil {
		ln.Close()
		return err
	}
	srv := ssmsim.NewServer(fleet, ssmsim.Options{Seed: *seed, ClockSkew: *skew, Faults: f})
	fmt.Fprintf(stderr, "simulated SSM endpoint at http://%s with %d instances (seed %d); IDs in %s\n", ln.Addr(), *size, *seed, *ids)
	fmt.Fprintf(stderr, "try: AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x aws ssm describe-instance-associations-status --endpoint-url http://%s --region us-east-1 --instance-id %s\n", ln.Addr(), fleet.ManagedIDs()[0])
	if *ids != "-" {
		fmt.Fprintf(stderr, "or:  AWS_ACCESS_KEY_ID=x AWS_SECRET_ACCESS_KEY=x AWS_ENDPOINT_URL=http://%s %s run --instances %s --region us-east-1\n", ln.Addr(), shellQuote(program()), *ids)
	}
	fmt.Fprintf(stderr, "stop with Ctrl-C\n")
	start := time.Now()
	if len(steps) > 0 {
		go srv.RunRateSchedule(ctx, start, f, steps, func(st ssmsim.RateStep) {
			fmt.Fprintf(stderr, "rate limit %g/s from %s\n", st.Rate, st.At)
		})
	}
	if statsEvery > 0 {
		done := make(chan struct{})
		defer func() {
			close(done)
			logStats(stderr, srv, start)
		}()
		go func() {
			t := time.NewTicker(statsEvery)
			defer t.Stop()
			for {
				select {
				case <-done:
					return
				case <-t.C:
					logStats(stderr, srv, start)
				}
			}
		}()
	}
	return srv.Serve(ctx, ln)
}

// writeIDs writes the fleet's IDs to path, one a line (see writeNamed).
func writeIDs(path string, f *ssmsim.Fleet) error {
	return writeNamed(path, f.WriteIDs)
}

// writeNamed writes a file that the user named, through fn: a regular
// file, or none, through a temporary file renamed over it
// (atomicfile.Write); anything else there (a FIFO, a character device
// such as /dev/null, /dev/stdout on a pipe) straight into it, neither
// created nor replaced, since a rename would put a regular file in its
// place and break whatever else uses it. A symbolic link stays a link:
// the file it leads to is written, where the kernel finds it.
func writeNamed(path string, fn func(io.Writer) error) error {
	if st, err := os.Stat(path); err == nil && !st.Mode().IsRegular() && !st.IsDir() {
		return writeInto(path, os.O_WRONLY|os.O_TRUNC, fn)
	}
	if real, err := filepath.EvalSymlinks(path); err == nil {
		return atomicfile.Write(real, fn) // says why it could not
	}
	if st, err := os.Lstat(path); err == nil && st.Mode().Type() == os.ModeSymlink {
		// A link to nothing yet: created where it leads.
		return writeInto(path, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, fn)
	}
	return atomicfile.Write(path, fn)
}

// writeInto writes fn's output into path as it is opened with flag.
func writeInto(path string, flag int, fn func(io.Writer) error) error {
	f, err := os.OpenFile(path, flag, 0o666)
	if err != nil {
		return err
	}
	bw := bufio.NewWriter(f)
	if err := fn(bw); err != nil {
		f.Close()
		return err
	}
	if err := bw.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("writing %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("closing %s: %w", path, err)
	}
	return nil
}

// logStats prints the server's counters on one line, for scripts to read.
func logStats(w io.Writer, srv *ssmsim.Server, start time.Time) {
	st := srv.Stats()
	fmt.Fprintf(w, "stats t=%.3f requests=%d ok=%d client_errors=%d throttled=%d errors=%d dropped=%d\n",
		time.Since(start).Seconds(), st.Requests, st.OK, st.ClientErrors, st.Throttled, st.Errors500, st.Dropped)
}

// listenOn listens on addr, --listen's; when another process already
// does, the error says what to choose instead.
func listenOn(addr string) (net.Listener, error) {
	ln, err := net.Listen("tcp", addr)
	if errors.Is(err, syscall.EADDRINUSE) {
		return nil, fmt.Errorf("listening on %s: %w: another process listens there; pick another --listen, or 127.0.0.1:0 for a free port", addr, err)
	}
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", addr, err)
	}
	return ln, nil
}
