package deploy_test

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// sdkServicePath is the import path of the AWS SDK's service packages,
// less the service's name.
const sdkServicePath = "github.com/aws/aws-sdk-go-v2/service/"

// sdkHelpers are the SDK packages, other than a service's, whose calls make
// AWS calls of their own, by import path and the name they are known by
// in sdkScan's markers.
var sdkHelpers = map[string]string{
	"github.com/aws/aws-sdk-go-v2/credentials/stscreds":       "stscreds",
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager": "transfermanager",
}

// sdkSkipDirs are the directories of the module's root that are not the
// auditor: the simulated endpoint, the benchmarks and this directory.
// Directories named testdata, and hidden ones, are skipped at any depth.
var sdkSkipDirs = []string{"ssmsim", "bench", "deploy"}

// sdkScan is what scanSDK found in the code: the operations, as
// "service:Operation" with the SDK package's name (sesv2, not ses), and
// the markers of calls the SDK makes on the code's behalf, which
// impliedActions turns into IAM actions: "helper.Func" for a call of a
// function of sdkHelpers, "SSEKMSKeyID" when an upload names a KMS key, and
// "ACL" when it sets a canned ACL.
type sdkScan struct {
	ops     map[string]bool
	markers map[string]bool
}

// sseKMSKey is the field of an S3 upload's input that names a KMS key
// (SSEKMSKeyId in package s3, SSEKMSKeyID in the transfer manager).
var sseKMSKey = regexp.MustCompile(`^SSEKMSKeyI[dD]$`)

// sdkOperations returns the operations of the clients of the given SDK
// service packages ("ssm", "ec2"), read from the names of the SDK's
// api_op_*.go files in the module cache, one file per operation.
func sdkOperations(t *testing.T, services []string) map[string]map[string]bool {
	t.Helper()
	ops := map[string]map[string]bool{}
	if len(services) == 0 {
		return ops
	}
	args := []string{"list", "-m", "-f", "{{.Path}} {{.Dir}}"}
	for _, s := range services {
		args = append(args, sdkServicePath+s)
	}
	out, err := exec.Command("go", args...).Output()
	if err != nil {
		t.Fatalf("go %s: %v", strings.Join(args, " "), err)
	}
	for line := range strings.Lines(string(out)) {
		mod, dir, ok := strings.Cut(strings.TrimSpace(line), " ")
		if !ok || dir == "" {
			t.Fatalf("go list: %q: the SDK module is not in the module cache (go mod download)", line)
		}
		files, err := filepath.Glob(filepath.Join(dir, "api_op_*.go"))
		if err != nil || len(files) == 0 {
			t.Fatalf("%s: no api_op_*.go files (%v)", mod, err)
		}
		set := map[string]bool{}
		for _, f := range files {
			set[strings.TrimSuffix(strings.TrimPrefix(filepath.Base(f), "api_op_"), ".go")] = true
		}
		ops[strings.TrimPrefix(mod, sdkServicePath)] = set
	}
	return ops
}

// sdkFile is one parsed Go file and the local names of its SDK imports.
type sdkFile struct {
	path     string
	ast      *ast.File
	services map[string]string // local name → service ("ssm")
	helpers  map[string]string // local name → sdkHelpers' name
}

