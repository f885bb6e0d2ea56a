package deploy_test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // time zone names are checked whatever zoneinfo the machine has

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/deliver/smtptest"
	"github.com/auditor-dev/auditor/internal/cli"
)

// The names the scheduled audit's manifests and deploy/README.md use.
const (
	cronJobName       = "auditor-weekly"
	scheduleConfigMap = "auditor-schedule"
	scheduleKey       = "schedule.json"
	smtpSecret        = "auditor-smtp"
	jobNameFieldPath  = "metadata.labels['batch.kubernetes.io/job-name']"
	batchSchedule     = "aws-batch/schedule.json"
	schedulerTrust    = "iam/scheduler-trust-policy.json"
	schedulerPolicy   = "iam/scheduler-policy.json"
	// submitJobTarget is EventBridge Scheduler's universal target for AWS
	// Batch SubmitJob; its Input is the request.
	submitJobTarget = "arn:aws:scheduler:::aws-sdk:batch:submitJob"
	// scheduledTimeKeyword is replaced by EventBridge Scheduler with the
	// invocation's scheduled time, such as 2025-06-02T02:15:00Z.
	scheduledTimeKeyword = "<aws.scheduler.scheduled-time>"
)

// sampleFields are values for every downward-API field and Secret key that
// the manifests use: a pod of index 0 of a CronJob's Job, with a login.
func sampleFields() map[string]string {
	return map[string]string{
		indexFieldPath:                      "0",
		jobNameFieldPath:                    cronJobName + "-29147175",
		secretField(smtpSecret, "username"): "auditor",
		secretField(smtpSecret, "password"): "deploy-test-not-a-password",
	}
}

func (o k8sObjects) cronJob(t *testing.T, name string) *batchv1.CronJob {
	t.Helper()
	cj, ok := o.cronJobs[name]
	if !ok {
		t.Fatalf("no CronJob %q in kubernetes/*.yaml (have %v)", name, slices.Sorted(maps.Keys(o.cronJobs)))
	}
	return cj
}

// jobOf is the Job that the CronJob creates, named after the CronJob, for
// the checks written for Jobs.
func jobOf(cj *batchv1.CronJob) *batchv1.Job {
	return &batchv1.Job{ObjectMeta: metav1.ObjectMeta{Name: cj.Name}, Spec: cj.Spec.JobTemplate.Spec}
}

// Cron expressions.

// cronSpec is one field of a cron expression: its bounds, the names that
// stand for numbers, and whether ? (no specific value) is allowed.
type cronSpec struct {
	name     string
	lo, hi   int
	names    map[string]int
	question bool
}

func names(first int, list ...string) map[string]int {
	m := map[string]int{}
	for i, n := range list {
		m[n] = first + i
	}
	return m
}

