package audit_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	"github.com/aws/smithy-go"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/bench/synth"
	"github.com/auditor-dev/auditor/ssmsim"
)

// The fetch benchmarks run audit.Run with the CLI's client (sdkClients:
// awsconn's retryer and HTTP client) against the simulated endpoint,
// which runs in a process of its own (this test binary, started again as
// TestHelperSimulator) so that the CPU time measured here is the auditor's
// alone. Every result goes through an audit.RecordWriter (one fsync per
// instance) as in "auditor run". Each benchmark also times a plain
// sequential loop of SDK paginator calls over a sample of the same fleet on
// the same server, and reports the auditor's instances per second as a
// multiple of it (x_sequential). A run is long (10 to 20 s), so one
// iteration is the norm:
//
//	go test ./audit -run '^$' -bench Fetch -benchtime 1x -timeout 20m
//
// Latency is 25 ms ± 10 ms (uniform) on every call, as the issue asks.
const (
	benchLatency = 25 * time.Millisecond
	benchJitter  = 10 * time.Millisecond
	// benchLimit is the server-side limit R of the rate benchmarks, in calls
	// per second; benchFleet instances make a run of about 15 s at R.
	benchLimit = 200
	benchFleet = 3000
	// benchSample is how many instances the sequential baseline audits.
	benchSample = 100
)

// simConfig is what the parent tells the simulator process.
type simConfig struct {
	Seed    int64
	Size    int
	Rate    float64
	Latency time.Duration
	Jitter  time.Duration
}

// simStats is what the simulator process reports at /bench/stats.
type simStats struct {
	Stats      ssmsim.Stats
	CPUSeconds float64
}

const simEnv = "AUDITOR_BENCH_SIMULATOR"

// TestHelperSimulator is not a test: it is the simulated endpoint of the
// fetch benchmarks, in a process of its own, started by them with simEnv
// set. It prints "URL http://127.0.0.1:PORT", serves the fleet there, with
// /bench/stats (its counters and CPU seconds) and /bench/reset beside, and
// exits when its standard input closes.
func TestHelperSimulator(t *testing.T) {
	raw := os.Getenv(simEnv)
	if raw == "" {
		t.Skip("not a test: the simulator process of the fetch benchmarks, run only by them")
	}
	var cfg simConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		t.Fatal(err)
	}
	fleet := ssmsim.NewFleet(ssmsim.FleetConfig{Seed: cfg.Seed, Size: cfg.Size})
	srv := ssmsim.NewServer(fleet, ssmsim.Options{Seed: cfg.Seed, Faults: ssmsim.Faults{
		Rate: cfg.Rate, Latency: cfg.Latency, Jitter: cfg.Jitter,
	}})
	mux := http.NewServeMux()
	mux.Handle("/", srv)
	mux.HandleFunc("/bench/stats", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(simStats{Stats: srv.Stats(), CPUSeconds: cpuSeconds()})
	})
	mux.HandleFunc("/bench/reset", func(w http.ResponseWriter, r *http.Request) { srv.ResetStats() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	hs := &http.Server{Handler: mux}
	go hs.Serve(ln)
	fmt.Printf("URL http://%s\n", ln.Addr())
	io.Copy(io.Discard, os.Stdin)
	hs.Close()
}

// simulator is a running simulator process.
type simulator struct {
	URL   string
	fleet *ssmsim.Fleet
}

// startSimulator starts the simulator process for cfg and stops it when the
// benchmark ends. The fleet it returns is the same one (same seed and size).
func startSimulator(b *testing.B, cfg simConfig) *simulator {
	b.Helper()
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	raw, _ := json.Marshal(cfg)
	cmd := exec.Command(exe, "-test.run=^TestHelperSimulator$")
	cmd.Env = append(os.Environ(), simEnv+"="+string(raw))
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		b.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		b.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		stdin.Close()
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill()
			<-done
		}
	})
	sc := bufio.NewScanner(stdout)
	url := ""
	for sc.Scan() {
		if u, ok := strings.CutPrefix(sc.Text(), "URL "); ok {
			url = u
			break
		}
	}
	if url == "" {
		b.Fatalf("simulator process printed no URL: %v", sc.Err())
	}
	go io.Copy(io.Discard, stdout)
	return &simulator{
		URL:   url,
		fleet: ssmsim.NewFleet(ssmsim.FleetConfig{Seed: cfg.Seed, Size: cfg.Size}),
	}
}

func (s *simulator) stats(b *testing.B) simStats {
	b.Helper()
	resp, err := http.Get(s.URL + "/bench/stats")
	if err != nil {
		b.Fatal(err)
	}
	defer resp.Body.Close()
	var st simStats
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		b.Fatal(err)
	}
	return st
}

