package deploy_test

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	k8syaml "k8s.io/apimachinery/pkg/util/yaml"

	"github.com/auditor-dev/auditor/audit"
	"github.com/auditor-dev/auditor/internal/cli"
	"github.com/auditor-dev/auditor/ssmsim"
)

// The names the manifests and README.md use for each other's objects.
const (
	auditJobName    = "auditor-audit"
	mergeJobName    = "auditor-merge"
	serviceAccount  = "auditor"
	fleetConfigMap  = "auditor-fleet"
	dataClaim       = "auditor-data"
	containerName   = "auditor"
	indexFieldPath  = "metadata.annotations['batch.kubernetes.io/job-completion-index']"
	cliSource       = "../cmd/auditor"
	imageBinary     = "/auditor"
	batchShell      = "/busybox/sh"
	batchDefinition = "aws-batch/job-definition.json"
	batchAudit      = "aws-batch/submit-audit.json"
	batchMerge      = "aws-batch/submit-merge.json"
)

// Kubernetes decoding.

// k8sDecoder decodes YAML or JSON into the typed object its apiVersion and
// kind name, strictly, as the API server does with fieldValidation=Strict:
// an unknown field, a field name in the wrong case or a duplicate field is an
// error.
var k8sDecoder = sync.OnceValue(func() runtime.Decoder {
	s := runtime.NewScheme()
	for _, add := range []func(*runtime.Scheme) error{batchv1.AddToScheme, corev1.AddToScheme} {
		if err := add(s); err != nil {
			panic(err)
		}
	}
	return serializer.NewCodecFactory(s, serializer.EnableStrict).UniversalDeserializer()
})

// k8sObjects are the objects of deploy/kubernetes/*.yaml by kind and name.
type k8sObjects struct {
	jobs       map[string]*batchv1.Job
	cronJobs   map[string]*batchv1.CronJob
	accounts   map[string]*corev1.ServiceAccount
	configMaps map[string]*corev1.ConfigMap
	claims     map[string]*corev1.PersistentVolumeClaim
}

// splitYAML returns the documents of a multi-document YAML file, leaving out
// those that hold only comments.
func splitYAML(data []byte) ([][]byte, error) {
	r := k8syaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(data)))
	var docs [][]byte
	for {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		for line := range strings.Lines(string(doc)) {
			if l := strings.TrimSpace(line); l != "" && l != "---" && !strings.HasPrefix(l, "#") {
				docs = append(docs, doc)
				break
			}
		}
	}
}

func loadK8s(t *testing.T) k8sObjects {
	t.Helper()
	files, err := filepath.Glob("kubernetes/*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no manifests in kubernetes/*.yaml (err %v)", err)
	}
	objs := k8sObjects{
		jobs:       map[string]*batchv1.Job{},
		cronJobs:   map[string]*batchv1.CronJob{},
		accounts:   map[string]*corev1.ServiceAccount{},
		configMaps: map[string]*corev1.ConfigMap{},
		claims:     map[string]*corev1.PersistentVolumeClaim{},
	}
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		docs, err := splitYAML(data)
		if err != nil {
			t.Fatalf("%s: %v", file, err)
		}
		for i, doc := range docs {
			obj, _, err := k8sDecoder().Decode(doc, nil, nil)
			if err != nil {
				t.Errorf("%s, document %d: %v", file, i+1, err)
				continue
			}
			var name string
			switch o := obj.(type) {
			case *batchv1.Job:
				name = o.Name
				objs.jobs[name] = o
			case *batchv1.CronJob:
				name = o.Name
				objs.cronJobs[name] = o
			case *corev1.ServiceAccount:
				name = o.Name
				objs.accounts[name] = o
			case *corev1.ConfigMap:
				name = o.Name
				objs.configMaps[name] = o
			case *corev1.PersistentVolumeClaim:
				name = o.Name
				objs.claims[name] = o
			default:
				t.Errorf("%s, document %d: a %T; the test knows Job, CronJob, ServiceAccount, ConfigMap and PersistentVolumeClaim", file, i+1, obj)
			}
			if name == "" {
				t.Errorf("%s, document %d: no metadata.name", file, i+1)
			}
		}
	}
	if t.Failed() {
		t.FailNow()
	}
	return objs
}

func (o k8sObjects) job(t *testing.T, name string) *batchv1.Job {
	t.Helper()
	j, ok := o.jobs[name]
	if !ok {
		t.Fatalf("no Job %q in kubernetes/*.yaml (have %v)", name, slices.Sorted(maps.Keys(o.jobs)))
	}
	return j
}

// auditorContainer returns the pod's one container, which must be named
// "auditor": the pod failure policies name it.
func auditorContainer(t *testing.T, j *batchv1.Job) corev1.Container {
	t.Helper()
	cs := j.Spec.Template.Spec.Containers
	if len(cs) != 1 || cs[0].Name != containerName {
		t.Fatalf("Job %s: want one container named %q, have %d", j.Name, containerName, len(cs))
	}
	if len(j.Spec.Template.Spec.InitContainers) > 0 {
		t.Fatalf("Job %s: init containers would count in the exit-code rules of the pod failure policy", j.Name)
	}
	return cs[0]
}

// refPattern matches what the kubelet expands in command, args and env:
// $(NAME), and $$ for a literal $.
var refPattern = regexp.MustCompile(`\$\$|\$\(([A-Za-z_][A-Za-z0-9_]*)\)`)

// expandK8s does what the kubelet does to a container's args: $(NAME) becomes
// the value of the container's variable NAME. The kubelet leaves a reference
// to an undefined variable as written; here that is an error, because such an
// argument would name a directory "$(NAME)".
func expandK8s(s string, env map[string]string) (string, error) {
	var missing []string
	out := refPattern.ReplaceAllStringFunc(s, func(m string) string {
		if m == "$$" {
			return "$"
		}
		name := m[2 : len(m)-1]
		v, ok := env[name]
		if !ok {
			missing = append(missing, name)
			return m
		}
		return v
	})
	if len(missing) > 0 {
		return "", fmt.Errorf("%q refers to %v, which the container's env does not define", s, missing)
	}
	return out, nil
}

// containerEnv returns the container's variables as the pod sees them;
// fields gives the value of each downward-API field path used, and of each
// Secret key used under secretField's name for it.
func containerEnv(c corev1.Container, fields map[string]string) (map[string]string, error) {
	env := map[string]string{}
	for _, e := range c.Env {
		switch {
		case e.ValueFrom == nil:
			v, err := expandK8s(e.Value, env)
			if err != nil {
				return nil, fmt.Errorf("env %s: %v", e.Name, err)
			}
			env[e.Name] = v
		case e.ValueFrom.FieldRef != nil:
			v, ok := fields[e.ValueFrom.FieldRef.FieldPath]
			if !ok {
				return nil, fmt.Errorf("env %s: the test has no value for field %s", e.Name, e.ValueFrom.FieldRef.FieldPath)
			}
			env[e.Name] = v
		case e.ValueFrom.SecretKeyRef != nil:
			ref := e.ValueFrom.SecretKeyRef
			v, ok := fields[secretField(ref.Name, ref.Key)]
			if !ok {
				return nil, fmt.Errorf("env %s: the test has no value for key %s of Secret %s", e.Name, ref.Key, ref.Name)
			}
			env[e.Name] = v
		default:
			return nil, fmt.Errorf("env %s: only values, fieldRefs and secretKeyRefs are expected", e.Name)
		}
	}
	return env, nil
}

// secretField names a Secret's key in containerEnv's fields.
func secretField(secret, key string) string { return "secret:" + secret + "/" + key }

// expandedArgs returns the container's args as the process receives them.
func expandedArgs(c corev1.Container, env map[string]string) ([]string, error) {
	out := make([]string, len(c.Args))
	for i, a := range c.Args {
		v, err := expandK8s(a, env)
		if err != nil {
			return nil, err
		}
		out[i] = v
	}
	return out, nil
}

// podArgs returns the arguments container c runs with, its variables
// expanded as the kubelet does with the downward-API fields given.
func podArgs(t *testing.T, c corev1.Container, fields map[string]string) ([]string, map[string]string) {
	t.Helper()
	env, err := containerEnv(c, fields)
	if err != nil {
		t.Fatal(err)
	}
	args, err := expandedArgs(c, env)
	if err != nil {
		t.Fatal(err)
	}
	return args, env
}

// podInvocation is podArgs parsed as an auditor command line.
func podInvocation(t *testing.T, c corev1.Container, fields map[string]string, specs map[string]map[string]bool) (invocation, []string, map[string]string) {
	t.Helper()
	args, env := podArgs(t, c, fields)
	inv, err := parseCommandLine(args, specs)
	if err != nil {
		t.Fatalf("args %q: %v", args, err)
	}
	return inv, args, env
}

// volumeFile says which volume holds the container path p, and where in it.
type volumeFile struct {
	volume corev1.Volume
	mount  corev1.VolumeMount
	rel    string // slash-separated, relative to the volume's root
}

// onVolume resolves p through the container's mounts (the longest mount path
// that contains p wins, as in the container's mount table).
func onVolume(spec corev1.PodSpec, c corev1.Container, p string) (volumeFile, error) {
	var best *corev1.VolumeMount
	for i, m := range c.VolumeMounts {
		if p == m.MountPath || strings.HasPrefix(p, strings.TrimSuffix(m.MountPath, "/")+"/") {
			if best == nil || len(m.MountPath) > len(best.MountPath) {
				best = &c.VolumeMounts[i]
			}
		}
	}
	if best == nil {
		return volumeFile{}, fmt.Errorf("%s is on no volume (it would be in the image's read-only root file system)", p)
	}
	for _, v := range spec.Volumes {
		if v.Name == best.Name {
			rel := strings.TrimPrefix(strings.TrimPrefix(p, best.MountPath), "/")
			if best.SubPath != "" {
				rel = path.Join(best.SubPath, rel)
			}
			return volumeFile{volume: v, mount: *best, rel: rel}, nil
		}
	}
	return volumeFile{}, fmt.Errorf("mount %s names volume %q, which the pod does not have", best.MountPath, best.Name)
}

// claimPath names a file on a PersistentVolumeClaim, whichever pod mounts it
// wherever.
type claimPath struct{ claim, rel string }

