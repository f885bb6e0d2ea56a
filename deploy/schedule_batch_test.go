package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"
)

// AWS Batch on a schedule: EventBridge Scheduler's CreateSchedule input,
// mirroring the API's field names for the fields the file uses.

type schedulerSchedule struct {
	Name                       string           `json:"Name"`
	GroupName                  string           `json:"GroupName,omitempty"`
	Description                string           `json:"Description,omitempty"`
	ScheduleExpression         string           `json:"ScheduleExpression"`
	ScheduleExpressionTimezone string           `json:"ScheduleExpressionTimezone,omitempty"`
	StartDate                  string           `json:"StartDate,omitempty"`
	EndDate                    string           `json:"EndDate,omitempty"`
	FlexibleTimeWindow         *schedulerWindow `json:"FlexibleTimeWindow"`
	State                      string           `json:"State,omitempty"`
	KmsKeyArn                  string           `json:"KmsKeyArn,omitempty"`
	Target                     *schedulerTarget `json:"Target"`
	ActionAfterCompletion      string           `json:"ActionAfterCompletion,omitempty"`
	ClientToken                string           `json:"ClientToken,omitempty"`
}

type schedulerWindow struct {
	Mode                   string `json:"Mode"`
	MaximumWindowInMinutes int    `json:"MaximumWindowInMinutes,omitempty"`
}

type schedulerTarget struct {
	Arn              string          `json:"Arn"`
	RoleArn          string          `json:"RoleArn"`
	Input            string          `json:"Input,omitempty"`
	RetryPolicy      *schedulerRetry `json:"RetryPolicy,omitempty"`
	DeadLetterConfig *schedulerDLQ   `json:"DeadLetterConfig,omitempty"`
}

type schedulerRetry struct {
	MaximumEventAgeInSeconds *int `json:"MaximumEventAgeInSeconds,omitempty"`
	MaximumRetryAttempts     *int `json:"MaximumRetryAttempts,omitempty"`
}

type schedulerDLQ struct {
	Arn string `json:"Arn"`
}

// schedulerBatchJob is the universal target's Input: a SubmitJob request,
// with the API's member names in PascalCase, as EventBridge Scheduler's
// universal targets (and Step Functions' AWS SDK integrations) spell them.
type schedulerBatchJob struct {
	JobName            string               `json:"JobName"`
	JobQueue           string               `json:"JobQueue"`
	JobDefinition      string               `json:"JobDefinition"`
	Parameters         map[string]string    `json:"Parameters,omitempty"`
	ContainerOverrides *schedulerOverrides  `json:"ContainerOverrides,omitempty"`
	RetryStrategy      *schedulerBatchRetry `json:"RetryStrategy,omitempty"`
	Timeout            *schedulerTimeout    `json:"Timeout,omitempty"`
}

type schedulerOverrides struct {
	Command     []string            `json:"Command,omitempty"`
	Environment []schedulerKeyValue `json:"Environment,omitempty"`
}

type schedulerKeyValue struct {
	Name  string `json:"Name"`
	Value string `json:"Value"`
}

type schedulerBatchRetry struct {
	Attempts int `json:"Attempts,omitempty"`
}

type schedulerTimeout struct {
	AttemptDurationSeconds int `json:"AttemptDurationSeconds"`
}