func (s *simulator) reset(b *testing.B) {
	b.Helper()
	resp, err := http.Get(s.URL + "/bench/reset")
	if err != nil {
		b.Fatal(err)
	}
	resp.Body.Close()
}

// fetchRun is one audit.Run over a whole fleet, with what it cost.
type fetchRun struct {
	stats   audit.Stats
	wall    time.Duration
	cpu     float64 // seconds of this process
	results int
	// lost counts instances without a result, ended in error, or whose
	// associations differ in number from the fleet's.
	lost int
}

// runFetch audits every instance of s's fleet with the CLI's client and
// records each result as "auditor run" does.
func runFetch(b *testing.B, s *simulator, concurrency int, rate float64) fetchRun {
	b.Helper()
	w, err := audit.CreateRecord(filepath.Join(b.TempDir(), audit.ResultsFile))
	if err != nil {
		b.Fatal(err)
	}
	defer w.Close()
	type seen struct {
		outcome audit.Outcome
		assocs  int
	}
	var mu sync.Mutex
	got := make(map[string]seen, s.fleet.Len())
	cfg := audit.Config{
		Client:      sdkClients(s.URL, 8, concurrency),
		Region:      "us-east-1",
		Concurrency: concurrency,
		Rate:        rate,
		OnResult: func(r audit.Result) error {
			if err := w.Write(r); err != nil {
				return err
			}
			mu.Lock()
			got[r.InstanceID] = seen{r.Outcome, len(r.Associations)}
			mu.Unlock()
			return nil
		},
	}
	targets := fleetTargets(s.fleet)
	cpu0, start := cpuSeconds(), time.Now()
	st, err := audit.Run(context.Background(), cfg, slices.Values(targets))
	run := fetchRun{stats: st, wall: time.Since(start), cpu: cpuSeconds() - cpu0, results: len(got)}
	if err != nil {
		b.Fatal(err)
	}
	for _, id := range s.fleet.IDs() {
		r, ok := got[id]
		switch {
		case !ok, r.outcome == audit.OutcomeError:
			run.lost++
		case !s.fleet.Managed(id):
			if r.outcome != audit.OutcomeNotManaged {
				run.lost++
			}
		case r.assocs != len(s.fleet.Associations(id)):
			run.lost++
		}
	}
	if run.lost > 0 {
		b.Errorf("%d of %d instances lost (no result, error, or wrong association count)", run.lost, s.fleet.Len())
	}
	return run
}

// sequential audits the first n instances of the fleet one at a time with
// a plain SDK client (the SDK's default retryer and HTTP client) and its
// paginator, as a script calling the SDK in a loop does, and returns
// instances per second.
func sequential(b *testing.B, s *simulator, n int) float64 {
	b.Helper()
	c := ssm.NewFromConfig(aws.Config{
		Region:      "us-east-1",
		Credentials: credentials.NewStaticCredentialsProvider("AKIATESTTESTTESTTEST", "secret", ""),
	}, func(o *ssm.Options) { o.BaseEndpoint = aws.String(s.URL) })
	ids := s.fleet.IDs()[:min(n, s.fleet.Len())]
	ctx := context.Background()
	start := time.Now()
	for _, id := range ids {
		p := ssm.NewDescribeInstanceAssociationsStatusPaginator(c, &ssm.DescribeInstanceAssociationsStatusInput{InstanceId: aws.String(id)})
		for p.HasMorePages() {
			if _, err := p.NextPage(ctx); err != nil {
				var ae smithy.APIError
				if errors.As(err, &ae) && ae.ErrorCode() == audit.CodeInvalidInstanceID {
					break
				}
				b.Fatalf("sequential %s: %v", id, err)
			}
		}
	}
	return float64(len(ids)) / time.Since(start).Seconds()
}