func (o k8sObjects) onClaim(t *testing.T, j *batchv1.Job, c corev1.Container, p string) claimPath {
	t.Helper()
	vf, err := onVolume(j.Spec.Template.Spec, c, p)
	if err != nil {
		t.Fatalf("Job %s: %v", j.Name, err)
	}
	pvc := vf.volume.PersistentVolumeClaim
	if pvc == nil {
		t.Fatalf("Job %s: %s is on volume %q, which is not the shared claim", j.Name, p, vf.volume.Name)
	}
	if _, ok := o.claims[pvc.ClaimName]; !ok {
		t.Fatalf("Job %s: volume %q claims %q, which kubernetes/*.yaml does not define", j.Name, vf.volume.Name, pvc.ClaimName)
	}
	if vf.mount.ReadOnly || pvc.ReadOnly {
		t.Errorf("Job %s: %s is on a read-only mount", j.Name, p)
	}
	return claimPath{pvc.ClaimName, vf.rel}
}

// The CLI's flags, read from its source.

// cliParse holds the CLI's non-test sources, parsed.
var cliParse = sync.OnceValues(func() ([]*ast.File, error) {
	names, err := filepath.Glob(filepath.Join(cliSource, "*.go"))
	if err != nil {
		return nil, err
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, n, nil, parser.SkipObjectResolution)
		if err != nil {
			return nil, err
		}
		files = append(files, f)
	}
	if len(files) == 0 {
		return nil, fmt.Errorf("no Go files in %s", cliSource)
	}
	return files, nil
})

// cliFlags returns the flags of each auditor subcommand, as the CLI itself
// lists them (auditor COMMAND --generate-cli-skeleton): subcommand -> flag
// name -> whether it is boolean.
func cliFlags(t *testing.T) map[string]map[string]bool {
	t.Helper()
	out := map[string]map[string]bool{}
	for _, sub := range []string{"run", "demo", "report", "simulate"} {
		flags, err := cli.Flags(sub)
		if err != nil {
			t.Fatal(err)
		}
		out[sub] = flags
	}
	return out
}

// invocation is an auditor command line, parsed as the flag package parses
// it.
type invocation struct {
	command    string
	flags      map[string][]string // a boolean flag given alone is "true"
	positional []string
}

func (inv invocation) last(name string) (string, bool) {
	v := inv.flags[name]
	if len(v) == 0 {
		return "", false
	}
	return v[len(v)-1], true
}

// parseCommandLine parses args (the subcommand first) against the CLI's
// flags, with the flag package's rules: -name and --name, -name=value, a
// value in the next argument unless the flag is boolean, "--" ending the
// flags. Positional arguments may stand between flags (the report command
// allows that; run refuses any).
func parseCommandLine(args []string, specs map[string]map[string]bool) (invocation, error) {
	if len(args) == 0 {
		return invocation{}, errors.New("no arguments: the first must be an auditor command")
	}
	spec, ok := specs[args[0]]
	if !ok {
		return invocation{}, fmt.Errorf("%q is not an auditor command (have %v)", args[0], slices.Sorted(maps.Keys(specs)))
	}
	inv := invocation{command: args[0], flags: map[string][]string{}}
	rest := args[1:]
	for i := 0; i < len(rest); i++ {
		a := rest[i]
		if a == "--" {
			inv.positional = append(inv.positional, rest[i+1:]...)
			break
		}
		if len(a) < 2 || a[0] != '-' {
			inv.positional = append(inv.positional, a)
			continue
		}
		if strings.HasPrefix(a, "---") {
			return inv, fmt.Errorf("%q: bad flag syntax", a)
		}
		name, val, hasVal := strings.Cut(strings.TrimLeft(a, "-"), "=")
		isBool, ok := spec[name]
		if !ok {
			return inv, fmt.Errorf("auditor %s has no flag --%s (have %v)", args[0], name, slices.Sorted(maps.Keys(spec)))
		}
		switch {
		case hasVal && isBool:
			if _, err := strconv.ParseBool(val); err != nil {
				return inv, fmt.Errorf("--%s=%s: not a boolean", name, val)
			}
		case !hasVal && isBool:
			val = "true"
		case !hasVal:
			if i+1 >= len(rest) {
				return inv, fmt.Errorf("--%s needs a value", name)
			}
			i++
			val = rest[i]
		}
		inv.flags[name] = append(inv.flags[name], val)
	}
	return inv, nil
}

// Shell words, for the AWS Batch commands.

// shellWords splits a POSIX shell command line into words and removes the
// quotes, leaving $ expansions as written. It knows what the manifests use:
// blanks, '...', "..." and backslash escapes.
func shellWords(s string) ([]string, error) {
	var words []string
	var cur strings.Builder
	inWord := false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == ' ' || c == '\t' || c == '\n':
			if inWord {
				words = append(words, cur.String())
				cur.Reset()
				inWord = false
			}
		case c == '\'':
			j := strings.IndexByte(s[i+1:], '\'')
			if j < 0 {
				return nil, fmt.Errorf("unterminated ' in %q", s)
			}
			cur.WriteString(s[i+1 : i+1+j])
			i += j + 1
			inWord = true
		case c == '"':
			i++
			for ; i < len(s) && s[i] != '"'; i++ {
				if s[i] == '\\' && i+1 < len(s) && strings.IndexByte("$`\"\\\n", s[i+1]) >= 0 {
					i++
				}
				cur.WriteByte(s[i])
			}
			if i >= len(s) {
				return nil, fmt.Errorf("unterminated \" in %q", s)
			}
			inWord = true
		case c == '\\' && i+1 < len(s):
			i++
			cur.WriteByte(s[i])
			inWord = true
		default:
			cur.WriteByte(c)
			inWord = true
		}
	}
	if inWord {
		words = append(words, cur.String())
	}
	return words, nil
}

var shellVar = regexp.MustCompile(`\$\{([A-Za-z_][A-Za-z0-9_]*)(:\?[^}]*)?\}|\$([A-Za-z_][A-Za-z0-9_]*)`)

// expandShell expands $NAME, ${NAME} and ${NAME:?...} in a word from env; a
// variable that env lacks, or any other expansion, is an error.
func expandShell(w string, env map[string]string) (string, error) {
	var err error
	out := shellVar.ReplaceAllStringFunc(w, func(m string) string {
		sm := shellVar.FindStringSubmatch(m)
		name := sm[1] + sm[3]
		v, ok := env[name]
		if !ok && err == nil {
			err = fmt.Errorf("%q uses $%s, which is not set", w, name)
		}
		return v
	})
	if err == nil && strings.ContainsAny(out, "$`") {
		err = fmt.Errorf("%q: an expansion the test does not follow", w)
	}
	return out, err
}

// batchArgs returns the auditor arguments of an AWS Batch command, which
// must be busybox's sh -c "exec /auditor ARGS" (the shell puts the array
// index into --out), and any arguments after the script ($0, $1...).
func batchArgs(command []string) (args []string, err error) {
	if len(command) < 3 || command[0] != batchShell || command[1] != "-c" {
		return nil, fmt.Errorf("command %q: want %s -c SCRIPT", command, batchShell)
	}
	words, err := shellWords(command[2])
	if err != nil {
		return nil, err
	}
	if len(words) < 3 || words[0] != "exec" || words[1] != imageBinary {
		return nil, fmt.Errorf("script %q: want exec %s ARGS, so that auditor gets the signals and its exit code is the job's", command[2], imageBinary)
	}
	for _, w := range words[2:] {
		if strings.ContainsAny(shellVar.ReplaceAllString(w, ""), ";|&<>`*?[$(){}") {
			return nil, fmt.Errorf("script %q: %q is more shell than the test follows", command[2], w)
		}
	}
	return words[2:], nil
}

// AWS Batch documents, mirroring the API's field names (RegisterJobDefinition
// and SubmitJob) for the fields the manifests use.

type batchJobDefinition struct {
	JobDefinitionName    string              `json:"jobDefinitionName"`
	Type                 string              `json:"type"`
	PlatformCapabilities []string            `json:"platformCapabilities,omitempty"`
	Parameters           map[string]string   `json:"parameters,omitempty"`
	RetryStrategy        *batchRetryStrategy `json:"retryStrategy,omitempty"`
	Timeout              *batchTimeout       `json:"timeout,omitempty"`
	PropagateTags        *bool               `json:"propagateTags,omitempty"`
	Tags                 map[string]string   `json:"tags,omitempty"`
	ContainerProperties  *batchContainer     `json:"containerProperties,omitempty"`
}

type batchRetryStrategy struct {
	Attempts       int                 `json:"attempts,omitempty"`
	EvaluateOnExit []batchEvaluateRule `json:"evaluateOnExit,omitempty"`
}

type batchEvaluateRule struct {
	Action         string `json:"action"`
	OnExitCode     string `json:"onExitCode,omitempty"`
	OnReason       string `json:"onReason,omitempty"`
	OnStatusReason string `json:"onStatusReason,omitempty"`
}

type batchTimeout struct {
	AttemptDurationSeconds int `json:"attemptDurationSeconds"`
}

type batchContainer struct {
	Image                        string               `json:"image"`
	Command                      []string             `json:"command,omitempty"`
	JobRoleArn                   string               `json:"jobRoleArn,omitempty"`
	ExecutionRoleArn             string               `json:"executionRoleArn,omitempty"`
	ResourceRequirements         []batchResource      `json:"resourceRequirements,omitempty"`
	Environment                  []batchKeyValue      `json:"environment,omitempty"`
	ReadonlyRootFilesystem       *bool                `json:"readonlyRootFilesystem,omitempty"`
	User                         string               `json:"user,omitempty"`
	Volumes                      []batchVolume        `json:"volumes,omitempty"`
	MountPoints                  []batchMountPoint    `json:"mountPoints,omitempty"`
	NetworkConfiguration         *batchNetwork        `json:"networkConfiguration,omitempty"`
	FargatePlatformConfiguration *batchFargate        `json:"fargatePlatformConfiguration,omitempty"`
	LogConfiguration             *batchLogConfig      `json:"logConfiguration,omitempty"`
	EphemeralStorage             *batchEphemeralStore `json:"ephemeralStorage,omitempty"`
}

type batchResource struct {
	Type  string `json:"type"`
	Value string `json:"value"`
}

type batchKeyValue struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

type batchVolume struct {
	Name                   string          `json:"name"`
	EFSVolumeConfiguration *batchEFSVolume `json:"efsVolumeConfiguration,omitempty"`
}

type batchEFSVolume struct {
	FileSystemID        string           `json:"fileSystemId"`
	RootDirectory       string           `json:"rootDirectory,omitempty"`
	TransitEncryption   string           `json:"transitEncryption,omitempty"`
	AuthorizationConfig *batchEFSAuthCfg `json:"authorizationConfig,omitempty"`
}