var (
	monthNames = names(1, "JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC")
	// Kubernetes parses .spec.schedule with robfig/cron's standard parser:
	// five fields, Sunday is 0, ? is * in the day fields.
	k8sCron = []cronSpec{
		{"minute", 0, 59, nil, false},
		{"hour", 0, 23, nil, false},
		{"day of month", 1, 31, nil, true},
		{"month", 1, 12, monthNames, false},
		{"day of week", 0, 6, names(0, "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), true},
	}
	// EventBridge Scheduler: cron(minutes hours day-of-month month
	// day-of-week year), Sunday is 1, and one of the day fields must be ?.
	eventBridgeCron = []cronSpec{
		{"minutes", 0, 59, nil, false},
		{"hours", 0, 23, nil, false},
		{"day-of-month", 1, 31, nil, true},
		{"month", 1, 12, monthNames, false},
		{"day-of-week", 1, 7, names(1, "SUN", "MON", "TUE", "WED", "THU", "FRI", "SAT"), true},
		{"year", 1970, 2199, nil, false},
	}
)

// cronSchedule is a parsed cron expression: the values each field matches,
// and whether each field was * or ? (unrestricted).
type cronSchedule struct {
	sets []map[int]bool
	any  []bool
	// sundayIs is the day-of-week number of Sunday (0 or 1).
	sundayIs int
}

// parseCron parses the fields of a cron expression: *, ?, N, A-B, and those
// with /STEP, in comma-separated lists; names stand for their numbers. It
// refuses what the specs do not allow, and what the test does not follow
// (L, W, #, @weekly and the like).
func parseCron(fields []string, specs []cronSpec) (cronSchedule, error) {
	if len(fields) != len(specs) {
		return cronSchedule{}, fmt.Errorf("%d fields, want %d", len(fields), len(specs))
	}
	cs := cronSchedule{}
	for i, f := range fields {
		s := specs[i]
		set := map[int]bool{}
		unrestricted := f == "*" || f == "?"
		if f == "?" && !s.question {
			return cs, fmt.Errorf("%s: ? is allowed only in the day fields", s.name)
		}
		num := func(v string) (int, error) {
			if n, ok := s.names[strings.ToUpper(v)]; ok {
				return n, nil
			}
			n, err := strconv.Atoi(v)
			if err != nil || n < s.lo || n > s.hi {
				return 0, fmt.Errorf("%s: %q is not %d to %d", s.name, v, s.lo, s.hi)
			}
			return n, nil
		}
		for _, part := range strings.Split(f, ",") {
			rng, stepText, hasStep := strings.Cut(part, "/")
			step := 1
			if hasStep {
				n, err := strconv.Atoi(stepText)
				if err != nil || n < 1 {
					return cs, fmt.Errorf("%s: step %q", s.name, stepText)
				}
				step = n
			}
			lo, hi := s.lo, s.hi
			switch a, b, isRange := strings.Cut(rng, "-"); {
			case rng == "*" || rng == "?":
			case isRange:
				var err error
				if lo, err = num(a); err != nil {
					return cs, err
				}
				if hi, err = num(b); err != nil {
					return cs, err
				}
				if lo > hi {
					return cs, fmt.Errorf("%s: range %q runs backwards", s.name, rng)
				}
			default:
				n, err := num(rng)
				if err != nil {
					return cs, err
				}
				lo = n
				if !hasStep {
					hi = n
				}
			}
			for v := lo; v <= hi; v += step {
				set[v] = true
			}
		}
		cs.sets = append(cs.sets, set)
		cs.any = append(cs.any, unrestricted)
	}
	return cs, nil
}

// parseK8sCron parses a CronJob's .spec.schedule.
func parseK8sCron(s string) (cronSchedule, error) {
	if strings.HasPrefix(s, "@") || strings.Contains(s, "TZ=") {
		return cronSchedule{}, fmt.Errorf("%q: want five fields (the time zone goes in .spec.timeZone)", s)
	}
	cs, err := parseCron(strings.Fields(s), k8sCron)
	cs.sundayIs = 0
	return cs, err
}

// parseEventBridgeCron parses an EventBridge Scheduler cron(...) expression.
func parseEventBridgeCron(s string) (cronSchedule, error) {
	inner, ok := strings.CutPrefix(s, "cron(")
	if inner, ok = strings.CutSuffix(inner, ")"); !ok || !strings.HasPrefix(s, "cron(") {
		return cronSchedule{}, fmt.Errorf("%q: want cron(minutes hours day-of-month month day-of-week year)", s)
	}
	fields := strings.Fields(inner)
	cs, err := parseCron(fields, eventBridgeCron)
	if err != nil {
		return cs, err
	}
	if (fields[2] == "?") == (fields[4] == "?") {
		return cs, fmt.Errorf("%q: one of day-of-month and day-of-week must be ?, and only one", s)
	}
	cs.sundayIs = 1
	return cs, nil
}

// matches reports whether the schedule fires at t (in t's location): the
// day fields match either one when both are restricted, as cron does.
func (cs cronSchedule) matches(t time.Time) bool {
	dow := int(t.Weekday()) + cs.sundayIs
	if !cs.sets[0][t.Minute()] || !cs.sets[1][t.Hour()] || !cs.sets[3][int(t.Month())] {
		return false
	}
	if len(cs.sets) > 5 && !cs.sets[5][t.Year()] {
		return false
	}
	dom, dw := cs.sets[2][t.Day()], cs.sets[4][dow]
	switch {
	case cs.any[2] && cs.any[4]:
		return true
	case cs.any[2]:
		return dw
	case cs.any[4]:
		return dom
	}
	return dom || dw
}

// firings returns the times the schedule fires in the days after start, in
// loc.
func (cs cronSchedule) firings(start time.Time, days int, loc *time.Location) []time.Time {
	var out []time.Time
	start = start.Truncate(time.Minute)
	for m := range days * 24 * 60 {
		t := start.Add(time.Duration(m) * time.Minute).In(loc)
		if cs.matches(t) {
			out = append(out, t)
		}
	}
	return out
}

// minGap is the shortest time between two firings, over five weeks that
// cross both DST changes of a European zone.
func (cs cronSchedule) minGap(t *testing.T, loc *time.Location) time.Duration {
	t.Helper()
	var gap time.Duration
	for _, start := range []time.Time{
		time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC),
		time.Date(2025, 10, 6, 0, 0, 0, 0, time.UTC),
	} {
		fs := cs.firings(start, 35, loc)
		if len(fs) < 2 {
			t.Fatalf("the schedule fires %d times in 35 days from %s: want at least weekly", len(fs), start.Format(time.DateOnly))
		}
		for i := 1; i < len(fs); i++ {
			if d := fs[i].Sub(fs[i-1]); gap == 0 || d < gap {
				gap = d
			}
		}
	}
	return gap
}

// TestCronParsers checks that the cron readers refuse what Kubernetes and
// EventBridge Scheduler refuse, so that the checks built on them can fail.
func TestCronParsers(t *testing.T) {
	k8sTests := []struct {
		expr    string
		wantErr bool
	}{
		{"15 3 * * 1", false},
		{"0 */6 * * MON-FRI", false},
		{"15 3 ? * 1", false},
		{"15 3 * * 7", true}, // robfig/cron's day of week ends at 6
		{"60 3 * * 1", true},
		{"15 3 * *", true},
		{"15 3 * * 1 2025", true},
		{"CRON_TZ=Europe/Dublin 15 3 * * 1", true},
		{"@weekly", true},
		{"15 3 * * 5-1", true},
	}
	for _, tt := range k8sTests {
		t.Run("kubernetes/"+tt.expr, func(t *testing.T) {
			_, err := parseK8sCron(tt.expr)
			if got := err != nil; got != tt.wantErr {
				t.Errorf("parseK8sCron(%q) error = %v, want an error: %v", tt.expr, err, tt.wantErr)
			}
		})
	}
	ebTests := []struct {
		expr    string
		wantErr bool
	}{
		{"cron(15 3 ? * MON *)", false},
		{"cron(15 3 ? * 2 *)", false},
		{"cron(0 12 1 * ? *)", false},
		{"cron(15 3 * * MON *)", true}, // one day field must be ?
		{"cron(15 3 ? * ? *)", true},
		{"cron(15 3 ? * 0 *)", true}, // Sunday is 1
		{"cron(15 3 ? * MON)", true},
		{"15 3 ? * MON *", true},
		{"rate(7 days)", true},
	}
	for _, tt := range ebTests {
		t.Run("eventbridge/"+tt.expr, func(t *testing.T) {
			_, err := parseEventBridgeCron(tt.expr)
			if got := err != nil; got != tt.wantErr {
				t.Errorf("parseEventBridgeCron(%q) error = %v, want an error: %v", tt.expr, err, tt.wantErr)
			}
		})
	}
	// Both say Monday 03:15 the same way, and fire on Mondays only.
	dublin, err := time.LoadLocation("Europe/Dublin")
	if err != nil {
		t.Fatal(err)
	}
	k, _ := parseK8sCron("15 3 * * 1")
	e, _ := parseEventBridgeCron("cron(15 3 ? * MON *)")
	start := time.Date(2025, 3, 10, 0, 0, 0, 0, time.UTC)
	kf, ef := k.firings(start, 28, dublin), e.firings(start, 28, dublin)
	if len(kf) != 4 || !slices.EqualFunc(kf, ef, time.Time.Equal) {
		t.Fatalf("firings %v and %v, want the same four Mondays", kf, ef)
	}
	for _, f := range kf {
		if f.Weekday() != time.Monday || f.Hour() != 3 || f.Minute() != 15 {
			t.Errorf("fires at %s, want Mondays at 03:15", f)
		}
	}
	if got := k.minGap(t, dublin); got < 167*time.Hour {
		t.Errorf("weekly schedule: shortest gap %s, want about a week (an hour less across DST)", got)
	}
}

// The options of a scheduled run.

// runOptions are the options that a command line and its --cli-input-json
// file give auditor run: flag name -> values, the command line winning,
// as the CLI's precedence says.
func runOptions(t *testing.T, file []byte, inv invocation) map[string][]string {
	t.Helper()
	opts := map[string][]string{}
	if file != nil {
		var m map[string]any
		if err := json.Unmarshal(file, &m); err != nil {
			t.Fatalf("%s: %v", scheduleKey, err)
		}
		for k, v := range m {
			items, ok := v.([]any)
			if !ok {
				items = []any{v}
			}
			for _, it := range items {
				opts[k] = append(opts[k], fmt.Sprint(it))
			}
		}
	}
	for k, v := range inv.flags {
		opts[k] = slices.Clone(v)
	}
	return opts
}

// strs returns a JSON value that is a string or a list as strings.
func strs(v any) []string {
	switch x := v.(type) {
	case string:
		return []string{x}
	case []any:
		var out []string
		for _, it := range x {
			out = append(out, fmt.Sprint(it))
		}
		return out
	}
	return nil
}

func last(opts map[string][]string, name string) string {
	if v := opts[name]; len(v) > 0 {
		return v[len(v)-1]
	}
	return ""
}

// looksSecret reports whether a name looks like it holds a secret.
func looksSecret(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"password", "secret", "token", "credential", "key"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// checkScheduleFile checks a --cli-input-json file of auditor run: every
// key is a flag of auditor run, with a value of the flag's kind.
func checkScheduleFile(t *testing.T, data []byte, runFlags map[string]bool) {
	t.Helper()
	if err := checkDuplicateKeys(data); err != nil {
		t.Fatalf("%s: %v", scheduleKey, err)
	}
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatalf("%s: not a JSON object of options: %v", scheduleKey, err)
	}
	for _, k := range slices.Sorted(maps.Keys(m)) {
		isBool, ok := runFlags[k]
		switch {
		case !ok:
			t.Errorf("%s: %q is not a flag of auditor run", scheduleKey, k)
			continue
		case k == "cli-input-json" || k == "generate-cli-skeleton":
			t.Errorf("%s: %q cannot be set in the file", scheduleKey, k)
		}
		items, isList := m[k].([]any)
		if !isList {
			items = []any{m[k]}
		}
		for _, it := range items {
			switch it.(type) {
			case bool:
				if !isBool {
					t.Errorf("%s: %q = %v: --%s takes a value, not true or false", scheduleKey, k, it, k)
				}
			case string, float64:
				if isBool {
					t.Errorf("%s: %q = %v: --%s is a switch, want true or false", scheduleKey, k, it, k)
				}
			default:
				t.Errorf("%s: %q = %v: want a string, a number, a boolean or a list of them", scheduleKey, k, it)
			}
		}
	}
}

// Running auditor in this process, to the point where it would call AWS.

// The canary: a problem that auditor run reports before it asks anything
// of AWS. A run given every option plus the canary that reports the canary
// alone has accepted everything else: the --cli-input-json file (its keys
// and values), the other flags, the environment, the paths, the delivery
// settings.
const (
	canaryFlag  = "max-results"
	canaryValue = "0"
)

// dryRun runs auditor ARGS --max-results 0 in this process with env as its
// whole AUDITOR_ and AWS_ environment (no AWS configuration files), and
// returns its exit code and stderr.
func dryRun(t *testing.T, args []string, env map[string]string) (int, string) {
	t.Helper()
	for _, kv := range os.Environ() {
		if k, _, _ := strings.Cut(kv, "="); strings.HasPrefix(k, "AUDITOR_") || strings.HasPrefix(k, "AWS_") {
			t.Setenv(k, "")
		}
	}
	home := t.TempDir()
	base := map[string]string{
		"AWS_CONFIG_FILE":             filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE": filepath.Join(home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED":   "true",
		"AWS_ACCESS_KEY_ID":           "AKIADEPLOYTESTDEPLOY",
		"AWS_SECRET_ACCESS_KEY":       "deploy-test-not-a-secret",
	}
	for k, v := range base {
		t.Setenv(k, v)
	}
	for k, v := range env {
		t.Setenv(k, v)
	}
	var stdout, stderr bytes.Buffer
	argv := append(slices.Clone(args), "--"+canaryFlag, canaryValue)
	code := cli.Main(context.Background(), argv, nil, &stdout, &stderr)
	return code, stderr.String()
}

// canaryOnly reports whether a dry run stopped on the canary and nothing
// else.
func canaryOnly(code int, stderr string) bool {
	return code == 2 && strings.Contains(stderr, "--"+canaryFlag+" "+canaryValue) && !strings.Contains(stderr, "problems:")
}

// Pods on the test's disk.

// podDisk stands in for a pod's volumes: each container path maps to a
// directory under root, one per claim (shared by every pod), one per other
// volume and pod.
type podDisk struct {
	root string
	o    k8sObjects
	j    *batchv1.Job
	c    corev1.Container
	pod  string // the pod's directory under root, which holds its own volumes
}

// hostPath maps a container path to the test's disk, creating the volume's
// directory and writing its ConfigMap files the first time.
func (d podDisk) hostPath(t *testing.T, p string) string {
	t.Helper()
	vf, err := onVolume(d.j.Spec.Template.Spec, d.c, p)
	if err != nil {
		t.Fatal(err)
	}
	v := vf.volume
	var dir string
	var files map[string]string
	switch {
	case v.PersistentVolumeClaim != nil:
		dir = filepath.Join(d.root, "claim-"+v.PersistentVolumeClaim.ClaimName)
	case v.ConfigMap != nil:
		dir = filepath.Join(d.root, d.pod, v.Name)
		files = configMapFiles(t, d.o, v.ConfigMap.Name, v.ConfigMap.Items)
	case v.Projected != nil:
		dir = filepath.Join(d.root, d.pod, v.Name)
		files = map[string]string{}
		for _, src := range v.Projected.Sources {
			if src.ConfigMap == nil {
				t.Fatalf("volume %s: only ConfigMap sources are expected in a projected volume", v.Name)
			}
			maps.Copy(files, configMapFiles(t, d.o, src.ConfigMap.Name, src.ConfigMap.Items))
		}
	case v.EmptyDir != nil:
		dir = filepath.Join(d.root, d.pod, v.Name)
	default:
		t.Fatalf("volume %s: a kind the test does not know", v.Name)
	}
	if _, err := os.Stat(dir); err != nil {
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		for name, data := range files {
			if err := os.WriteFile(filepath.Join(dir, name), []byte(data), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	return filepath.Join(dir, filepath.FromSlash(vf.rel))
}

// configMapFiles returns the files a ConfigMap volume source shows: its
// items, or every key.
func configMapFiles(t *testing.T, o k8sObjects, name string, items []corev1.KeyToPath) map[string]string {
	t.Helper()
	cm, ok := o.configMaps[name]
	if !ok {
		t.Fatalf("a volume shows ConfigMap %q, which kubernetes/*.yaml does not define", name)
	}
	files := map[string]string{}
	if len(items) == 0 {
		maps.Copy(files, cm.Data)
		return files
	}
	for _, it := range items {
		data, ok := cm.Data[it.Key]
		if !ok {
			t.Fatalf("a volume shows key %q of ConfigMap %s, which has no such key", it.Key, name)
		}
		files[it.Path] = data
	}
	return files
}

// mapJSONPaths rewrites the container paths among the values of a
// --cli-input-json file (strings, and lists of them, that start with /).
func mapJSONPaths(t *testing.T, data []byte, mapPath func(string) string) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(data, &m); err != nil {
		t.Fatal(err)
	}
	for k, v := range m {
		switch x := v.(type) {
		case string:
			if strings.HasPrefix(x, "/") {
				m[k] = mapPath(x)
			}
		case []any:
			for i, it := range x {
				if s, ok := it.(string); ok && strings.HasPrefix(s, "/") {
					x[i] = mapPath(s)
				}
			}
		}
	}
	out, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// cronPod is a pod of the CronJob's Job jobName, on the test's disk: its
// environment, and its arguments with container paths mapped, the
// --cli-input-json file rewritten with mapped paths too.
func cronPod(t *testing.T, root string, o k8sObjects, jobName string, fields map[string]string) (env map[string]string, args []string) {
	t.Helper()
	cj := o.cronJob(t, cronJobName)
	j := jobOf(cj)
	c := auditorContainer(t, j)
	f := maps.Clone(fields)
	f[jobNameFieldPath] = jobName
	env, err := containerEnv(c, f)
	if err != nil {
		t.Fatal(err)
	}
	args, err = expandedArgs(c, env)
	if err != nil {
		t.Fatal(err)
	}
	// Each pod gets its volumes afresh, as the kubelet projects them;
	// claims are shared.
	podDir, err := os.MkdirTemp(root, jobName+"-pod-")
	if err != nil {
		t.Fatal(err)
	}
	d := podDisk{root: root, o: o, j: j, c: c, pod: filepath.Base(podDir)}
	mapPath := func(p string) string { return d.hostPath(t, p) }
	for i, a := range args {
		if strings.HasPrefix(a, "/") {
			args[i] = mapPath(a)
			if i > 0 && args[i-1] == "--cli-input-json" {
				data, err := os.ReadFile(args[i])
				if err != nil {
					t.Fatal(err)
				}
				if err := os.WriteFile(args[i], mapJSONPaths(t, data, mapPath), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	env["TMPDIR"] = mapPath("/tmp")
	return env, args
}

// The CronJob.

// scheduleFile returns the --cli-input-json file the CronJob reads, from its
// ConfigMap, and the CronJob's command line parsed.
func scheduleFile(t *testing.T, o k8sObjects, specs map[string]map[string]bool) ([]byte, invocation) {
	t.Helper()
	cj := o.cronJob(t, cronJobName)
	j := jobOf(cj)
	c := auditorContainer(t, j)
	inv, args, _ := podInvocation(t, c, sampleFields(), specs)
	if inv.command != "run" || len(inv.positional) > 0 {
		t.Fatalf("args %q: want auditor run with flags only", args)
	}
	input, ok := inv.last("cli-input-json")
	if !ok {
		t.Fatalf("args %q: no --cli-input-json: the options belong in a reviewed file", args)
	}
	vf, err := onVolume(j.Spec.Template.Spec, c, input)
	if err != nil {
		t.Fatalf("--cli-input-json: %v", err)
	}
	var sources []corev1.VolumeProjection
	switch v := vf.volume; {
	case v.ConfigMap != nil:
		sources = []corev1.VolumeProjection{{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: v.ConfigMap.LocalObjectReference, Items: v.ConfigMap.Items}}}
	case v.Projected != nil:
		sources = v.Projected.Sources
	default:
		t.Fatalf("--cli-input-json %s is not on a ConfigMap", input)
	}
	for _, src := range sources {
		if src.ConfigMap == nil {
			continue
		}
		files := configMapFiles(t, o, src.ConfigMap.Name, src.ConfigMap.Items)
		if data, ok := files[vf.rel]; ok {
			if src.ConfigMap.Name != scheduleConfigMap {
				t.Errorf("--cli-input-json %s comes from ConfigMap %s, want %s", input, src.ConfigMap.Name, scheduleConfigMap)
			}
			return []byte(data), inv
		}
	}
	t.Fatalf("--cli-input-json %s: no ConfigMap on volume %s shows %s", input, vf.volume.Name, vf.rel)
	return nil, inv
}

// TestCronJob checks the CronJob's schedule and its Job.
func TestCronJob(t *testing.T) {
	o := loadK8s(t)
	if got := slices.Sorted(maps.Keys(o.cronJobs)); !slices.Equal(got, []string{cronJobName}) {
		t.Errorf("CronJobs = %v, want [%s]", got, cronJobName)
	}
	cj := o.cronJob(t, cronJobName)
	spec := cj.Spec
	if len(cj.Name) > 52 {
		t.Errorf("name %q: a CronJob's name has at most 52 characters (its Jobs add 11)", cj.Name)
	}

	// When it runs.
	sched, err := parseK8sCron(spec.Schedule)
	if err != nil {
		t.Fatalf("schedule: %v", err)
	}
	if len(sched.sets[0]) != 1 || len(sched.sets[1]) != 1 {
		t.Errorf("schedule %q fires more than once a day: a scheduled audit is daily or weekly", spec.Schedule)
	}
	if spec.TimeZone == nil || *spec.TimeZone == "" || *spec.TimeZone == "Local" {
		t.Fatalf("timeZone %v: name the zone, or the schedule follows the controller manager's", deref(spec.TimeZone))
	}
	loc, err := time.LoadLocation(*spec.TimeZone)
	if err != nil {
		t.Fatalf("timeZone %q: %v", *spec.TimeZone, err)
	}
	period := sched.minGap(t, loc)
	if spec.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		t.Errorf("concurrencyPolicy %q, want Forbid: two audits at once share one rate limit, and compare badly", spec.ConcurrencyPolicy)
	}
	if sd := spec.StartingDeadlineSeconds; sd == nil || *sd < 10 || time.Duration(*sd)*time.Second >= period {
		t.Errorf("startingDeadlineSeconds %v: want at least 10 (the controller's period) and less than the schedule's %s", deref(sd), period)
	}
	if l := spec.SuccessfulJobsHistoryLimit; l == nil || *l < 1 {
		t.Errorf("successfulJobsHistoryLimit %v: keep at least the last Job", deref(l))
	}
	if l := spec.FailedJobsHistoryLimit; l == nil || *l < 1 {
		t.Errorf("failedJobsHistoryLimit %v: keep at least the last failed Job, to read why", deref(l))
	}
	if spec.Suspend != nil && *spec.Suspend {
		t.Errorf("suspend is true: the schedule would never run")
	}

	// The Job.
	j := jobOf(cj)
	js := j.Spec
	pod := js.Template.Spec
	c := auditorContainer(t, j)
	if js.CompletionMode != nil && *js.CompletionMode == batchv1.IndexedCompletion || js.BackoffLimitPerIndex != nil {
		t.Errorf("the scheduled Job is Indexed: it is one pod")
	}
	if p := js.Parallelism; p != nil && *p != 1 {
		t.Errorf("parallelism %d: the scheduled Job is one pod", *p)
	}
	if n := js.Completions; n != nil && *n != 1 {
		t.Errorf("completions %d: the scheduled Job is one pod", *n)
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy %q, want Never (podFailurePolicy needs it)", pod.RestartPolicy)
	}
	if js.BackoffLimit == nil || *js.BackoffLimit < 1 {
		t.Errorf("backoffLimit %v: want at least 1: an incomplete run (exit 3) is retried", deref(js.BackoffLimit))
	}
	if js.PodReplacementPolicy == nil || *js.PodReplacementPolicy != batchv1.Failed {
		t.Errorf("podReplacementPolicy %v, want Failed: two pods must never write one record", deref(js.PodReplacementPolicy))
	}
	if js.TTLSecondsAfterFinished != nil {
		t.Errorf("ttlSecondsAfterFinished is set: the history limits decide which Jobs are kept")
	}
	if pod.ServiceAccountName != serviceAccount {
		t.Errorf("serviceAccountName %q, want %q (the one with the IAM role)", pod.ServiceAccountName, serviceAccount)
	}
	if len(c.Command) > 0 {
		t.Errorf("command %q: the image's entrypoint is auditor; give only args", c.Command)
	}
	checkPodSecurity(t, j, c)
	checkResources(t, j, c)
	checkMounts(t, j, c)
	if a := o.job(t, auditJobName); auditorContainer(t, a).Image != c.Image {
		t.Errorf("image %s, but the audit Job runs %s", c.Image, auditorContainer(t, a).Image)
	}

	// Every attempt may run to --timeout, then render and deliver; all of
	// them fit in activeDeadlineSeconds, which ends before the next run.
	specs := cliFlags(t)
	file, inv := scheduleFile(t, o, specs)
	opts := runOptions(t, file, inv)
	timeout, err := time.ParseDuration(last(opts, "timeout"))
	if err != nil || timeout <= 0 {
		t.Fatalf("--timeout %q: want one, so that a stuck run ends with partial reports (exit 3) before the Job's deadline", last(opts, "timeout"))
	}
	ad := js.ActiveDeadlineSeconds
	if ad == nil {
		t.Fatalf("no activeDeadlineSeconds: a stuck Job would hold the schedule (Forbid skips the next runs)")
	}
	attempts := int64(*js.BackoffLimit) + 1
	perAttempt := timeout + 10*time.Minute + time.Duration(deref64(pod.TerminationGracePeriodSeconds))*time.Second
	if got := time.Duration(*ad) * time.Second; got < time.Duration(attempts)*perAttempt {
		t.Errorf("activeDeadlineSeconds %d: %d attempts of --timeout %s plus rendering and mail need %s", *ad, attempts, timeout, time.Duration(attempts)*perAttempt)
	}
	if got := time.Duration(*ad+deref64(spec.StartingDeadlineSeconds)) * time.Second; got >= period {
		t.Errorf("activeDeadlineSeconds + startingDeadlineSeconds = %s: a Job could still run at the next schedule (%s later)", got, period)
	}
}

func deref64[T ~int64](p *T) int64 {
	if p == nil {
		return 0
	}
	return int64(*p)
}

// TestCronJobLayout checks where the scheduled runs write, and that a
// retried pod, --resume and --baseline previous agree on it.
func TestCronJobLayout(t *testing.T) {
	o := loadK8s(t)
	specs := cliFlags(t)
	cj := o.cronJob(t, cronJobName)
	j := jobOf(cj)
	c := auditorContainer(t, j)

	var jobEnv *corev1.EnvVar
	for i, e := range c.Env {
		if e.ValueFrom != nil && e.ValueFrom.FieldRef != nil && e.ValueFrom.FieldRef.FieldPath == jobNameFieldPath {
			jobEnv = &c.Env[i]
		}
	}
	if jobEnv == nil {
		t.Fatalf("no variable from %s: the output directory must name the Job, which every pod of it shares", jobNameFieldPath)
	}
	if !strings.Contains(strings.Join(c.Args, " "), "$("+jobEnv.Name+")") {
		t.Errorf("args %q do not use $(%s)", c.Args, jobEnv.Name)
	}

	// out returns the output directory of a pod of the Job jobName.
	out := func(jobName string) (claimPath, map[string][]string) {
		t.Helper()
		f := sampleFields()
		f[jobNameFieldPath] = jobName
		inv, _, _ := podInvocation(t, c, f, specs)
		file, _ := scheduleFile(t, o, specs)
		opts := runOptions(t, file, inv)
		return o.onClaim(t, j, c, last(opts, "out")), opts
	}
	thisWeek, opts := out(cronJobName + "-29147175")
	retry, _ := out(cronJobName + "-29147175")
	nextWeek, _ := out(cronJobName + "-29157255")
	if thisWeek != retry {
		t.Errorf("a retried pod writes %v, the first pod %v: the retry would not continue the record", retry, thisWeek)
	}
	if thisWeek == nextWeek {
		t.Errorf("two Jobs write one directory %v", thisWeek)
	}
	if path.Dir(thisWeek.rel) != path.Dir(nextWeek.rel) || thisWeek.claim != nextWeek.claim {
		t.Errorf("two Jobs write %v and %v: --baseline previous looks for the previous run beside --out", thisWeek, nextWeek)
	}
	if o := last(opts, "out"); strings.ContainsAny(o, "{}") {
		t.Errorf("--out %s: a placeholder names a directory by the pod's start, so a retry would not continue the Job's record", o)
	}
	if last(opts, "resume") != "true" {
		t.Errorf("--resume is not set: a retried pod would refuse its Job's record")
	}
	if got := last(opts, "baseline"); got != "previous" {
		t.Errorf("--baseline %q, want previous: each run compares with the one before", got)
	}

	// Only scheduled runs live beside each other: another Job's run.json
	// there would be taken for the previous scheduled run.
	scheduled := path.Dir(thisWeek.rel)
	for _, name := range slices.Sorted(maps.Keys(o.jobs)) {
		oj := o.jobs[name]
		oc := auditorContainer(t, oj)
		n := 1
		if oj.Spec.Completions != nil {
			n = int(*oj.Spec.Completions)
		}
		for i := range n {
			f := sampleFields()
			f[indexFieldPath] = strconv.Itoa(i)
			inv, _, _ := podInvocation(t, oc, f, specs)
			p, _ := inv.last("out")
			cp := o.onClaim(t, oj, oc, p)
			if cp.claim == thisWeek.claim && (path.Dir(cp.rel) == scheduled || cp.rel == scheduled) {
				t.Errorf("Job %s writes %s, among the scheduled runs", name, p)
			}
		}
	}

	// A flag given on the command line and in the file is one too many:
	// the file's value would be dead.
	file, inv := scheduleFile(t, o, specs)
	fileOpts := runOptions(t, file, invocation{})
	for k := range inv.flags {
		if _, dup := fileOpts[k]; dup {
			t.Errorf("--%s is in the args and in %s; the args win, so the file's value is dead", k, scheduleKey)
		}
	}
}

// TestScheduleConfig checks the scheduled run's options: the file is one
// auditor run reads, secrets are out of it, and the choices the manifests
// rely on are made.
func TestScheduleConfig(t *testing.T) {
	o := loadK8s(t)
	specs := cliFlags(t)
	file, inv := scheduleFile(t, o, specs)
	checkScheduleFile(t, file, specs["run"])
	opts := runOptions(t, file, inv)

	if got := last(opts, "fail-on"); got != "none" {
		t.Errorf("--fail-on %q, want none: findings are the audit working, not the Job failing; --mail-when decides who hears of them", got)
	}
	if _, ok := opts["mail-when"]; !ok {
		t.Errorf("--mail-when is not set: choose when the schedule mails (always, findings or changes)")
	}
	mailing := len(opts["mail-to"]) > 0 || last(opts, "mail-to-label") != ""
	if !mailing && last(opts, "upload") == "" {
		t.Fatalf("no delivery: a scheduled run needs --mail-to (or --mail-to-label) or --upload")
	}
	if mailing && last(opts, "mail-from") == "" {
		t.Errorf("--mail-to without --mail-from")
	}
	if _, ok := opts[canaryFlag]; ok {
		t.Fatalf("--%s is set; the dry run below uses it as its canary: pick another", canaryFlag)
	}

	// Secrets: in the environment, from the Secret, and nowhere else.
	cj := o.cronJob(t, cronJobName)
	c := auditorContainer(t, jobOf(cj))
	fromSecret := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom != nil && e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			fromSecret[e.Name] = ref.Name + "/" + ref.Key
			if ref.Optional != nil && *ref.Optional {
				t.Errorf("env %s: an optional Secret would start the run without its login, to fail at the mail (exit 5) after the whole audit", e.Name)
			}
		case looksSecret(e.Name):
			t.Errorf("env %s holds a value in the manifest; secrets come from a Secret", e.Name)
		}
	}
	if last(opts, "smtp") != "" {
		want := map[string]string{
			"AUDITOR_SMTP_USERNAME": smtpSecret + "/username",
			"AUDITOR_SMTP_PASSWORD": smtpSecret + "/password",
		}
		for name, ref := range want {
			if fromSecret[name] != ref {
				t.Errorf("env %s from Secret key %q, want %q", name, fromSecret[name], ref)
			}
		}
	}
	for _, a := range c.Args {
		if strings.Contains(strings.ToLower(a), "password") {
			t.Errorf("arg %q: no secret goes on the command line", a)
		}
	}
	for name, cm := range o.configMaps {
		for k, v := range cm.Data {
			if looksSecret(k) || strings.Contains(v, "AUDITOR_SMTP_PASSWORD") || strings.Contains(strings.ToLower(v), `"password"`) {
				t.Errorf("ConfigMap %s, key %s: looks like it holds a secret; ConfigMaps are not secret", name, k)
			}
		}
	}
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	create := regexp.MustCompile(`create secret generic ` + smtpSecret + `[^\n]*(\\\n[^\n]*)*`).Find(readme)
	if create == nil || !bytes.Contains(create, []byte("--from-literal=username=")) || !bytes.Contains(create, []byte("--from-file=password=/dev/stdin")) {
		t.Errorf("deploy/README.md does not show how to create Secret %s with keys username and password", smtpSecret)
	}
	// The password never on a command line: shell history, the process list.
	if bytes.Contains(create, []byte("--from-literal=password")) {
		t.Errorf("deploy/README.md puts the SMTP password on kubectl's command line: %s", create)
	}

	// The file is read by auditor's own loader and accepted with the rest
	// of the pod's command line and environment: the run stops only on the
	// canary.
	dry := func(t *testing.T, mutate func(map[string]any)) (int, string) {
		t.Helper()
		root := t.TempDir()
		env, args := cronPod(t, root, o, cronJobName+"-29147175", sampleFields())
		if mutate != nil {
			i := slices.Index(args, "--cli-input-json")
			data, _ := os.ReadFile(args[i+1])
			var m map[string]any
			if err := json.Unmarshal(data, &m); err != nil {
				t.Fatal(err)
			}
			mutate(m)
			data, _ = json.Marshal(m)
			if err := os.WriteFile(args[i+1], data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		return dryRun(t, args, env)
	}
	if code, stderr := dry(t, nil); !canaryOnly(code, stderr) {
		t.Errorf("auditor run with the CronJob's command line and %s: exit %d, want 2 for the canary --%s %s alone:\n%s", scheduleKey, code, canaryFlag, canaryValue, stderr)
	}
	// The dry run catches what it is there to catch.
	mutations := []struct {
		name   string
		mutate func(map[string]any)
	}{
		{"an unknown key", func(m map[string]any) { m["mail-too"] = "x@example.com" }},
		{"a bad value", func(m map[string]any) { m["mail-when"] = "sometimes" }},
		{"a value of the wrong kind", func(m map[string]any) { m["concurrency"] = "many" }},
		{"a missing list", func(m map[string]any) { m["instances"] = []any{"/nonexistent/fleet.csv"} }},
	}
	for _, tt := range mutations {
		t.Run(tt.name, func(t *testing.T) {
			if code, stderr := dry(t, tt.mutate); canaryOnly(code, stderr) {
				t.Errorf("with %s in %s, auditor stopped on the canary alone (exit %d): the dry run proves nothing", tt.name, scheduleKey, code)
			}
		})
	}
}

// TestCronJobFailurePolicy checks what happens to a scheduled run for each
// exit code of auditor.
func TestCronJobFailurePolicy(t *testing.T) {
	o := loadK8s(t)
	j := jobOf(o.cronJob(t, cronJobName))
	p := j.Spec.PodFailurePolicy
	if p == nil {
		t.Fatalf("no podFailurePolicy: every failure would be retried, a failed mail included")
	}
	tests := []struct {
		name  string
		exit  int32
		conds []corev1.PodConditionType
		want  batchv1.PodFailurePolicyAction
	}{
		{"findings", 1, nil, batchv1.PodFailurePolicyActionFailJob},
		{"usage", 2, nil, batchv1.PodFailurePolicyActionFailJob},
		{"incomplete", 3, nil, batchv1.PodFailurePolicyActionCount},
		{"fatal", 4, nil, batchv1.PodFailurePolicyActionFailJob},
		{"delivery failed", 5, nil, batchv1.PodFailurePolicyActionFailJob},
		{"killed", 137, nil, batchv1.PodFailurePolicyActionCount},
		{"drained", 3, []corev1.PodConditionType{corev1.DisruptionTarget}, batchv1.PodFailurePolicyActionIgnore},
		{"evicted and killed", 137, []corev1.PodConditionType{corev1.DisruptionTarget}, batchv1.PodFailurePolicyActionIgnore},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("exit %d %s", tt.exit, tt.name), func(t *testing.T) {
			if got := podFailureAction(p, containerName, tt.exit, tt.conds...); got != tt.want {
				t.Errorf("action %s, want %s", got, tt.want)
			}
		})
	}
	// Exit 0 is success: no rule may name it (the API server refuses 0 in
	// In, and NotIn must list it).
	for i, r := range p.Rules {
		oc := r.OnExitCodes
		if oc == nil {
			if len(r.OnPodConditions) == 0 {
				t.Errorf("rule %d: want onExitCodes or onPodConditions", i)
			}
			continue
		}
		if (oc.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) == slices.Contains(oc.Values, 0) {
			t.Errorf("rule %d (%s %v) takes exit 0, which is success", i, oc.Operator, oc.Values)
		}
		if !slices.IsSorted(oc.Values) || len(slices.Compact(slices.Clone(oc.Values))) != len(oc.Values) || len(oc.Values) == 0 {
			t.Errorf("rule %d: values %v must be sorted, distinct and not empty", i, oc.Values)
		}
		if oc.ContainerName != nil && *oc.ContainerName != containerName {
			t.Errorf("rule %d: containerName %q is not the pod's container", i, *oc.ContainerName)
		}
		if r.Action == batchv1.PodFailurePolicyActionFailIndex {
			t.Errorf("rule %d: FailIndex needs an Indexed Job with backoffLimitPerIndex", i)
		}
	}
}

// The scheduled runs, run.

// testCronJobEndToEnd runs the CronJob's pods with a real auditor binary
// against the simulated SSM endpoint: a first Job, that Job's pod retried,
// and the next week's Job, each mailing its reports to an SMTP server in
// the test. It checks that the retry continues the Job's record and that
// the next week compares with the first.
func testCronJobEndToEnd(t *testing.T, bin string, ids []string, run func(*testing.T, map[string]string, string, ...string) (int, string)) {
	o := loadK8s(t)
	root := t.TempDir()
	const user, password = "auditor", "deploy-test-not-a-password"
	smtp := smtptest.NewServer(t, smtptest.Options{TLS: smtptest.NoTLS, Username: user, Password: password})
	fields := sampleFields()
	fields[secretField(smtpSecret, "username")] = user
	fields[secretField(smtpSecret, "password")] = password

	// start runs a pod of the Job jobName and returns its output
	// directory.
	start := func(t *testing.T, jobName string) string {
		t.Helper()
		env, args := cronPod(t, root, o, jobName, fields)
		// The relay of schedule.json stands for a real one: the
		// environment overrides the file, as AUDITOR_SMTP would in the
		// CronJob. Plain SMTP is allowed to loopback only.
		env["AUDITOR_SMTP"] = "smtp://" + smtp.Addr
		code, stderr := run(t, env, bin, args...)
		if code != 0 {
			t.Fatalf("Job %s exited %d (want 0):\n%s", jobName, code, stderr)
		}
		return args[slices.Index(args, "--out")+1]
	}
	lines := func(t *testing.T, dir string) int {
		t.Helper()
		data, err := os.ReadFile(filepath.Join(dir, audit.ResultsFile))
		if err != nil {
			t.Fatal(err)
		}
		return bytes.Count(data, []byte("\n"))
	}
	runInfo := func(t *testing.T, dir string) audit.RunInfo {
		t.Helper()
		ri, err := audit.ReadRunInfo(filepath.Join(dir, audit.RunFile))
		if err != nil {
			t.Fatal(err)
		}
		return ri
	}

	first := cronJobName + "-29147175"
	firstOut := start(t, first)
	if got := lines(t, firstOut); got != len(ids) {
		t.Errorf("the first run recorded %d instances, want %d", got, len(ids))
	}
	if ri := runInfo(t, firstOut); ri.Changes != nil || !ri.Complete {
		t.Errorf("the first run: changes %+v, complete %v; want no baseline (there is no earlier run) and complete", ri.Changes, ri.Complete)
	}
	if n := len(smtp.Messages()); n != 1 {
		t.Fatalf("the first run sent %d messages, want 1", n)
	}
	msg := smtp.Messages()[0]
	file, _ := scheduleFile(t, o, cliFlags(t))
	var cfg map[string]any
	if err := json.Unmarshal(file, &cfg); err != nil {
		t.Fatal(err)
	}
	if want := strs(cfg["mail-to"]); !slices.Equal(msg.To, want) {
		t.Errorf("mailed to %v, want %v", msg.To, want)
	}
	if smtp.Auths() == 0 {
		t.Errorf("the server saw no login: the Secret's variables did not reach the SMTP client")
	}

	// The same Job's pod, retried: it continues the record and audits
	// nothing again.
	retryOut := start(t, first)
	if retryOut != firstOut {
		t.Fatalf("the retried pod wrote %s, the first %s", retryOut, firstOut)
	}
	if got := lines(t, firstOut); got != len(ids) {
		t.Errorf("after the retry the record has %d lines, want %d: the retry audited again", got, len(ids))
	}
	if ri := runInfo(t, firstOut); ri.Resumed != len(ids) || ri.Changes != nil {
		t.Errorf("the retry: resumed %d, changes %+v; want all %d resumed, and still no baseline (not its own record)", ri.Resumed, ri.Changes, len(ids))
	}
	// Of the same record, whose mail went: nobody gets it twice.
	if n := len(smtp.Messages()); n != 1 {
		t.Errorf("after the retry %d messages in all, want the first run's alone", n)
	}

	// The next week's Job compares with the first.
	sent := len(smtp.Messages())
	nextOut := start(t, cronJobName+"-29157255")
	if filepath.Dir(nextOut) != filepath.Dir(firstOut) || nextOut == firstOut {
		t.Fatalf("the next run wrote %s, the first %s: want siblings", nextOut, firstOut)
	}
	ri := runInfo(t, nextOut)
	if ri.Changes == nil || !strings.Contains(ri.Changes.Baseline, filepath.Base(firstOut)) {
		t.Errorf("the next run's baseline %+v, want the first run %s", ri.Changes, firstOut)
	}
	if got := len(smtp.Messages()); got != sent+1 {
		t.Errorf("the next run sent %d messages, want 1", got-sent)
	}
}