// benchRate runs the fleet against a server limited to benchLimit calls per
// second, with a client rate of rate (0: the adaptive limiter).
func benchRate(b *testing.B, rate float64) {
	s := startSimulator(b, simConfig{Seed: 42, Size: benchFleet, Rate: benchLimit, Latency: benchLatency, Jitter: benchJitter})
	// The CLI's default, above R × the longest latency × 2 (14), so that
	// latency is never the bound.
	const conc = 16
	seq := sequential(b, s, benchSample)
	var accepted, calls, throttled, lost, instances float64
	var wall time.Duration
	for b.Loop() {
		s.reset(b)
		run := runFetch(b, s, conc, rate)
		sst := s.stats(b).Stats
		if sst.Requests != run.stats.Calls || sst.Throttled != run.stats.Throttled {
			b.Errorf("server saw %d requests, %d throttled; auditor counted %d calls, %d throttled", sst.Requests, sst.Throttled, run.stats.Calls, run.stats.Throttled)
		}
		if sst.DuplicatePages != 0 {
			b.Errorf("%d pages fetched twice", sst.DuplicatePages)
		}
		accepted += float64(run.stats.Calls - run.stats.Throttled)
		calls += float64(run.stats.Calls)
		throttled += float64(run.stats.Throttled)
		lost += float64(run.lost)
		instances += float64(run.results)
		wall += run.wall
	}
	perSec := accepted / wall.Seconds()
	b.ReportMetric(perSec, "calls/s")
	b.ReportMetric(100*perSec/benchLimit, "rate_pct_of_limit")
	b.ReportMetric(100*throttled/calls, "throttled_pct")
	b.ReportMetric(lost, "lost_instances")
	b.ReportMetric(instances/wall.Seconds()/seq, "x_sequential")
	b.ReportMetric(float64(conc), "concurrency")
}

// BenchmarkFetchFixedRate: --rate R against a server that accepts R calls
// per second. rate_pct_of_limit is the calls answered (not throttled) per
// second of the whole run, start to end, as a share of R; the issue wants at
// least 95, throttled_pct under 5 and no instance lost.
func BenchmarkFetchFixedRate(b *testing.B) { benchRate(b, benchLimit) }

// BenchmarkFetchAdaptive: no --rate (the adaptive limiter, which starts at
// 20 calls per second and must find R itself) against the same server; the
// issue wants at least 85% of R, throttled_pct under 5, nothing lost.
func BenchmarkFetchAdaptive(b *testing.B) { benchRate(b, 0) }

// BenchmarkFetchUnlimited: no server limit, --concurrency C, with the CLI's
// default client pacing (no --rate: the adaptive limiter, which starts at 20
// calls per second) and with --rate 10000 (the limiter's ceiling, so no
// pacing at all). The ceiling of a run is C calls per latency (C / 25 ms);
// pct_of_c_over_latency is the calls per second reached, start to end, as a
// share of it (the issue wants at least 90 until the CPU is the bound). A
// run lasts about 15 s at the ceiling (30,000 instances at most).
//
// cpu_ms_per_1k_instances is the auditor's CPU time (this process: SDK,
// HTTP client, limiter, record with its fsyncs) per thousand instances;
// sim_cpu_ms_per_1k_instances the simulator's; cpu_pct both together as a
// share of all the machine's cores over the run, and host_cpu_pct the share
// that every process on the machine used (from /proc/stat; other work
// included): when it nears 100, the CPU is the bound.
func BenchmarkFetchUnlimited(b *testing.B) {
	for _, mode := range []struct {
		name string
		rate float64
	}{{"adaptive", 0}, {"rate=10000", 10000}} {
		for _, conc := range []int{16, 64, 256} {
			b.Run(fmt.Sprintf("%s/C=%d", mode.name, conc), func(b *testing.B) {
				benchUnlimited(b, conc, mode.rate)
			})
		}
	}
}

func benchUnlimited(b *testing.B, conc int, rate float64) {
	ceiling := float64(conc) / benchLatency.Seconds()
	size := min(int(ceiling*15), 30_000)
	s := startSimulator(b, simConfig{Seed: 43, Size: size, Latency: benchLatency, Jitter: benchJitter})
	seq := sequential(b, s, benchSample)
	var calls, instances, cpu, simCPU, hostBusy, hostAll float64
	var wall time.Duration
	for b.Loop() {
		s.reset(b)
		sim0 := s.stats(b).CPUSeconds
		busy0, all0 := hostCPU()
		run := runFetch(b, s, conc, rate)
		busy1, all1 := hostCPU()
		simCPU += s.stats(b).CPUSeconds - sim0
		hostBusy, hostAll = hostBusy+busy1-busy0, hostAll+all1-all0
		calls += float64(run.stats.Calls)
		instances += float64(run.results)
		cpu += run.cpu
		wall += run.wall
	}
	perSec := calls / wall.Seconds()
	b.ReportMetric(perSec, "calls/s")
	b.ReportMetric(instances/wall.Seconds(), "instances/s")
	b.ReportMetric(100*perSec/ceiling, "pct_of_c_over_latency")
	b.ReportMetric(1000*1000*cpu/instances, "cpu_ms_per_1k_instances")
	b.ReportMetric(1000*1000*simCPU/instances, "sim_cpu_ms_per_1k_instances")
	b.ReportMetric(100*(cpu+simCPU)/wall.Seconds()/float64(runtime.NumCPU()), "cpu_pct")
	if hostAll > 0 {
		b.ReportMetric(100*hostBusy/hostAll, "host_cpu_pct")
	}
	b.ReportMetric(instances/wall.Seconds()/seq, "x_sequential")
}