type batchEFSAuthCfg struct {
	AccessPointID string `json:"accessPointId,omitempty"`
	IAM           string `json:"iam,omitempty"`
}

type batchMountPoint struct {
	SourceVolume  string `json:"sourceVolume"`
	ContainerPath string `json:"containerPath"`
	ReadOnly      *bool  `json:"readOnly,omitempty"`
}

type batchNetwork struct {
	AssignPublicIP string `json:"assignPublicIp,omitempty"`
}

type batchFargate struct {
	PlatformVersion string `json:"platformVersion,omitempty"`
}

type batchLogConfig struct {
	LogDriver string            `json:"logDriver"`
	Options   map[string]string `json:"options,omitempty"`
}

type batchEphemeralStore struct {
	SizeInGiB int `json:"sizeInGiB"`
}

type batchSubmit struct {
	JobName            string              `json:"jobName"`
	JobQueue           string              `json:"jobQueue"`
	JobDefinition      string              `json:"jobDefinition"`
	ArrayProperties    *batchArray         `json:"arrayProperties,omitempty"`
	Parameters         map[string]string   `json:"parameters,omitempty"`
	ContainerOverrides *batchOverrides     `json:"containerOverrides,omitempty"`
	RetryStrategy      *batchRetryStrategy `json:"retryStrategy,omitempty"`
	Timeout            *batchTimeout       `json:"timeout,omitempty"`
	Tags               map[string]string   `json:"tags,omitempty"`
}

type batchArray struct {
	Size int `json:"size"`
}

type batchOverrides struct {
	Command              []string        `json:"command,omitempty"`
	Environment          []batchKeyValue `json:"environment,omitempty"`
	ResourceRequirements []batchResource `json:"resourceRequirements,omitempty"`
}

// decodeStrictJSON decodes data into v and fails on anything the AWS API
// would refuse or ignore: an unknown field, a field name in the wrong case
// (encoding/json would accept it), a duplicate field, trailing data.
func decodeStrictJSON(data []byte, v any) error {
	if err := checkDuplicateKeys(data); err != nil {
		return err
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return errors.New("data after the JSON document")
	}
	// Re-encoding v must give back the input: a key in another case
	// decodes, but re-encodes under its real name.
	re, err := json.Marshal(v)
	if err != nil {
		return err
	}
	var in, out any
	if err := json.Unmarshal(data, &in); err != nil {
		return err
	}
	if err := json.Unmarshal(re, &out); err != nil {
		return err
	}
	if p := firstDifference(in, out, ""); p != "" {
		return fmt.Errorf("field %s is not spelled as the API spells it", p)
	}
	return nil
}

// firstDifference returns the path of the first difference between two
// decoded JSON values, or "".
func firstDifference(a, b any, at string) string {
	switch a := a.(type) {
	case map[string]any:
		bm, ok := b.(map[string]any)
		if !ok {
			return at
		}
		for _, k := range slices.Sorted(maps.Keys(a)) {
			if _, ok := bm[k]; !ok {
				return at + "." + k
			}
			if p := firstDifference(a[k], bm[k], at+"."+k); p != "" {
				return p
			}
		}
		for k := range bm {
			if _, ok := a[k]; !ok {
				return at + "." + k
			}
		}
		return ""
	case []any:
		bs, ok := b.([]any)
		if !ok || len(bs) != len(a) {
			return at
		}
		for i := range a {
			if p := firstDifference(a[i], bs[i], fmt.Sprintf("%s[%d]", at, i)); p != "" {
				return p
			}
		}
		return ""
	}
	if a != b {
		return at
	}
	return ""
}

// checkDuplicateKeys fails when an object in data has a key twice
// (encoding/json keeps the last one silently).
func checkDuplicateKeys(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	var walk func() error
	walk = func() error {
		tok, err := dec.Token()
		if err != nil {
			return err
		}
		switch tok {
		case json.Delim('{'):
			seen := map[string]bool{}
			for dec.More() {
				k, err := dec.Token()
				if err != nil {
					return err
				}
				key := k.(string)
				if seen[key] {
					return fmt.Errorf("duplicate field %q", key)
				}
				seen[key] = true
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		case json.Delim('['):
			for dec.More() {
				if err := walk(); err != nil {
					return err
				}
			}
			_, err = dec.Token()
			return err
		}
		return nil
	}
	return walk()
}

func loadBatch[T any](t *testing.T, name string) T {
	t.Helper()
	var v T
	data, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	if err := decodeStrictJSON(data, &v); err != nil {
		t.Fatalf("%s: %v", name, err)
	}
	return v
}

func batchEnv(kvs ...[]batchKeyValue) map[string]string {
	env := map[string]string{}
	for _, list := range kvs {
		for _, kv := range list {
			env[kv.Name] = kv.Value
		}
	}
	return env
}

// Failure handling, as documented.

// podFailureAction returns what the Job controller does when a pod fails with
// exitCode in the named container while the pod has the given conditions
// (status True): the first rule that matches decides; exit code 0 matches
// no exit-code rule; when no rule matches, the failure counts toward the
// backoff limit (Count).
func podFailureAction(p *batchv1.PodFailurePolicy, container string, exitCode int32, conds ...corev1.PodConditionType) batchv1.PodFailurePolicyAction {
	if p == nil {
		return batchv1.PodFailurePolicyActionCount
	}
	for _, r := range p.Rules {
		if oc := r.OnExitCodes; oc != nil {
			if exitCode == 0 || (oc.ContainerName != nil && *oc.ContainerName != container) {
				continue
			}
			in := slices.Contains(oc.Values, exitCode)
			if (oc.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) == in {
				return r.Action
			}
			continue
		}
		for _, pat := range r.OnPodConditions {
			if (pat.Status == "" || pat.Status == corev1.ConditionTrue) && slices.Contains(conds, pat.Type) {
				return r.Action
			}
		}
	}
	return batchv1.PodFailurePolicyActionCount
}

// batchAction returns what AWS Batch does when a job attempt fails: the first
// evaluateOnExit entry whose conditions all match decides (a pattern matches
// exactly, or by prefix when it ends in *); when none matches, the job is
// retried. Attempts are counted elsewhere.
func batchAction(rs *batchRetryStrategy, exitCode, reason, statusReason string) string {
	if rs == nil || rs.Attempts < 2 {
		return "EXIT"
	}
	glob := func(pattern, s string) bool {
		if p, ok := strings.CutSuffix(pattern, "*"); ok {
			return strings.HasPrefix(s, p)
		}
		return pattern == s
	}
	for _, r := range rs.EvaluateOnExit {
		if (r.OnExitCode == "" || glob(r.OnExitCode, exitCode)) &&
			(r.OnReason == "" || glob(r.OnReason, reason)) &&
			(r.OnStatusReason == "" || glob(r.OnStatusReason, statusReason)) {
			return strings.ToUpper(r.Action)
		}
	}
	return "RETRY"
}

// The tests.

// TestStrictDecoding checks that the decoders the other tests rely on refuse
// the mistakes they are meant to catch.
func TestStrictDecoding(t *testing.T) {
	const job = `apiVersion: batch/v1
kind: Job
metadata:
  name: x
spec:
  template:
    spec:
      %s: Never
      containers:
        - name: auditor
          image: auditor
`
	k8sTests := []struct {
		name    string
		doc     string
		wantErr bool
	}{
		{"valid", fmt.Sprintf(job, "restartPolicy"), false},
		{"misspelt field", fmt.Sprintf(job, "restartPolicyy"), true},
		{"field in the wrong case", fmt.Sprintf(job, "RestartPolicy"), true},
		{"duplicate field", fmt.Sprintf(job, "restartPolicy: Never\n      restartPolicy"), true},
		{"unknown kind", "apiVersion: v1\nkind: Pod2\nmetadata:\n  name: x\n", true},
		{"wrong type", "apiVersion: batch/v1\nkind: Job\nmetadata:\n  name: x\nspec:\n  completions: four\n", true},
	}
	for _, tt := range k8sTests {
		t.Run("kubernetes/"+tt.name, func(t *testing.T) {
			_, _, err := k8sDecoder().Decode([]byte(tt.doc), nil, nil)
			if got := err != nil; got != tt.wantErr {
				t.Errorf("Decode error = %v, want an error: %v", err, tt.wantErr)
			}
		})
	}
	batchTests := []struct {
		name    string
		doc     string
		wantErr bool
	}{
		{"valid", `{"jobDefinitionName": "a", "type": "container", "containerProperties": {"image": "i", "command": ["x"]}}`, false},
		{"misspelt field", `{"jobDefinitionName": "a", "type": "container", "containerProperties": {"image": "i", "comand": ["x"]}}`, true},
		{"field in the wrong case", `{"jobDefinitionName": "a", "type": "container", "containerProperties": {"image": "i", "Command": ["x"]}}`, true},
		{"duplicate field", `{"jobDefinitionName": "a", "jobDefinitionName": "b", "type": "container"}`, true},
		{"wrong type", `{"jobDefinitionName": "a", "type": "container", "timeout": {"attemptDurationSeconds": "60"}}`, true},
		{"trailing data", `{"jobDefinitionName": "a", "type": "container"} {}`, true},
	}
	for _, tt := range batchTests {
		t.Run("aws-batch/"+tt.name, func(t *testing.T) {
			var d batchJobDefinition
			err := decodeStrictJSON([]byte(tt.doc), &d)
			if got := err != nil; got != tt.wantErr {
				t.Errorf("decodeStrictJSON error = %v, want an error: %v", err, tt.wantErr)
			}
		})
	}
}

// TestCLIFlags checks that the CLI's flags are read, so that the checks
// built on them can fail.
func TestCLIFlags(t *testing.T) {
	specs := cliFlags(t)
	tests := []struct {
		command, flag string
		isBool        bool
	}{
		{"run", "instances", false},
		{"run", "shard", false},
		{"run", "out", false},
		{"run", "resume", true},
		{"run", "quiet", true},
		{"report", "out", false},
	}
	for _, tt := range tests {
		got, ok := specs[tt.command][tt.flag]
		if !ok {
			t.Errorf("auditor %s --%s not found (found %v)", tt.command, tt.flag, slices.Sorted(maps.Keys(specs[tt.command])))
		} else if got != tt.isBool {
			t.Errorf("auditor %s --%s: boolean = %v, want %v", tt.command, tt.flag, got, tt.isBool)
		}
	}
	if _, ok := specs["report"]["resume"]; ok {
		t.Errorf("auditor report --resume found, but only run defines it: the reader mixes up commands")
	}
	if _, ok := specs["run"]["fleet-size"]; ok {
		t.Errorf("auditor run --fleet-size found, but only demo and simulate define it: the reader mixes up commands")
	}
	parseTests := []struct {
		name    string
		args    []string
		wantErr bool
	}{
		{"known flags", []string{"run", "--shard", "auto", "--resume", "--out=x"}, false},
		{"unknown flag", []string{"run", "--shards", "auto"}, true},
		{"flag of another command", []string{"report", "a.jsonl", "--resume"}, true},
		{"missing value", []string{"run", "--out"}, true},
		{"unknown command", []string{"audit"}, true},
	}
	for _, tt := range parseTests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := parseCommandLine(tt.args, specs)
			if got := err != nil; got != tt.wantErr {
				t.Errorf("parseCommandLine(%q) error = %v, want an error: %v", tt.args, err, tt.wantErr)
			}
		})
	}
}