var (
	roleARN  = regexp.MustCompile(`^arn:aws(-[a-z]+)?:iam::(\d{12}):role/([\w+=,.@/-]+)$`)
	sqsARN   = regexp.MustCompile(`^arn:aws(-[a-z]+)?:sqs:([a-z0-9-]+):(\d{12}):([a-zA-Z0-9_-]+)$`)
	nameRule = regexp.MustCompile(`^[0-9a-zA-Z-_.]{1,64}$`)
	jobName  = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$`)
)

// loadSchedule decodes the schedule and its Input strictly.
func loadSchedule(t *testing.T) (schedulerSchedule, schedulerBatchJob) {
	t.Helper()
	s := loadBatch[schedulerSchedule](t, batchSchedule)
	if s.Target == nil || s.FlexibleTimeWindow == nil {
		t.Fatalf("%s: Target and FlexibleTimeWindow are required", batchSchedule)
	}
	var in schedulerBatchJob
	if err := decodeStrictJSON([]byte(s.Target.Input), &in); err != nil {
		t.Fatalf("%s: Target.Input is not a SubmitJob request as the universal target takes it: %v", batchSchedule, err)
	}
	return s, in
}

// scheduledCommand returns the auditor command line of the scheduled job,
// with RUN_ID as EventBridge Scheduler would fill it in for runID.
func scheduledCommand(t *testing.T, d batchJobDefinition, in schedulerBatchJob, specs map[string]map[string]bool, runID string) (invocation, []string) {
	t.Helper()
	if in.ContainerOverrides == nil || len(in.ContainerOverrides.Command) == 0 {
		t.Fatalf("%s: Input has no ContainerOverrides.Command: the job definition's command shards (--shard auto), which a single job cannot", batchSchedule)
	}
	args, err := batchArgs(in.ContainerOverrides.Command)
	if err != nil {
		t.Fatal(err)
	}
	env := batchEnv(d.ContainerProperties.Environment)
	for _, kv := range in.ContainerOverrides.Environment {
		env[kv.Name] = strings.ReplaceAll(kv.Value, scheduledTimeKeyword, runID)
	}
	var exp []string
	for _, a := range args {
		v, err := expandShell(a, env)
		if err != nil {
			t.Fatal(err)
		}
		exp = append(exp, v)
	}
	inv, err := parseCommandLine(exp, specs)
	if err != nil {
		t.Fatalf("command: %v", err)
	}
	return inv, exp
}

// TestBatchSchedule checks the EventBridge Scheduler schedule that submits
// the scheduled audit to AWS Batch.
func TestBatchSchedule(t *testing.T) {
	specs := cliFlags(t)
	d := loadBatch[batchJobDefinition](t, batchDefinition)
	a := loadBatch[batchSubmit](t, batchAudit)
	s, in := loadSchedule(t)

	if !nameRule.MatchString(s.Name) || s.GroupName != "" && !nameRule.MatchString(s.GroupName) {
		t.Errorf("Name %q, GroupName %q: 1 to 64 letters, digits, - _ .", s.Name, s.GroupName)
	}
	if s.State != "" && s.State != "ENABLED" && s.State != "DISABLED" {
		t.Errorf("State %q: ENABLED or DISABLED", s.State)
	}
	if len(s.Description) > 512 {
		t.Errorf("Description: at most 512 characters")
	}
	sched, err := parseEventBridgeCron(s.ScheduleExpression)
	if err != nil {
		t.Fatalf("ScheduleExpression: %v", err)
	}
	if len(sched.sets[0]) != 1 || len(sched.sets[1]) != 1 {
		t.Errorf("ScheduleExpression %q fires more than once a day", s.ScheduleExpression)
	}
	if s.ScheduleExpressionTimezone == "" {
		t.Errorf("no ScheduleExpressionTimezone: the schedule would be UTC, an hour off local time half the year")
	}
	if _, err := time.LoadLocation(s.ScheduleExpressionTimezone); err != nil {
		t.Errorf("ScheduleExpressionTimezone %q: %v", s.ScheduleExpressionTimezone, err)
	}
	switch w := s.FlexibleTimeWindow; w.Mode {
	case "OFF":
		if w.MaximumWindowInMinutes != 0 {
			t.Errorf("FlexibleTimeWindow: MaximumWindowInMinutes goes with Mode FLEXIBLE")
		}
	case "FLEXIBLE":
		if w.MaximumWindowInMinutes < 1 || w.MaximumWindowInMinutes > 1440 {
			t.Errorf("FlexibleTimeWindow: MaximumWindowInMinutes %d, want 1 to 1440", w.MaximumWindowInMinutes)
		}
	default:
		t.Errorf("FlexibleTimeWindow.Mode %q: OFF or FLEXIBLE", w.Mode)
	}

	tg := s.Target
	if tg.Arn != submitJobTarget {
		t.Errorf("Target.Arn %q, want %s (Batch has no templated target)", tg.Arn, submitJobTarget)
	}
	if !roleARN.MatchString(tg.RoleArn) {
		t.Errorf("Target.RoleArn %q: want an IAM role ARN (placeholder)", tg.RoleArn)
	}
	if r := tg.RetryPolicy; r != nil {
		if v := r.MaximumEventAgeInSeconds; v != nil && (*v < 60 || *v > 86400) {
			t.Errorf("RetryPolicy.MaximumEventAgeInSeconds %d: 60 to 86400", *v)
		}
		if v := r.MaximumRetryAttempts; v != nil && (*v < 0 || *v > 185) {
			t.Errorf("RetryPolicy.MaximumRetryAttempts %d: 0 to 185", *v)
		}
	}
	if tg.DeadLetterConfig == nil || !sqsARN.MatchString(tg.DeadLetterConfig.Arn) {
		t.Errorf("Target.DeadLetterConfig %+v: want an SQS queue, so that a week whose submission failed is seen", tg.DeadLetterConfig)
	}

	// The submission: the job definition the array audit uses, in its
	// queue, as one job.
	if in.JobDefinition != d.JobDefinitionName && !strings.HasPrefix(in.JobDefinition, d.JobDefinitionName+":") {
		t.Errorf("Input JobDefinition %q, want %q (or a revision of it)", in.JobDefinition, d.JobDefinitionName)
	}
	if in.JobQueue != a.JobQueue {
		t.Errorf("Input JobQueue %q, want the audit's queue %q", in.JobQueue, a.JobQueue)
	}
	if !jobName.MatchString(in.JobName) {
		t.Errorf("Input JobName %q: up to 128 letters, digits, - and _, starting with a letter or digit", in.JobName)
	}
	runIDs := map[string]string{}
	for _, kv := range in.ContainerOverrides.Environment {
		if strings.HasPrefix(kv.Name, "AWS_BATCH") {
			t.Errorf("Environment %s: AWS Batch reserves the AWS_BATCH prefix", kv.Name)
		}
		if looksSecret(kv.Name) {
			t.Errorf("Environment %s: no secret goes in a schedule", kv.Name)
		}
		runIDs[kv.Name] = kv.Value
	}
	if runIDs["RUN_ID"] != scheduledTimeKeyword {
		t.Errorf("Environment RUN_ID = %q, want %s: each scheduled time names its own run, and a retried attempt of the job keeps it", runIDs["RUN_ID"], scheduledTimeKeyword)
	}

	inv, exp := scheduledCommand(t, d, in, specs, "2025-06-02T02:15:00Z")
	if inv.command != "run" || len(inv.positional) > 0 {
		t.Fatalf("command %q: want auditor run with flags only", exp)
	}
	if _, ok := inv.last("shard"); ok {
		t.Errorf("--shard: the scheduled job is a single job, not an array")
	}
	if v, _ := inv.last("resume"); v != "true" {
		t.Errorf("--resume is not set: a retried attempt would refuse its own record")
	}
	if v, _ := inv.last("baseline"); v != "previous" {
		t.Errorf("--baseline %q, want previous", v)
	}
	if v, _ := inv.last("fail-on"); v != "none" {
		t.Errorf("--fail-on %q, want none: findings would fail the job", v)
	}
	out, _ := inv.last("out")
	if strings.ContainsAny(out, "{}") {
		t.Errorf("--out %s: a placeholder would give a retried attempt a new directory", out)
	}
	next, _ := scheduledCommand(t, d, in, specs, "2025-06-09T02:15:00Z")
	nextOut, _ := next.last("out")
	if nextOut == out || path.Dir(nextOut) != path.Dir(out) {
		t.Errorf("two scheduled times write %s and %s: want a directory each, side by side for --baseline previous", out, nextOut)
	}
	if up, ok := inv.last("upload"); ok {
		nextUp, _ := next.last("upload")
		if up == nextUp {
			t.Errorf("--upload %s is the same for every run: each week would overwrite the last", up)
		}
	}
	mailing := false
	if _, ok := inv.last("mail-to"); ok {
		mailing = true
		if v, _ := inv.last("mail-via"); v != "ses" {
			t.Errorf("--mail-via %q: the job has no secret for an SMTP login; mail through SES with the job role", v)
		}
	}
	if _, ok := inv.last("upload"); !ok && !mailing {
		t.Errorf("no delivery: want --mail-to or --upload")
	}
	var efs bool
	for _, mp := range d.ContainerProperties.MountPoints {
		if strings.HasPrefix(out, mp.ContainerPath+"/") && mp.ReadOnly != nil && !*mp.ReadOnly {
			for _, v := range d.ContainerProperties.Volumes {
				efs = efs || v.Name == mp.SourceVolume && v.EFSVolumeConfiguration != nil
			}
		}
	}
	if !efs {
		t.Errorf("--out %s is not on the EFS volume: the retry and next week's run could not read it", out)
	}
	timeout, err := time.ParseDuration(func() string { v, _ := inv.last("timeout"); return v }())
	if err != nil || d.Timeout == nil || timeout+10*time.Minute > time.Duration(d.Timeout.AttemptDurationSeconds)*time.Second {
		t.Errorf("--timeout %s: want one, with room to render and mail before the job definition's attempt timeout (%+v)", timeout, d.Timeout)
	}
	if in.Timeout != nil || in.RetryStrategy != nil {
		t.Errorf("Input overrides the job definition's timeout or retries: the checks above assume the definition's")
	}

	// Exit codes, as the job definition retries them: an incomplete run
	// resumes, a failed delivery is not audited again.
	for _, tt := range []struct {
		exit, want string
	}{{"3", "RETRY"}, {"5", "EXIT"}} {
		if got := batchAction(d.RetryStrategy, tt.exit, "", "Essential container in task exited"); got != tt.want {
			t.Errorf("exit %s: %s, want %s", tt.exit, got, tt.want)
		}
	}

	// The command is accepted by auditor, paths on the test's disk.
	root := t.TempDir()
	var pairs []string
	for _, mp := range d.ContainerProperties.MountPoints {
		dir := filepath.Join(root, mp.SourceVolume)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		pairs = append(pairs, mp.ContainerPath, dir)
	}
	mapPaths := strings.NewReplacer(pairs...)
	o := loadK8s(t)
	list, _ := inv.last("instances")
	if err := os.WriteFile(mapPaths.Replace(list), []byte(o.configMaps[fleetConfigMap].Data["fleet.csv"]), 0o644); err != nil {
		t.Fatal(err)
	}
	var args []string
	for _, w := range exp {
		args = append(args, mapPaths.Replace(w))
	}
	if code, stderr := dryRun(t, args, batchEnv(d.ContainerProperties.Environment)); !canaryOnly(code, stderr) {
		t.Errorf("auditor %q: exit %d, want 2 for the canary --%s %s alone:\n%s", args, code, canaryFlag, canaryValue, stderr)
	}
}

// iamDoc is the part of an IAM policy document the checks read.
type iamDoc struct {
	Version   string
	Statement []struct {
		Sid       string
		Effect    string
		Principal map[string]any
		Action    any
		Resource  any
		Condition map[string]map[string]any
	}
}

func loadIAM(t *testing.T, name string) iamDoc {
	t.Helper()
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := checkDuplicateKeys(data); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	var d iamDoc
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	if d.Version != "2012-10-17" {
		t.Errorf("%s: Version %q, want 2012-10-17", name, d.Version)
	}
	return d
}

// TestSchedulerRole checks the role EventBridge Scheduler assumes: only
// EventBridge Scheduler of the schedule's account and group may assume it,
// and it may only submit the audit and fill the dead-letter queue.
func TestSchedulerRole(t *testing.T) {
	s, in := loadSchedule(t)
	m := roleARN.FindStringSubmatch(s.Target.RoleArn)
	if m == nil {
		t.Fatalf("Target.RoleArn %q is not a role ARN", s.Target.RoleArn)
	}
	account, role := m[2], m[3]
	dlq := sqsARN.FindStringSubmatch(s.Target.DeadLetterConfig.Arn)
	if dlq == nil {
		t.Fatalf("no dead-letter queue")
	}
	region := dlq[2]
	if dlq[3] != account {
		t.Errorf("the dead-letter queue is in account %s, the role in %s", dlq[3], account)
	}
	group := s.GroupName
	if group == "" {
		group = "default"
	}

	trust := loadIAM(t, schedulerTrust)
	if len(trust.Statement) != 1 {
		t.Fatalf("%s: want one statement", schedulerTrust)
	}
	st := trust.Statement[0]
	if st.Effect != "Allow" || !slices.Equal(strs(st.Action), []string{"sts:AssumeRole"}) || !slices.Equal(strs(st.Principal["Service"]), []string{"scheduler.amazonaws.com"}) || len(st.Principal) != 1 {
		t.Errorf("%s: want scheduler.amazonaws.com allowed sts:AssumeRole, and no one else", schedulerTrust)
	}
	if got := st.Condition["StringEquals"]["aws:SourceAccount"]; got != account {
		t.Errorf("%s: aws:SourceAccount %v, want the schedule's account %s (confused-deputy protection)", schedulerTrust, got, account)
	}
	wantGroup := fmt.Sprintf("arn:aws:scheduler:%s:%s:schedule-group/%s", region, account, group)
	if got := st.Condition["ArnEquals"]["aws:SourceArn"]; got != wantGroup {
		t.Errorf("%s: aws:SourceArn %v, want the schedule's group %s", schedulerTrust, got, wantGroup)
	}

	policy := loadIAM(t, schedulerPolicy)
	allowed := map[string][]string{}
	for _, st := range policy.Statement {
		if st.Effect != "Allow" {
			continue
		}
		for _, a := range strs(st.Action) {
			allowed[a] = append(allowed[a], strs(st.Resource)...)
		}
	}
	if got := slices.Sorted(maps.Keys(allowed)); !slices.Equal(got, []string{"batch:SubmitJob", "sqs:SendMessage"}) {
		t.Errorf("%s allows %v, want batch:SubmitJob and sqs:SendMessage (the dead-letter queue)", schedulerPolicy, got)
	}
	def, _, _ := strings.Cut(in.JobDefinition, ":")
	wantSubmit := []string{
		fmt.Sprintf("arn:aws:batch:%s:%s:job-definition/%s:*", region, account, def),
		fmt.Sprintf("arn:aws:batch:%s:%s:job-queue/%s", region, account, in.JobQueue),
	}
	if got := slices.Sorted(slices.Values(allowed["batch:SubmitJob"])); !slices.Equal(got, wantSubmit) {
		t.Errorf("batch:SubmitJob on %v, want %v: the queue and every revision of the job definition (a name without :* matches no submission)", got, wantSubmit)
	}
	if got := allowed["sqs:SendMessage"]; !slices.Equal(got, []string{s.Target.DeadLetterConfig.Arn}) {
		t.Errorf("sqs:SendMessage on %v, want the dead-letter queue %s", got, s.Target.DeadLetterConfig.Arn)
	}

	// deploy/README.md creates the role the schedule names, from these
	// files.
	readme, err := os.ReadFile("README.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"--role-name " + role,
		"file://deploy/" + schedulerTrust,
		"file://deploy/" + schedulerPolicy,
		"file://deploy/" + batchSchedule,
	} {
		if !bytes.Contains(readme, []byte(want)) {
			t.Errorf("deploy/README.md does not say %q", want)
		}
	}
}

// TestSchedulerDecoding checks that the schedule's decoders refuse what
// EventBridge Scheduler and the universal target would: the schedule in
// the API's PascalCase, its Input in PascalCase too (AWS Batch's own
// camelCase is not what the universal target reads).
func TestSchedulerDecoding(t *testing.T) {
	const valid = `{"Name": "a", "ScheduleExpression": "cron(15 3 ? * MON *)", "FlexibleTimeWindow": {"Mode": "OFF"},
	  "Target": {"Arn": "arn:aws:scheduler:::aws-sdk:batch:submitJob", "RoleArn": "arn:aws:iam::111122223333:role/r", "Input": "{}"}}`
	scheduleTests := []struct {
		name    string
		doc     string
		wantErr bool
	}{
		{"valid", valid, false},
		{"field in camelCase", strings.Replace(valid, `"ScheduleExpression"`, `"scheduleExpression"`, 1), true},
		{"misspelt field", strings.Replace(valid, `"FlexibleTimeWindow"`, `"FlexibleWindow"`, 1), true},
		{"Input not a string", strings.Replace(valid, `"Input": "{}"`, `"Input": {}`, 1), true},
	}
	for _, tt := range scheduleTests {
		t.Run("schedule/"+tt.name, func(t *testing.T) {
			var s schedulerSchedule
			err := decodeStrictJSON([]byte(tt.doc), &s)
			if got := err != nil; got != tt.wantErr {
				t.Errorf("decodeStrictJSON error = %v, want an error: %v", err, tt.wantErr)
			}
		})
	}
	inputTests := []struct {
		name    string
		doc     string
		wantErr bool
	}{
		{"valid", `{"JobName": "a", "JobQueue": "q", "JobDefinition": "d", "ContainerOverrides": {"Command": ["x"], "Environment": [{"Name": "A", "Value": "b"}]}}`, false},
		{"Batch's camelCase", `{"jobName": "a", "jobQueue": "q", "jobDefinition": "d"}`, true},
		{"nested camelCase", `{"JobName": "a", "JobQueue": "q", "JobDefinition": "d", "ContainerOverrides": {"command": ["x"]}}`, true},
		{"unknown field", `{"JobName": "a", "JobQueue": "q", "JobDefinition": "d", "ArrayProperties": {"Size": 2}}`, true},
	}
	for _, tt := range inputTests {
		t.Run("input/"+tt.name, func(t *testing.T) {
			var in schedulerBatchJob
			err := decodeStrictJSON([]byte(tt.doc), &in)
			if got := err != nil; got != tt.wantErr {
				t.Errorf("decodeStrictJSON error = %v, want an error: %v", err, tt.wantErr)
			}
		})
	}
}