// hostCPU returns the busy and total jiffies of every CPU of the machine
// (/proc/stat), or zeros where there is no /proc.
func hostCPU() (busy, total float64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	fields := strings.Fields(line)
	if len(fields) < 5 || fields[0] != "cpu" {
		return 0, 0
	}
	for i, f := range fields[1:] {
		v, err := strconv.ParseFloat(f, 64)
		if err != nil {
			return 0, 0
		}
		// guest and guest_nice (9 and 10) are already in user and nice.
		if i >= 8 {
			break
		}
		total += v
		if i != 3 && i != 4 { // idle, iowait
			busy += v
		}
	}
	return busy, total
}

// BenchmarkSequentialSDK is the baseline alone: a plain SDK client audits
// benchSample instances one at a time (25 ms ± 10 ms a call, no limit).
func BenchmarkSequentialSDK(b *testing.B) {
	s := startSimulator(b, simConfig{Seed: 42, Size: benchFleet, Latency: benchLatency, Jitter: benchJitter})
	var perSec float64
	for b.Loop() {
		perSec += sequential(b, s, benchSample)
	}
	b.ReportMetric(perSec/float64(b.N), "instances/s")
}

// BenchmarkRecordIndex and BenchmarkRecordEach time the two halves of
// reading a record of 10,000 instances with five associations each:
// OpenRecords (which decodes every line to index it) and one Each pass.
// Every report format that lists rows is one more Each pass.
func BenchmarkRecordIndex(b *testing.B) {
	path := benchRecord(b, 10_000)
	for b.Loop() {
		rs, err := audit.OpenRecords(path)
		if err != nil {
			b.Fatal(err)
		}
		rs.Close()
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N)/10, "ms_per_1k_instances")
}

// BenchmarkRecordIndexMemory: the live bytes an instance costs in the
// index of an open record (what every report holds while it renders),
// beside the bytes of its key alone as any index by key held in memory
// must keep it (its instance ID copied out of the record, the account and
// region shared), measured in the same run. The record is past the size
// whose index is held in memory, so its index is on disk: about 0 bytes an
// instance (114, 1.40 times the keys, while it was held in memory).
func BenchmarkRecordIndexMemory(b *testing.B) {
	const n = 100_000
	path := benchRecord(b, n)
	live := func(open func() any) float64 {
		var before, after runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&before)
		kept := open()
		runtime.GC()
		runtime.ReadMemStats(&after)
		runtime.KeepAlive(kept)
		return float64(int64(after.HeapAlloc)-int64(before.HeapAlloc)) / n
	}
	var index, keys float64
	for b.Loop() {
		index = live(func() any {
			rs, err := audit.OpenRecords(path)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { rs.Close() })
			return rs
		})
		keys = live(func() any {
			var ks []audit.Key
			shared := map[string]string{}
			share := func(s string) string {
				if v, ok := shared[s]; ok {
					return v
				}
				shared[s] = strings.Clone(s)
				return shared[s]
			}
			f, err := os.Open(path)
			if err != nil {
				b.Fatal(err)
			}
			defer f.Close()
			if _, err := audit.ReadRecord(f, path, func(r audit.Result) error {
				k := r.Key()
				ks = append(ks, audit.Key{AccountID: share(k.AccountID), Region: share(k.Region), InstanceID: strings.Clone(k.InstanceID)})
				return nil
			}); err != nil {
				b.Fatal(err)
			}
			return slices.Clip(ks)
		})
	}
	b.ReportMetric(index, "index_B/instance")
	b.ReportMetric(keys, "keys_B/instance")
	b.ReportMetric(index/keys, "x_keys")
}

func BenchmarkRecordEach(b *testing.B) {
	path := benchRecord(b, 10_000)
	rs, err := audit.OpenRecords(path)
	if err != nil {
		b.Fatal(err)
	}
	defer rs.Close()
	for b.Loop() {
		if err := rs.Each(func(audit.Result) error { return nil }); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()*1000/float64(b.N)/10, "ms_per_1k_instances")
}

func benchRecord(b *testing.B, n int) string {
	b.Helper()
	path, _, err := synth.WriteDir(b.TempDir(), synth.Config{Instances: n})
	if err != nil {
		b.Fatal(err)
	}
	st, err := os.Stat(path)
	if err != nil {
		b.Fatal(err)
	}
	b.SetBytes(st.Size())
	return path
}