// TestKubernetesObjects checks the set of objects and the ones that the Jobs
// only refer to.
func TestKubernetesObjects(t *testing.T) {
	o := loadK8s(t)
	if got, want := slices.Sorted(maps.Keys(o.jobs)), []string{auditJobName, mergeJobName}; !slices.Equal(got, want) {
		t.Errorf("Jobs = %v, want %v", got, want)
	}
	sa, ok := o.accounts[serviceAccount]
	if !ok {
		t.Fatalf("no ServiceAccount %q", serviceAccount)
	}
	arn := sa.Annotations["eks.amazonaws.com/role-arn"]
	if !regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/\S+$`).MatchString(arn) {
		t.Errorf("ServiceAccount %s: eks.amazonaws.com/role-arn = %q, want an IAM role ARN (placeholder)", sa.Name, arn)
	}
	pvc, ok := o.claims[dataClaim]
	if !ok {
		t.Fatalf("no PersistentVolumeClaim %q", dataClaim)
	}
	if !slices.Contains(pvc.Spec.AccessModes, corev1.ReadWriteMany) {
		t.Errorf("PersistentVolumeClaim %s: access modes %v, want ReadWriteMany (the shards run on any node at once)", pvc.Name, pvc.Spec.AccessModes)
	}
	if _, ok := pvc.Spec.Resources.Requests[corev1.ResourceStorage]; !ok {
		t.Errorf("PersistentVolumeClaim %s: no storage request", pvc.Name)
	}
}

// TestFleetList reads the ConfigMap's list the way auditor run does.
func TestFleetList(t *testing.T) {
	o := loadK8s(t)
	cm, ok := o.configMaps[fleetConfigMap]
	if !ok {
		t.Fatalf("no ConfigMap %q", fleetConfigMap)
	}
	data, ok := cm.Data["fleet.csv"]
	if !ok {
		t.Fatalf("ConfigMap %s has no fleet.csv", cm.Name)
	}
	header, _, _ := strings.Cut(data, "\n")
	if cols := strings.Split(header, ","); !slices.Contains(cols, "instance_id") {
		t.Fatalf("fleet.csv header %q has no instance_id column", header)
	}
	var f audit.Fleet
	if err := f.Read(strings.NewReader(data), "fleet.csv"); err != nil {
		t.Fatalf("reading fleet.csv: %v", err)
	}
	if err := f.Err(); err != nil {
		t.Errorf("fleet.csv: %v", err)
	}
	rows := strings.Count(strings.TrimSpace(data), "\n") // lines after the header
	if got := f.Len(); got != rows || f.Duplicates != 0 {
		t.Errorf("fleet.csv: %d targets and %d duplicates from %d rows, want one target a row", got, f.Duplicates, rows)
	}
	for _, tg := range f.Targets() {
		if tg.Region == "" || tg.Labels["owner"] == "" {
			t.Errorf("fleet.csv line of %s: region %q, owner %q; the example names both", tg.InstanceID, tg.Region, tg.Labels["owner"])
		}
	}
}

// TestAuditJob checks what makes the sharded audit work.
func TestAuditJob(t *testing.T) {
	o := loadK8s(t)
	specs := cliFlags(t)
	j := o.job(t, auditJobName)
	spec := j.Spec
	pod := spec.Template.Spec
	c := auditorContainer(t, j)

	if spec.CompletionMode == nil || *spec.CompletionMode != batchv1.IndexedCompletion {
		t.Fatalf("completionMode = %v, want Indexed: --shard auto reads the completion index", deref(spec.CompletionMode))
	}
	if spec.Completions == nil || *spec.Completions < 1 {
		t.Fatalf("completions = %v, want the number of shards", deref(spec.Completions))
	}
	n := int(*spec.Completions)
	if spec.Parallelism == nil || *spec.Parallelism < 1 || int(*spec.Parallelism) > n {
		t.Errorf("parallelism = %v, want 1 to completions (%d)", deref(spec.Parallelism), n)
	}
	if pod.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %q, want Never (podFailurePolicy and backoffLimitPerIndex need it)", pod.RestartPolicy)
	}
	if spec.BackoffLimitPerIndex == nil || *spec.BackoffLimitPerIndex < 1 {
		t.Errorf("backoffLimitPerIndex = %v, want at least 1: an incomplete shard (exit 3) is retried", deref(spec.BackoffLimitPerIndex))
	}
	if spec.PodReplacementPolicy == nil || *spec.PodReplacementPolicy != batchv1.Failed {
		t.Errorf("podReplacementPolicy = %v, want Failed: two pods must never write one shard's record", deref(spec.PodReplacementPolicy))
	}
	checkPodSecurity(t, j, c)
	checkResources(t, j, c)
	if pod.ServiceAccountName != serviceAccount {
		t.Errorf("serviceAccountName = %q, want %q (the one with the IAM role)", pod.ServiceAccountName, serviceAccount)
	}
	if pod.AutomountServiceAccountToken != nil && !*pod.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken is false: it is left alone, since some IRSA setups need the token")
	}

	// The index comes from the downward API, whatever the Job controller
	// adds or not.
	var indexEnv *corev1.EnvVar
	for i, e := range c.Env {
		if e.Name == "JOB_COMPLETION_INDEX" {
			indexEnv = &c.Env[i]
		}
	}
	if indexEnv == nil || indexEnv.ValueFrom == nil || indexEnv.ValueFrom.FieldRef == nil || indexEnv.ValueFrom.FieldRef.FieldPath != indexFieldPath {
		t.Errorf("env JOB_COMPLETION_INDEX: want valueFrom.fieldRef.fieldPath %s", indexFieldPath)
	}

	if len(c.Command) > 0 {
		t.Errorf("command = %q: the image's entrypoint is auditor; give only args", c.Command)
	}
	outs := map[claimPath]int{}
	for i := range n {
		inv, args, env := podInvocation(t, c, map[string]string{indexFieldPath: strconv.Itoa(i)}, specs)
		if inv.command != "run" || len(inv.positional) > 0 {
			t.Fatalf("args %q: want auditor run with flags only", args)
		}
		if v, _ := inv.last("shard"); v != "auto" {
			t.Errorf("--shard %q, want auto", v)
		}
		if v, ok := inv.last("shard-count"); ok && v != strconv.Itoa(n) {
			t.Errorf("--shard-count %s, want completions (%d)", v, n)
		}
		if got := env["AUDITOR_SHARD_COUNT"]; got != strconv.Itoa(n) {
			t.Errorf("env AUDITOR_SHARD_COUNT = %q, want completions (%d)", got, n)
		}
		if v, _ := inv.last("resume"); v != "true" {
			t.Errorf("--resume not set: a retried shard would refuse its own record")
		}
		if v, _ := inv.last("fail-on"); v != "none" {
			t.Errorf("--fail-on %q, want none: findings would fail the shard's index", v)
		}
		if _, ok := env["AWS_REGION"]; !ok {
			if _, ok := inv.last("region"); !ok {
				t.Errorf("neither --region nor AWS_REGION: rows without a region would stop the run")
			}
		}
		list, _ := inv.last("instances")
		vf, err := onVolume(pod, c, list)
		if err != nil {
			t.Fatalf("--instances: %v", err)
		}
		if vf.volume.ConfigMap == nil || vf.volume.ConfigMap.Name != fleetConfigMap {
			t.Errorf("--instances %s is not on the %s ConfigMap", list, fleetConfigMap)
		} else if cm := o.configMaps[fleetConfigMap]; cm.Data[vf.rel] == "" {
			t.Errorf("--instances %s: ConfigMap %s has no key %q", list, fleetConfigMap, vf.rel)
		}
		out, _ := inv.last("out")
		cp := o.onClaim(t, j, c, out)
		if !strings.Contains(path.Base(cp.rel), strconv.Itoa(i)) {
			t.Errorf("index %d writes %s: the directory does not name its index", i, out)
		}
		if prev, dup := outs[cp]; dup {
			t.Errorf("indexes %d and %d both write %s", prev, i, out)
		}
		outs[cp] = i
	}
	if !strings.Contains(strings.Join(c.Args, " "), "$(JOB_COMPLETION_INDEX)") {
		t.Errorf("args %q do not use $(JOB_COMPLETION_INDEX)", c.Args)
	}
	checkMounts(t, j, c)
}

// shardRecords returns where each shard of the audit Job writes its record.
func shardRecords(t *testing.T, o k8sObjects, specs map[string]map[string]bool) []claimPath {
	t.Helper()
	j := o.job(t, auditJobName)
	c := auditorContainer(t, j)
	var recs []claimPath
	for i := range int(*j.Spec.Completions) {
		inv, _, _ := podInvocation(t, c, map[string]string{indexFieldPath: strconv.Itoa(i)}, specs)
		out, _ := inv.last("out")
		cp := o.onClaim(t, j, c, out)
		cp.rel = path.Join(cp.rel, audit.ResultsFile)
		recs = append(recs, cp)
	}
	return recs
}

// TestMergeJob checks that the merge reads exactly the records that the
// shards write.
func TestMergeJob(t *testing.T) {
	o := loadK8s(t)
	specs := cliFlags(t)
	j := o.job(t, mergeJobName)
	c := auditorContainer(t, j)
	if j.Spec.CompletionMode != nil && *j.Spec.CompletionMode == batchv1.IndexedCompletion {
		t.Errorf("the merge Job is Indexed; it is one pod")
	}
	if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
		t.Errorf("restartPolicy = %q, want Never", j.Spec.Template.Spec.RestartPolicy)
	}
	if len(c.Command) > 0 {
		t.Errorf("command = %q: the image has no shell; give only args", c.Command)
	}
	checkPodSecurity(t, j, c)
	checkResources(t, j, c)
	checkMounts(t, j, c)
	// Delivery from the merge (SES, S3), as audit-job.yaml advises, needs
	// the role's credentials: the default service account and an unmounted
	// token leave IRSA and Pod Identity nothing to inject.
	if pod := j.Spec.Template.Spec; pod.ServiceAccountName != serviceAccount {
		t.Errorf("serviceAccountName = %q, want %q (the one with the IAM role): delivery from the merge needs its credentials", pod.ServiceAccountName, serviceAccount)
	} else if pod.AutomountServiceAccountToken != nil && !*pod.AutomountServiceAccountToken {
		t.Errorf("automountServiceAccountToken is false: IRSA needs the token to give the merge's delivery credentials")
	}
	if a := o.job(t, auditJobName); auditorContainer(t, a).Image != c.Image {
		t.Errorf("image %s, but the audit Job runs %s: merge with the version that audited", c.Image, auditorContainer(t, a).Image)
	}

	inv, args, _ := podInvocation(t, c, nil, specs)
	if inv.command != "report" {
		t.Fatalf("args %q: want auditor report", args)
	}
	var got []claimPath
	for _, p := range inv.positional {
		got = append(got, o.onClaim(t, j, c, p))
	}
	want := shardRecords(t, o, specs)
	less := func(a, b claimPath) int { return strings.Compare(a.claim+"\x00"+a.rel, b.claim+"\x00"+b.rel) }
	slices.SortFunc(got, less)
	slices.SortFunc(want, less)
	if !slices.Equal(got, want) {
		t.Errorf("the merge reads %v,\nthe shards write %v", got, want)
	}
	out, ok := inv.last("out")
	if !ok {
		t.Fatalf("no --out")
	}
	outCP := o.onClaim(t, j, c, out)
	for _, r := range want {
		if d := path.Dir(r.rel); r.claim == outCP.claim && (d == outCP.rel || strings.HasPrefix(outCP.rel, d+"/")) {
			t.Errorf("--out %s is a shard's directory", out)
		}
	}
}

// TestPodFailurePolicy checks what happens to a shard for each exit code,
// under the documented semantics of the rules.
func TestPodFailurePolicy(t *testing.T) {
	o := loadK8s(t)
	tests := []struct {
		job   string
		exit  int32
		conds []corev1.PodConditionType
		want  batchv1.PodFailurePolicyAction
	}{
		{auditJobName, 1, nil, batchv1.PodFailurePolicyActionFailIndex},
		{auditJobName, 2, nil, batchv1.PodFailurePolicyActionFailIndex},
		{auditJobName, 3, nil, batchv1.PodFailurePolicyActionCount},
		{auditJobName, 4, nil, batchv1.PodFailurePolicyActionFailIndex},
		{auditJobName, 5, nil, batchv1.PodFailurePolicyActionFailIndex},
		{auditJobName, 137, nil, batchv1.PodFailurePolicyActionCount},
		{auditJobName, 3, []corev1.PodConditionType{corev1.DisruptionTarget}, batchv1.PodFailurePolicyActionIgnore},
		{auditJobName, 137, []corev1.PodConditionType{corev1.DisruptionTarget}, batchv1.PodFailurePolicyActionIgnore},
		{mergeJobName, 2, nil, batchv1.PodFailurePolicyActionFailJob},
		{mergeJobName, 3, nil, batchv1.PodFailurePolicyActionFailJob},
		{mergeJobName, 5, nil, batchv1.PodFailurePolicyActionFailJob},
		{mergeJobName, 137, []corev1.PodConditionType{corev1.DisruptionTarget}, batchv1.PodFailurePolicyActionIgnore},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%s/exit %d %v", tt.job, tt.exit, tt.conds), func(t *testing.T) {
			j := o.job(t, tt.job)
			if got := podFailureAction(j.Spec.PodFailurePolicy, containerName, tt.exit, tt.conds...); got != tt.want {
				t.Errorf("action = %s, want %s", got, tt.want)
			}
		})
	}
	// What the API server would refuse.
	for _, name := range []string{auditJobName, mergeJobName} {
		j := o.job(t, name)
		p := j.Spec.PodFailurePolicy
		if p == nil {
			t.Errorf("Job %s has no podFailurePolicy", name)
			continue
		}
		if j.Spec.Template.Spec.RestartPolicy != corev1.RestartPolicyNever {
			t.Errorf("Job %s: podFailurePolicy needs restartPolicy Never", name)
		}
		for i, r := range p.Rules {
			if (r.OnExitCodes == nil) == (len(r.OnPodConditions) == 0) {
				t.Errorf("Job %s rule %d: want onExitCodes or onPodConditions, one of them", name, i)
			}
			if r.Action == batchv1.PodFailurePolicyActionFailIndex && j.Spec.BackoffLimitPerIndex == nil {
				t.Errorf("Job %s rule %d: FailIndex needs backoffLimitPerIndex", name, i)
			}
			if oc := r.OnExitCodes; oc != nil {
				if !slices.IsSorted(oc.Values) || len(slices.Compact(slices.Clone(oc.Values))) != len(oc.Values) || len(oc.Values) == 0 {
					t.Errorf("Job %s rule %d: values %v must be sorted, distinct and not empty", name, i, oc.Values)
				}
				if oc.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn && slices.Contains(oc.Values, 0) {
					t.Errorf("Job %s rule %d: 0 cannot be In", name, i)
				}
				if oc.ContainerName != nil && *oc.ContainerName != containerName {
					t.Errorf("Job %s rule %d: containerName %q is not the pod's container", name, i, *oc.ContainerName)
				}
			}
		}
	}
}

func checkPodSecurity(t *testing.T, j *batchv1.Job, c corev1.Container) {
	t.Helper()
	ps := j.Spec.Template.Spec.SecurityContext
	sc := c.SecurityContext
	if sc == nil {
		t.Fatalf("Job %s: container has no securityContext", j.Name)
	}
	nonRoot := (sc.RunAsNonRoot != nil && *sc.RunAsNonRoot) || (ps != nil && ps.RunAsNonRoot != nil && *ps.RunAsNonRoot)
	if !nonRoot {
		t.Errorf("Job %s: runAsNonRoot is not true", j.Name)
	}
	if sc.ReadOnlyRootFilesystem == nil || !*sc.ReadOnlyRootFilesystem {
		t.Errorf("Job %s: readOnlyRootFilesystem is not true", j.Name)
	}
	if sc.AllowPrivilegeEscalation == nil || *sc.AllowPrivilegeEscalation {
		t.Errorf("Job %s: allowPrivilegeEscalation is not false", j.Name)
	}
	if sc.Capabilities == nil || !slices.Equal(sc.Capabilities.Drop, []corev1.Capability{"ALL"}) || len(sc.Capabilities.Add) > 0 {
		t.Errorf("Job %s: capabilities %v, want drop [ALL] and nothing added", j.Name, sc.Capabilities)
	}
	seccomp := sc.SeccompProfile
	if seccomp == nil && ps != nil {
		seccomp = ps.SeccompProfile
	}
	if seccomp == nil || seccomp.Type != corev1.SeccompProfileTypeRuntimeDefault {
		t.Errorf("Job %s: seccompProfile %v, want RuntimeDefault", j.Name, seccomp)
	}
	uid := sc.RunAsUser
	if uid == nil && ps != nil {
		uid = ps.RunAsUser
	}
	if want := dockerfileUID(t); uid == nil || *uid != want {
		t.Errorf("Job %s: runAsUser %v, want the image's user %d, which owns the volume's files", j.Name, deref(uid), want)
	}
}

// deref returns *p for a message, or "unset".
func deref[T any](p *T) any {
	if p == nil {
		return "unset"
	}
	return *p
}

// parseGoMemLimit parses a GOMEMLIMIT value: bytes, with an optional unit.
func parseGoMemLimit(s string) (int64, error) {
	m := regexp.MustCompile(`^([0-9]+)(B|KiB|MiB|GiB|TiB)?$`).FindStringSubmatch(s)
	if m == nil {
		return 0, fmt.Errorf("GOMEMLIMIT %q: want a number of bytes with B, KiB, MiB, GiB or TiB", s)
	}
	n, err := strconv.ParseInt(m[1], 10, 64)
	shift := map[string]uint{"": 0, "B": 0, "KiB": 10, "MiB": 20, "GiB": 30, "TiB": 40}[m[2]]
	return n << shift, err
}

func checkResources(t *testing.T, j *batchv1.Job, c corev1.Container) {
	t.Helper()
	req, lim := c.Resources.Requests, c.Resources.Limits
	for _, r := range []corev1.ResourceName{corev1.ResourceCPU, corev1.ResourceMemory} {
		if _, ok := req[r]; !ok {
			t.Errorf("Job %s: no %s request", j.Name, r)
		}
	}
	memLimit, ok := lim[corev1.ResourceMemory]
	if !ok {
		t.Fatalf("Job %s: no memory limit", j.Name)
	}
	if r := req[corev1.ResourceMemory]; r.Cmp(memLimit) > 0 {
		t.Errorf("Job %s: memory request %s above the limit %s", j.Name, r.String(), memLimit.String())
	}
	if r, l := req[corev1.ResourceCPU], lim[corev1.ResourceCPU]; !l.IsZero() && r.Cmp(l) > 0 {
		t.Errorf("Job %s: cpu request %s above the limit %s", j.Name, r.String(), l.String())
	}
	env, err := containerEnv(c, sampleFields())
	if err != nil {
		t.Fatal(err)
	}
	gml, ok := env["GOMEMLIMIT"]
	if !ok {
		t.Errorf("Job %s: no GOMEMLIMIT: the Go heap would not know the memory limit", j.Name)
		return
	}
	n, err := parseGoMemLimit(gml)
	if err != nil {
		t.Fatal(err)
	}
	if q := resource.NewQuantity(n, resource.BinarySI); q.Cmp(memLimit) >= 0 {
		t.Errorf("Job %s: GOMEMLIMIT %s is not below the memory limit %s", j.Name, gml, memLimit.String())
	}
}

// checkMounts checks that mounts and volumes match, and that /tmp is
// writable under the read-only root file system.
func checkMounts(t *testing.T, j *batchv1.Job, c corev1.Container) {
	t.Helper()
	vols := map[string]corev1.Volume{}
	for _, v := range j.Spec.Template.Spec.Volumes {
		vols[v.Name] = v
	}
	mounted := map[string]bool{}
	for _, m := range c.VolumeMounts {
		if _, ok := vols[m.Name]; !ok {
			t.Errorf("Job %s: mount %s names volume %q, which the pod does not have", j.Name, m.MountPath, m.Name)
		}
		mounted[m.Name] = true
	}
	for name := range vols {
		if !mounted[name] {
			t.Errorf("Job %s: volume %q is mounted nowhere", j.Name, name)
		}
	}
	vf, err := onVolume(j.Spec.Template.Spec, c, "/tmp/excelize-1")
	if err != nil || vf.volume.EmptyDir == nil || vf.mount.ReadOnly {
		t.Errorf("Job %s: /tmp is not a writable emptyDir (err %v); the XLSX writer spills large sheets there", j.Name, err)
	}
}

// TestBatchJobDefinition checks the AWS Batch job definition.
func TestBatchJobDefinition(t *testing.T) {
	specs := cliFlags(t)
	d := loadBatch[batchJobDefinition](t, batchDefinition)
	if d.Type != "container" || d.ContainerProperties == nil {
		t.Fatalf("type %q: want a container job definition with containerProperties", d.Type)
	}
	cp := d.ContainerProperties
	args, err := batchArgs(cp.Command)
	if err != nil {
		t.Fatal(err)
	}
	inv, err := parseCommandLine(args, specs)
	if err != nil {
		t.Fatalf("command: %v", err)
	}
	if inv.command != "run" || len(inv.positional) > 0 {
		t.Fatalf("command %q: want auditor run with flags only", args)
	}
	if v, _ := inv.last("shard"); v != "auto" {
		t.Errorf("--shard %q, want auto", v)
	}
	if _, ok := inv.last("shard-count"); ok {
		t.Errorf("--shard-count is for Kubernetes; AWS Batch gives the array size")
	}
	if v, _ := inv.last("resume"); v != "true" {
		t.Errorf("--resume not set: a retried child would refuse its own record")
	}
	if v, _ := inv.last("fail-on"); v != "none" {
		t.Errorf("--fail-on %q, want none: findings would fail the child, and the merge would not run", v)
	}
	out, _ := inv.last("out")
	if !regexp.MustCompile(`\$\{?AWS_BATCH_JOB_ARRAY_INDEX\b`).MatchString(out) {
		t.Errorf("--out %q does not use the array index: every child would write one record", out)
	}
	env := batchEnv(cp.Environment)
	for name := range env {
		if strings.HasPrefix(name, "AWS_BATCH") {
			t.Errorf("environment %s: AWS Batch reserves the AWS_BATCH prefix", name)
		}
	}
	if _, ok := env["AWS_REGION"]; !ok {
		if _, ok := inv.last("region"); !ok {
			t.Errorf("neither --region nor AWS_REGION: rows without a region would stop the run")
		}
	}

	// Mounts: every path auditor uses is on a volume, /tmp is writable
	// under the read-only root.
	vols := map[string]batchVolume{}
	for _, v := range cp.Volumes {
		vols[v.Name] = v
	}
	onMount := func(p string) (batchMountPoint, bool) {
		var best batchMountPoint
		for _, m := range cp.MountPoints {
			if (p == m.ContainerPath || strings.HasPrefix(p, m.ContainerPath+"/")) && len(m.ContainerPath) > len(best.ContainerPath) {
				best = m
			}
		}
		return best, best.ContainerPath != ""
	}
	for _, m := range cp.MountPoints {
		if _, ok := vols[m.SourceVolume]; !ok {
			t.Errorf("mount point %s: no volume %q", m.ContainerPath, m.SourceVolume)
		}
	}
	list, _ := inv.last("instances")
	for _, p := range []string{list, out, "/tmp/excelize-1"} {
		m, ok := onMount(p)
		if !ok {
			t.Errorf("%s is on no mount point", p)
		} else if p != list && m.ReadOnly != nil && *m.ReadOnly {
			t.Errorf("%s is on a read-only mount point", p)
		}
	}
	if m, _ := onMount(out); vols[m.SourceVolume].EFSVolumeConfiguration == nil {
		t.Errorf("--out %s is not on the EFS volume: the merge job could not read it", out)
	}
	if cp.ReadonlyRootFilesystem == nil || !*cp.ReadonlyRootFilesystem {
		t.Errorf("readonlyRootFilesystem is not true")
	}

	// Resources: GOMEMLIMIT below the memory.
	var mem int64
	for _, r := range cp.ResourceRequirements {
		if r.Type == "MEMORY" {
			mem, _ = strconv.ParseInt(r.Value, 10, 64)
		}
	}
	if mem < 512 {
		t.Errorf("MEMORY %d MiB: want at least 512", mem)
	}
	if gml, ok := env["GOMEMLIMIT"]; !ok {
		t.Errorf("no GOMEMLIMIT")
	} else if n, err := parseGoMemLimit(gml); err != nil || n >= mem<<20 {
		t.Errorf("GOMEMLIMIT %s is not below MEMORY %d MiB (err %v)", gml, mem, err)
	}
	arn := regexp.MustCompile(`^arn:aws[a-z-]*:iam::\d{12}:role/\S+$`)
	if !arn.MatchString(cp.JobRoleArn) {
		t.Errorf("jobRoleArn %q: want the audit role's ARN (placeholder): auditor takes the job role's credentials", cp.JobRoleArn)
	}
	if slices.Contains(d.PlatformCapabilities, "FARGATE") && !arn.MatchString(cp.ExecutionRoleArn) {
		t.Errorf("executionRoleArn %q: Fargate needs one to pull the image and write logs", cp.ExecutionRoleArn)
	}
	if cp.User != "" && cp.User != strconv.FormatInt(dockerfileUID(t), 10) {
		t.Errorf("user %q is not the image's user", cp.User)
	}

	// Retries.
	rs := d.RetryStrategy
	if rs == nil || rs.Attempts < 2 || rs.Attempts > 10 || len(rs.EvaluateOnExit) > 5 {
		t.Fatalf("retryStrategy %+v: want 2 to 10 attempts and at most 5 evaluateOnExit entries", rs)
	}
	checkEvaluateOnExit(t, rs)
	tests := []struct {
		name                       string
		exit, reason, statusReason string
		want                       string
	}{
		{"findings", "1", "", "Essential container in task exited", "EXIT"},
		{"usage", "2", "", "Essential container in task exited", "EXIT"},
		{"incomplete", "3", "", "Essential container in task exited", "RETRY"},
		{"fatal", "4", "", "Essential container in task exited", "EXIT"},
		{"delivery failed", "5", "", "Essential container in task exited", "EXIT"},
		{"killed", "137", "OutOfMemoryError: Container killed due to memory usage", "Essential container in task exited", "EXIT"},
		{"host terminated", "", "", "Host EC2 (instance i-0123456789abcdef0) terminated.", "RETRY"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := batchAction(rs, tt.exit, tt.reason, tt.statusReason); got != tt.want {
				t.Errorf("exit %q, reason %q, status %q: %s, want %s", tt.exit, tt.reason, tt.statusReason, got, tt.want)
			}
		})
	}
}

// checkEvaluateOnExit checks the patterns as the API validates them.
func checkEvaluateOnExit(t *testing.T, rs *batchRetryStrategy) {
	t.Helper()
	exitPat := regexp.MustCompile(`^[0-9]*\*?$`)
	reasonPat := regexp.MustCompile(`^[A-Za-z0-9.: \t]*\*?$`)
	for i, r := range rs.EvaluateOnExit {
		if a := strings.ToUpper(r.Action); a != "RETRY" && a != "EXIT" {
			t.Errorf("evaluateOnExit[%d]: action %q, want RETRY or EXIT", i, r.Action)
		}
		if r.OnExitCode != "" && !exitPat.MatchString(r.OnExitCode) {
			t.Errorf("evaluateOnExit[%d]: onExitCode %q: digits and a final * only", i, r.OnExitCode)
		}
		for _, p := range []string{r.OnReason, r.OnStatusReason} {
			if p != "" && !reasonPat.MatchString(p) {
				t.Errorf("evaluateOnExit[%d]: pattern %q: letters, digits, . : blanks and a final * only", i, p)
			}
		}
		if r.OnExitCode == "" && r.OnReason == "" && r.OnStatusReason == "" {
			t.Errorf("evaluateOnExit[%d]: no condition", i)
		}
	}
}

// batchShardRecords returns the record path of each array child, and the
// array size.
func batchShardRecords(t *testing.T, specs map[string]map[string]bool) ([]string, int) {
	t.Helper()
	d := loadBatch[batchJobDefinition](t, batchDefinition)
	s := loadBatch[batchSubmit](t, batchAudit)
	if s.ArrayProperties == nil {
		t.Fatalf("%s: no arrayProperties: --shard auto needs an array job", batchAudit)
	}
	if s.ContainerOverrides == nil {
		t.Fatalf("%s: no containerOverrides (RUN_ID goes there)", batchAudit)
	}
	n := s.ArrayProperties.Size
	args, err := batchArgs(d.ContainerProperties.Command)
	if err != nil {
		t.Fatal(err)
	}
	var recs []string
	for i := range n {
		env := batchEnv(d.ContainerProperties.Environment, s.ContainerOverrides.Environment)
		env["AWS_BATCH_JOB_ARRAY_INDEX"] = strconv.Itoa(i)
		env["AWS_BATCH_JOB_ARRAY_SIZE"] = strconv.Itoa(n)
		var exp []string
		for _, a := range args {
			v, err := expandShell(a, env)
			if err != nil {
				t.Fatalf("child %d: %v", i, err)
			}
			exp = append(exp, v)
		}
		inv, err := parseCommandLine(exp, specs)
		if err != nil {
			t.Fatal(err)
		}
		out, _ := inv.last("out")
		recs = append(recs, path.Join(out, audit.ResultsFile))
	}
	return recs, n
}

// TestBatchSubmit checks the two submissions against the job definition and
// each other.
func TestBatchSubmit(t *testing.T) {
	specs := cliFlags(t)
	d := loadBatch[batchJobDefinition](t, batchDefinition)
	a := loadBatch[batchSubmit](t, batchAudit)
	m := loadBatch[batchSubmit](t, batchMerge)
	for name, s := range map[string]batchSubmit{batchAudit: a, batchMerge: m} {
		if s.JobDefinition != d.JobDefinitionName {
			t.Errorf("%s: jobDefinition %q, want %q", name, s.JobDefinition, d.JobDefinitionName)
		}
		if s.JobName == "" || s.JobQueue == "" {
			t.Errorf("%s: want jobName and jobQueue", name)
		}
		if s.ContainerOverrides == nil || batchEnv(s.ContainerOverrides.Environment)["RUN_ID"] == "" {
			t.Errorf("%s: no RUN_ID in containerOverrides.environment", name)
		}
	}
	if a.ContainerOverrides == nil || m.ContainerOverrides == nil {
		t.FailNow()
	}
	if a.ArrayProperties == nil || a.ArrayProperties.Size < 2 || a.ArrayProperties.Size > 10000 {
		t.Fatalf("%s: arrayProperties %+v: want a size of 2 to 10,000 (AWS Batch's bounds)", batchAudit, a.ArrayProperties)
	}
	if m.ArrayProperties != nil {
		t.Errorf("%s: the merge is one job, not an array", batchMerge)
	}
	if a.ContainerOverrides.Command != nil {
		t.Errorf("%s: overrides the job definition's command", batchAudit)
	}

	want, _ := batchShardRecords(t, specs)
	args, err := batchArgs(m.ContainerOverrides.Command)
	if err != nil {
		t.Fatal(err)
	}
	env := batchEnv(d.ContainerProperties.Environment, m.ContainerOverrides.Environment)
	var exp []string
	for _, w := range args {
		v, err := expandShell(w, env)
		if err != nil {
			t.Fatal(err)
		}
		exp = append(exp, v)
	}
	inv, err := parseCommandLine(exp, specs)
	if err != nil {
		t.Fatalf("merge command: %v", err)
	}
	if inv.command != "report" {
		t.Fatalf("merge command %q: want auditor report", exp)
	}
	got := slices.Sorted(slices.Values(inv.positional))
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("the merge reads %q,\nthe children write %q", got, want)
	}
	if out, _ := inv.last("out"); slices.Contains(want, path.Join(out, audit.ResultsFile)) {
		t.Errorf("--out %s is a child's directory", out)
	}
	if m.RetryStrategy != nil {
		checkEvaluateOnExit(t, m.RetryStrategy)
		if got := batchAction(m.RetryStrategy, "2", "", "Essential container in task exited"); got != "EXIT" {
			t.Errorf("merge exit 2: %s, want EXIT", got)
		}
	}
}

// The Dockerfile.

type dockerStage struct {
	from, name string
	lines      []string // instructions, continuation lines joined
}

func dockerStages(t *testing.T) []dockerStage {
	t.Helper()
	data, err := os.ReadFile("Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	var stages []dockerStage
	var cur strings.Builder
	for line := range strings.Lines(string(data)) {
		line = strings.TrimRight(line, "\r\n")
		if t := strings.TrimSpace(line); cur.Len() == 0 && (t == "" || strings.HasPrefix(t, "#")) {
			continue
		}
		if s, ok := strings.CutSuffix(line, "\\"); ok {
			cur.WriteString(s + " ")
			continue
		}
		cur.WriteString(line)
		ins := strings.Join(strings.Fields(cur.String()), " ")
		cur.Reset()
		if f := strings.Fields(ins); strings.EqualFold(f[0], "FROM") {
			st := dockerStage{}
			for i := 1; i < len(f); i++ {
				switch {
				case strings.HasPrefix(f[i], "--"):
				case strings.EqualFold(f[i], "AS") && i+1 < len(f):
					st.name = f[i+1]
					i++
				default:
					st.from = f[i]
				}
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) > 0 {
			stages[len(stages)-1].lines = append(stages[len(stages)-1].lines, ins)
		}
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile: %d stages, want a build stage and a runtime stage", len(stages))
	}
	return stages
}

func (s dockerStage) instruction(kind string) []string {
	var out []string
	for _, l := range s.lines {
		if k, rest, _ := strings.Cut(l, " "); strings.EqualFold(k, kind) {
			out = append(out, rest)
		}
	}
	return out
}

// dockerfileUID returns the numeric user of the default image.
func dockerfileUID(t *testing.T) int64 {
	t.Helper()
	stages := dockerStages(t)
	users := stages[len(stages)-1].instruction("USER")
	if len(users) == 0 {
		t.Fatalf("Dockerfile: the default image sets no USER")
	}
	uid, _, _ := strings.Cut(users[len(users)-1], ":")
	n, err := strconv.ParseInt(uid, 10, 64)
	if err != nil || n == 0 {
		t.Fatalf("Dockerfile: USER %q: want a numeric user other than root, so that runAsNonRoot can check it", users[len(users)-1])
	}
	return n
}

// TestDockerfile checks the image recipe against the CLI and the manifests;
// no image is built (there is no container engine here).
func TestDockerfile(t *testing.T) {
	stages := dockerStages(t)
	build := stages[0]
	runs := strings.Join(build.instruction("RUN"), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "go build", "-trimpath", "-X main.version=", "./cmd/auditor", "-o /out/auditor"} {
		if !strings.Contains(runs, want) {
			t.Errorf("Dockerfile build stage: no %q in its RUN lines", want)
		}
	}
	if !strings.HasPrefix(build.from, "golang:") {
		t.Errorf("Dockerfile: the first stage is FROM %s, want golang", build.from)
	}
	if !cliDeclaresVersion(t) {
		t.Errorf("-X main.version: package main in %s declares no string variable version", cliSource)
	}
	if _, err := os.Stat(filepath.Join(cliSource, "main.go")); err != nil {
		t.Errorf("./cmd/auditor: %v", err)
	}

	final := stages[len(stages)-1]
	if !strings.Contains(final.from, "distroless/static") || !strings.HasSuffix(final.from, ":nonroot") {
		t.Errorf("the default image is FROM %s, want distroless/static:nonroot", final.from)
	}
	if got := final.instruction("ENTRYPOINT"); !slices.Equal(got, []string{`["` + imageBinary + `"]`}) {
		t.Errorf("the default image's ENTRYPOINT %q, want [%q]: the Kubernetes manifests give only args", got, imageBinary)
	}
	dockerfileUID(t) // numeric and not root

	var batch *dockerStage
	for i := range stages {
		if stages[i].name == "batch" {
			batch = &stages[i]
		}
	}
	if batch == nil {
		t.Fatalf("Dockerfile: no stage named batch (README.md builds it with --target batch)")
	}
	if !strings.Contains(batch.from, "distroless/static") || !strings.Contains(batch.from, ":debug") {
		t.Errorf("the batch image is FROM %s, want a distroless static :debug image, which has %s", batch.from, batchShell)
	}
	if got := batch.instruction("ENTRYPOINT"); !slices.Equal(got, []string{"[]"}) {
		t.Errorf("the batch image's ENTRYPOINT %q, want []: the job definition's command is the whole argv", got)
	}
	for _, st := range []dockerStage{*batch, final} {
		copies := strings.Join(st.instruction("COPY"), "\n")
		if !strings.Contains(copies, "/out/auditor "+imageBinary) {
			t.Errorf("stage FROM %s: does not copy the binary to %s", st.from, imageBinary)
		}
	}
}

// cliDeclaresVersion reports whether package main declares a package-level
// string variable named version, which -X main.version sets.
func cliDeclaresVersion(t *testing.T) bool {
	t.Helper()
	files, err := cliParse()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		if f.Name.Name != "main" {
			continue
		}
		for _, d := range f.Decls {
			gd, ok := d.(*ast.GenDecl)
			if !ok || gd.Tok != token.VAR {
				continue
			}
			for _, s := range gd.Specs {
				vs := s.(*ast.ValueSpec)
				for i, n := range vs.Names {
					if n.Name != "version" {
						continue
					}
					if id, ok := vs.Type.(*ast.Ident); ok && id.Name == "string" {
						return true
					}
					if vs.Type == nil && i < len(vs.Values) {
						if lit, ok := vs.Values[i].(*ast.BasicLit); ok && lit.Kind == token.STRING {
							return true
						}
					}
				}
			}
		}
	}
	return false
}

// End to end: the manifests' commands, run.

// TestEndToEnd runs the commands of the manifests with a real auditor binary
// against the simulated SSM endpoint on loopback: each shard as the kubelet
// or AWS Batch would start it (the same arguments and variables; container
// paths mapped to temporary directories), a retried shard, then the merge.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds auditor and runs the manifests' commands; skipped with -short")
	}
	goCmd, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command in PATH to build auditor")
	}
	bin := filepath.Join(t.TempDir(), "auditor")
	build := exec.Command(goCmd, "build", "-o", bin, "./cmd/auditor")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build ./cmd/auditor: %v\n%s", err, out)
	}

	o := loadK8s(t)
	cm, ok := o.configMaps[fleetConfigMap]
	if !ok || cm.Data["fleet.csv"] == "" {
		t.Fatalf("no fleet.csv in ConfigMap %s", fleetConfigMap)
	}
	fleetCSV := cm.Data["fleet.csv"]
	var f audit.Fleet
	if err := f.Read(strings.NewReader(fleetCSV), "fleet.csv"); err != nil {
		t.Fatal(err)
	}
	var ids []string
	sim := ssmsim.NewFleet(ssmsim.FleetConfig{})
	executed := time.Now().UTC().Add(-time.Hour).Truncate(time.Second)
	for i, tg := range f.Targets() {
		ids = append(ids, tg.InstanceID)
		status, detail := "Success", "Success"
		if i%3 == 0 {
			status, detail = "Failed", "Failed"
		}
		sim.Add(ssmsim.Instance{
			InstanceID: tg.InstanceID, PingStatus: "Online", PlatformType: "Linux", ResourceType: "EC2Instance",
			Associations: []ssmsim.Association{{
				AssociationID: fmt.Sprintf("0b6a5a36-6f0e-4d6c-9d1e-%012d", i), Name: "AWS-RunPatchBaseline",
				DocumentVersion: "$DEFAULT", AssociationVersion: "1", ExecutionDate: executed,
				Status: status, DetailedStatus: detail,
				ExecutionSummary: "1 out of 1 plugin processed, 1 " + strings.ToLower(status) + ". ",
			}},
		})
	}
	sort.Strings(ids)
	url, stop, err := ssmsim.NewServer(sim, ssmsim.Options{Seed: 1}).Start()
	if err != nil {
		t.Fatal(err)
	}
	defer stop()

	home := t.TempDir()
	baseEnv := []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + home,
		"AWS_ACCESS_KEY_ID=AKIADEPLOYTESTDEPLOY",
		"AWS_SECRET_ACCESS_KEY=deploy-test-not-a-secret",
		"AWS_CONFIG_FILE=" + filepath.Join(home, "no-config"),
		"AWS_SHARED_CREDENTIALS_FILE=" + filepath.Join(home, "no-credentials"),
		"AWS_EC2_METADATA_DISABLED=true",
		// The SDK sends every call here; auditor accepts http:// on loopback.
		"AWS_ENDPOINT_URL=" + url,
	}
	run := func(t *testing.T, env map[string]string, name string, args ...string) (int, string) {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Env = slices.Clone(baseEnv)
		for _, k := range slices.Sorted(maps.Keys(env)) {
			cmd.Env = append(cmd.Env, k+"="+env[k])
		}
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatalf("%s: %v", name, err)
		}
		return cmd.ProcessState.ExitCode(), stderr.String()
	}
	records := func(t *testing.T, paths ...string) ([]string, map[audit.Outcome]int) {
		t.Helper()
		rs, err := audit.OpenRecords(paths...)
		if err != nil {
			t.Fatal(err)
		}
		defer rs.Close()
		var got []string
		outcomes := map[audit.Outcome]int{}
		err = rs.Each(func(r audit.Result) error {
			got = append(got, r.InstanceID)
			outcomes[r.Outcome]++
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		sort.Strings(got)
		return got, outcomes
	}
	// checkShards checks that the shards split the fleet and the merge
	// joined it.
	checkShards := func(t *testing.T, shardRecs []string, merged string) {
		t.Helper()
		var union []string
		for i, p := range shardRecs {
			got, _ := records(t, p)
			if len(shardRecs) > 1 && len(got) == len(ids) {
				t.Errorf("shard %d audited the whole fleet", i)
			}
			union = append(union, got...)
		}
		sort.Strings(union)
		if !slices.Equal(union, ids) {
			t.Errorf("the shards audited %v,\nwant each of %v once", union, ids)
		}
		got, outcomes := records(t, merged)
		if !slices.Equal(got, ids) {
			t.Errorf("the merged record holds %v,\nwant %v", got, ids)
		}
		if outcomes[audit.OutcomeNoncompliant] == 0 || outcomes[audit.OutcomeError] > 0 {
			t.Errorf("merged outcomes %v: want some noncompliant (the shards exited 0 anyway) and no error", outcomes)
		}
	}

	t.Run("kubernetes", func(t *testing.T) {
		root := t.TempDir()
		specs := cliFlags(t)
		// hostPath maps a container path to the directory that stands for
		// its volume: one per claim (shared by both Jobs), one per other
		// volume and Job.
		hostPath := func(t *testing.T, j *batchv1.Job, c corev1.Container, p string) string {
			t.Helper()
			vf, err := onVolume(j.Spec.Template.Spec, c, p)
			if err != nil {
				t.Fatal(err)
			}
			var dir string
			switch v := vf.volume; {
			case v.PersistentVolumeClaim != nil:
				dir = filepath.Join(root, "claim-"+v.PersistentVolumeClaim.ClaimName)
			case v.ConfigMap != nil:
				dir = filepath.Join(root, "configmap-"+v.ConfigMap.Name)
				if err := os.MkdirAll(dir, 0o755); err != nil {
					t.Fatal(err)
				}
				for k, data := range o.configMaps[v.ConfigMap.Name].Data {
					if err := os.WriteFile(filepath.Join(dir, k), []byte(data), 0o644); err != nil {
						t.Fatal(err)
					}
				}
			default:
				dir = filepath.Join(root, j.Name+"-"+v.Name)
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(dir, filepath.FromSlash(vf.rel))
		}
		// start runs a Job's pod: its args expanded and mapped.
		start := func(t *testing.T, j *batchv1.Job, fields map[string]string) (int, string) {
			t.Helper()
			c := auditorContainer(t, j)
			args, env := podArgs(t, c, fields)
			for i, a := range args {
				if strings.HasPrefix(a, "/") {
					args[i] = hostPath(t, j, c, a)
				}
			}
			env["TMPDIR"] = hostPath(t, j, c, "/tmp")
			return run(t, env, bin, args...)
		}
		aj, mj := o.job(t, auditJobName), o.job(t, mergeJobName)
		n := int(*aj.Spec.Completions)
		for i := range n {
			if code, stderr := start(t, aj, map[string]string{indexFieldPath: strconv.Itoa(i)}); code != 0 {
				t.Fatalf("index %d exited %d (want 0: the Job's index succeeds):\n%s", i, code, stderr)
			}
		}
		var shardRecs []string
		for _, r := range shardRecords(t, o, specs) {
			shardRecs = append(shardRecs, filepath.Join(root, "claim-"+r.claim, filepath.FromSlash(r.rel)))
		}
		// A retried index resumes its record: nothing is audited twice.
		before, _ := records(t, shardRecs[0])
		if code, stderr := start(t, aj, map[string]string{indexFieldPath: "0"}); code != 0 {
			t.Fatalf("index 0, retried, exited %d:\n%s", code, stderr)
		}
		data, err := os.ReadFile(shardRecs[0])
		if err != nil {
			t.Fatal(err)
		}
		if lines := bytes.Count(data, []byte("\n")); lines != len(before) {
			t.Errorf("index 0, retried: its record has %d lines, had %d", lines, len(before))
		}
		if code, stderr := start(t, mj, nil); code != 0 {
			t.Fatalf("the merge exited %d:\n%s", code, stderr)
		}
		c := auditorContainer(t, mj)
		env, _ := containerEnv(c, nil)
		args, _ := expandedArgs(c, env)
		inv, _ := parseCommandLine(args, specs)
		out, _ := inv.last("out")
		checkShards(t, shardRecs, filepath.Join(hostPath(t, mj, c, out), audit.ResultsFile))
	})

	t.Run("kubernetes-cronjob", func(t *testing.T) {
		testCronJobEndToEnd(t, bin, ids, run)
	})

	t.Run("aws-batch", func(t *testing.T) {
		root := t.TempDir()
		specs := cliFlags(t)
		d := loadBatch[batchJobDefinition](t, batchDefinition)
		a := loadBatch[batchSubmit](t, batchAudit)
		m := loadBatch[batchSubmit](t, batchMerge)
		cp := d.ContainerProperties
		sh, err := exec.LookPath("sh")
		if err != nil {
			t.Skip("no sh in PATH to stand in for busybox's")
		}
		// Container paths become directories under root, in the script
		// and in the job's variables, in one pass.
		var pairs []string
		for _, mp := range cp.MountPoints {
			dir := filepath.Join(root, mp.SourceVolume)
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			pairs = append(pairs, mp.ContainerPath, dir)
		}
		mapPaths := strings.NewReplacer(pairs...)
		// In the script, quoted as the shell reads each place: a
		// directory with a space (TMPDIR's) stays one word.
		mapScript := func(script string) string {
			return strings.Replace(shellMapped(script, pairs), "exec "+imageBinary+" ", "exec '"+bin+"' ", 1)
		}
		// The fleet list goes where the command reads it.
		args, err := batchArgs(cp.Command)
		if err != nil {
			t.Fatal(err)
		}
		inv, err := parseCommandLine(args, specs)
		if err != nil {
			t.Fatal(err)
		}
		list, _ := inv.last("instances")
		if err := os.WriteFile(mapPaths.Replace(list), []byte(fleetCSV), 0o644); err != nil {
			t.Fatal(err)
		}
		start := func(t *testing.T, command []string, env map[string]string) (int, string) {
			t.Helper()
			env["TMPDIR"] = mapPaths.Replace("/tmp")
			argv := []string{command[1], mapScript(command[2])}
			return run(t, env, sh, append(argv, command[3:]...)...)
		}
		n := a.ArrayProperties.Size
		for i := range n {
			env := batchEnv(cp.Environment, a.ContainerOverrides.Environment)
			env["AWS_BATCH_JOB_ARRAY_INDEX"] = strconv.Itoa(i)
			env["AWS_BATCH_JOB_ARRAY_SIZE"] = strconv.Itoa(n)
			if code, stderr := start(t, cp.Command, env); code != 0 {
				t.Fatalf("child %d exited %d (want 0: the array job succeeds):\n%s", i, code, stderr)
			}
		}
		// Without RUN_ID the shell stops before auditor starts, with a code
		// that is not retried.
		env := batchEnv(cp.Environment)
		env["AWS_BATCH_JOB_ARRAY_INDEX"], env["AWS_BATCH_JOB_ARRAY_SIZE"] = "0", strconv.Itoa(n)
		if code, _ := start(t, cp.Command, env); code == 0 || batchAction(d.RetryStrategy, strconv.Itoa(code), "", "Essential container in task exited") != "EXIT" {
			t.Errorf("without RUN_ID: exit %d, want a failure that is not retried", code)
		}
		if code, stderr := start(t, m.ContainerOverrides.Command, batchEnv(cp.Environment, m.ContainerOverrides.Environment)); code != 0 {
			t.Fatalf("the merge exited %d:\n%s", code, stderr)
		}
		recs, _ := batchShardRecords(t, specs)
		for i := range recs {
			recs[i] = mapPaths.Replace(recs[i])
		}
		margs, _ := batchArgs(m.ContainerOverrides.Command)
		var out string
		for i, w := range margs {
			if w == "--out" && i+1 < len(margs) {
				out, _ = expandShell(margs[i+1], batchEnv(m.ContainerOverrides.Environment))
			}
		}
		checkShards(t, recs, filepath.Join(mapPaths.Replace(out), audit.ResultsFile))
	})
}

// shellMapped returns script, a POSIX shell command line, with each
// pairs[2k] replaced by pairs[2k+1] where the shell would read it as text
// (not within single quotes), written so that the shell reads it as that
// text whatever it holds: single-quoted outside quotes, with \ " $ and `
// escaped within double quotes.
func shellMapped(script string, pairs []string) string {
	var b strings.Builder
	single, double := false, false
	for i := 0; i < len(script); {
		if !single {
			matched := false
			for k := 0; k+1 < len(pairs); k += 2 {
				if strings.HasPrefix(script[i:], pairs[k]) {
					to := pairs[k+1]
					if double {
						b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`, `$`, `\$`, "`", "\\`").Replace(to))
					} else {
						b.WriteString("'" + strings.ReplaceAll(to, "'", `'\''`) + "'")
					}
					i += len(pairs[k])
					matched = true
					break
				}
			}
			if matched {
				continue
			}
		}
		c := script[i]
		switch {
		case c == '\'' && !double:
			single = !single
		case c == '"' && !single:
			double = !double
		case c == '\\' && !single && i+1 < len(script):
			b.WriteString(script[i : i+2])
			i += 2
			continue
		}
		b.WriteByte(c)
		i++
	}
	return b.String()
}