// scanSDK finds the AWS calls of the non-test Go files under root, less
// sdkSkipDirs below it. It resolves each file's imports of SDK service
// packages to their local names (a renamed import is followed) and counts
// an operation Op of service S when the file names S.OpInput outside a
// signature (a composite literal, new, a pointer, a declaration),
// calls S.NewOpPaginator, or calls a method named Op with at least two
// arguments (client.Op(ctx, nil)). Without types, a method call is
// attributed to the services the file imports that have the operation,
// else to those its directory imports, else to those the scanned code
// imports: a name two services share is counted for both, which the
// policy check then reports rather than misses.
func scanSDK(t *testing.T, root string) sdkScan {
	t.Helper()
	fset := token.NewFileSet()
	var files []*sdkFile
	err := filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p == root {
				return nil
			}
			if d.Name() == "testdata" || strings.HasPrefix(d.Name(), ".") || filepath.Dir(p) == filepath.Clean(root) && slices.Contains(sdkSkipDirs, d.Name()) {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".go") || strings.HasSuffix(p, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(fset, p, nil, parser.SkipObjectResolution)
		if err != nil {
			return err
		}
		sf := &sdkFile{path: p, ast: f, services: map[string]string{}, helpers: map[string]string{}}
		for _, imp := range f.Imports {
			path, _ := strconv.Unquote(imp.Path.Value)
			local := ""
			if imp.Name != nil {
				local = imp.Name.Name
			}
			if svc, ok := strings.CutPrefix(path, sdkServicePath); ok && !strings.Contains(svc, "/") {
				if local == "" {
					local = svc
				}
				sf.services[local] = svc
			} else if h, ok := sdkHelpers[path]; ok {
				if local == "" {
					local = h
				}
				sf.helpers[local] = h
			}
			if local == "." && (sf.services["."] != "" || sf.helpers["."] != "") {
				t.Errorf("%s: a dot import of %s hides its calls from this scan; import it by name", p, path)
			}
		}
		files = append(files, sf)
		return nil
	})
	if err != nil {
		t.Fatalf("scanning %s: %v", root, err)
	}

	// The services imported by each directory and by all of the code,
	// for method calls whose file does not name the service.
	dirServices := map[string]map[string]bool{}
	all := map[string]bool{}
	for _, f := range files {
		d := filepath.Dir(f.path)
		if dirServices[d] == nil {
			dirServices[d] = map[string]bool{}
		}
		for _, svc := range f.services {
			dirServices[d][svc] = true
			all[svc] = true
		}
	}
	ops := sdkOperations(t, slices.Sorted(mapsKeys(all)))

	scan := sdkScan{ops: map[string]bool{}, markers: map[string]bool{}}
	for _, f := range files {
		imported := map[string]bool{}
		for _, svc := range f.services {
			imported[svc] = true
		}
		ast.Inspect(f.ast, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncType:
				// A signature names what is passed in, not what is
				// called: a method that refuses GetObject to satisfy the
				// transfer manager's interface calls nothing.
				return false
			case *ast.SelectorExpr:
				x, ok := n.X.(*ast.Ident)
				if !ok {
					break
				}
				if svc, ok := f.services[x.Name]; ok {
					name := n.Sel.Name
					if op, ok := strings.CutSuffix(name, "Input"); ok && ops[svc][op] {
						scan.ops[svc+":"+op] = true
					}
					if op, ok := strings.CutPrefix(name, "New"); ok {
						if op, ok := strings.CutSuffix(op, "Paginator"); ok && ops[svc][op] {
							scan.ops[svc+":"+op] = true
						}
					}
				}
				if sseKMSKey.MatchString(n.Sel.Name) {
					scan.markers["SSEKMSKeyID"] = true
				}
				if n.Sel.Name == "ACL" {
					scan.markers["ACL"] = true
				}
			case *ast.KeyValueExpr:
				if k, ok := n.Key.(*ast.Ident); ok && sseKMSKey.MatchString(k.Name) {
					scan.markers["SSEKMSKeyID"] = true
				}
				if k, ok := n.Key.(*ast.Ident); ok && k.Name == "ACL" {
					scan.markers["ACL"] = true
				}
			case *ast.CallExpr:
				sel, ok := n.Fun.(*ast.SelectorExpr)
				if !ok {
					break
				}
				if x, ok := sel.X.(*ast.Ident); ok {
					if h, ok := f.helpers[x.Name]; ok {
						scan.markers[h+"."+sel.Sel.Name] = true
						break
					}
					if f.services[x.Name] != "" {
						break // a package's function, seen above
					}
				}
				if len(n.Args) < 2 {
					break
				}
				for _, scope := range []map[string]bool{imported, dirServices[filepath.Dir(f.path)], all} {
					found := false
					for _, svc := range slices.Sorted(mapsKeys(scope)) {
						if ops[svc][sel.Sel.Name] {
							scan.ops[svc+":"+sel.Sel.Name] = true
							found = true
						}
					}
					if found {
						break
					}
				}
			}
			return true
		})
	}
	return scan
}

// TestScanSDK runs the scan over probes of the ways a call can be written,
// so that a call the policy check needs to see cannot pass unseen.
func TestScanSDK(t *testing.T) {
	tests := []struct {
		name    string
		dir     string
		ops     []string
		markers []string
	}{
		{
			name: "renamed imports",
			dir:  "renamed",
			ops:  []string{"ec2:DescribeInstances", "organizations:ListAccounts"},
		},
		{
			name: "new and declared inputs",
			dir:  "newinput",
			ops:  []string{"ssm:GetInventory", "ssm:ListDocuments"},
		},
		{
			name: "nil inputs, from a file that does not import the service",
			dir:  "nilinput",
			ops:  []string{"ssm:DescribeDocument", "ssm:ListAssociations"},
		},
		{
			name: "a paginator in a package of its own",
			dir:  "otherpkg",
			ops:  []string{"ssm:ListCommands"},
		},
		{
			name: "inputs named in signatures only",
			dir:  "signature",
		},
		{
			name: "tests, the simulated endpoint and test data",
			dir:  "skipped",
		},
		{
			name:    "helpers under other names",
			dir:     "upload",
			markers: []string{"ACL", "SSEKMSKeyID", "stscreds.NewAssumeRoleProvider", "transfermanager.New"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := scanSDK(t, filepath.Join("testdata", "sdkscan", tt.dir))
			if ops := slices.Sorted(mapsKeys(got.ops)); !slices.Equal(ops, tt.ops) {
				t.Errorf("operations %v, want %v", ops, tt.ops)
			}
			if markers := slices.Sorted(mapsKeys(got.markers)); !slices.Equal(markers, tt.markers) {
				t.Errorf("markers %v, want %v", markers, tt.markers)
			}
		})
	}
}
