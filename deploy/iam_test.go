package deploy_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// iamAction finds the IAM actions a document names.
var iamAction = regexp.MustCompile("\\b(ssm|sts|organizations|ec2|s3|ses|kms):[A-Z][A-Za-z]+")

// iamPrefix is the IAM service prefix of an SDK service package whose name
// is not its prefix.
var iamPrefix = map[string]string{"sesv2": "ses"}

// iamActionOf is the IAM action of an operation that IAM gates under
// another name: S3's multipart upload is allowed by s3:PutObject.
var iamActionOf = map[string]string{
	"s3:CreateMultipartUpload":   "s3:PutObject",
	"s3:UploadPart":              "s3:PutObject",
	"s3:CompleteMultipartUpload": "s3:PutObject",
}

// impliedActions are the IAM actions of the calls the SDK, or a service,
// makes on the code's behalf with the caller's credentials, by the marker
// of scanSDK that shows the code asks for them:
//   - the assumed-role credential provider calls sts:AssumeRole;
//   - the S3 transfer manager makes the calls of an upload: PutObject, or
//     CreateMultipartUpload, UploadPart and CompleteMultipartUpload (all
//     gated as s3:PutObject), and AbortMultipartUpload when a multipart
//     upload fails;
//   - an upload that names a KMS key for SSE-KMS (--upload-kms-key) has S3
//     call KMS with the caller's permissions: kms:GenerateDataKey for each
//     object, and kms:Decrypt for the parts of a multipart upload. (The
//     AWS-managed key of aws:kms without a key needs no permission of the
//     caller's: its key policy allows the account through S3.)
//   - an upload that sets a canned ACL (--upload-acl) needs
//     s3:PutObjectAcl besides s3:PutObject.
var impliedActions = map[string][]string{
	"stscreds.NewAssumeRoleProvider": {"sts:AssumeRole"},
	"transfermanager.New":            {"s3:PutObject", "s3:AbortMultipartUpload"},
	"SSEKMSKeyID":                    {"kms:GenerateDataKey", "kms:Decrypt"},
	"ACL":                            {"s3:PutObjectAcl"},
}

// noPermission are the operations IAM does not gate: who may call
// AssumeRoleWithWebIdentity (the credential chain's, for AWS_ROLE_ARN) is
// the role's trust policy's to say, and the call is unsigned; so is IAM
// Identity Center's GetRoleCredentials (the credential chain's, for an
// sso_ profile), which its access token authorizes, and IAM Identity
// Center OIDC's CreateToken (the credential chain's, to refresh that token),
// which its refresh token does.
var noPermission = []string{"sts:GetCallerIdentity", "sts:AssumeRoleWithWebIdentity", "sso:GetRoleCredentials", "ssooidc:CreateToken"}

// conditionKeys are the condition keys that the docs name as an action
// is named (service:Name), which are not actions.
var conditionKeys = []string{"kms:ViaService"}

// iamActions returns the IAM actions of what scanSDK found.
func iamActions(scan sdkScan) []string {
	set := map[string]bool{}
	for op := range scan.ops {
		svc, name, _ := strings.Cut(op, ":")
		if p, ok := iamPrefix[svc]; ok {
			svc = p
		}
		a := svc + ":" + name
		if v, ok := iamActionOf[a]; ok {
			a = v
		}
		if !slices.Contains(noPermission, a) {
			set[a] = true
		}
	}
	for m := range scan.markers {
		for _, a := range impliedActions[m] {
			set[a] = true
		}
	}
	return slices.Sorted(mapsKeys(set))
}

// codeActions returns the IAM actions of the AWS calls of the module's
// code (scanSDK from the module's root).
func codeActions(t *testing.T) []string {
	t.Helper()
	return iamActions(scanSDK(t, ".."))
}

func mapsKeys(m map[string]bool) func(func(string) bool) {
	return func(yield func(string) bool) {
		for k := range m {
			if !yield(k) {
				return
			}
		}
	}
}

// policyActions returns the actions of the Allow statements of a policy
// document.
func policyActions(t *testing.T, doc map[string]any) []string {
	t.Helper()
	set := map[string]bool{}
	stmts, _ := doc["Statement"].([]any)
	for _, s := range stmts {
		st, _ := s.(map[string]any)
		if st["Effect"] != "Allow" {
			continue
		}
		switch a := st["Action"].(type) {
		case string:
			set[a] = true
		case []any:
			for _, x := range a {
				set[x.(string)] = true
			}
		}
	}
	return slices.Sorted(mapsKeys(set))
}

// TestIAMActions: the policy of the auditing principal names exactly the
// operations the code calls (sts:GetCallerIdentity needs no permission);
// the member-account role names exactly those made with its credentials
// (SSM and EC2); the README names the same.
func TestIAMActions(t *testing.T) {
	code := codeActions(t)
	if !slices.Contains(code, "ssm:DescribeInstanceAssociationsStatus") || !slices.Contains(code, "sts:AssumeRole") {
		t.Fatalf("the code scan found %v: it misses calls the code makes", code)
	}
	var policy map[string]any
	b, err := os.ReadFile("iam/auditor-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &policy); err != nil {
		t.Fatalf("iam/auditor-policy.json: %v", err)
	}
	if got := policyActions(t, policy); !slices.Equal(got, code) {
		t.Errorf("iam/auditor-policy.json allows %v; the code calls %v", got, code)
	}
	// What delivers the reports is scoped to the sender and the upload's
	// prefix: on "*", a mistyped bucket sends them to whoever owns it; the
	// README says so.
	if readme, err := os.ReadFile("../README.md"); err != nil || bytes.Contains(readme, []byte("grants these on every resource")) {
		t.Errorf("README.md (%v) says the policy grants the delivery on every resource", err)
	}
	for _, st := range policy["Statement"].([]any) {
		st := st.(map[string]any)
		acts := fmt.Sprint(st["Action"])
		if (strings.Contains(acts, "s3:") || strings.Contains(acts, "ses:")) && fmt.Sprint(st["Resource"]) == "*" {
			t.Errorf("iam/auditor-policy.json: %s on every resource; scope it to the bucket's prefix and the sender's identity", acts)
		}
		// An ACL only as --upload-acl sets it: s3:PutObjectAcl alone
		// lets the role make any report under the prefix public-read.
		if strings.Contains(acts, "s3:PutObjectAcl") {
			cond, _ := st["Condition"].(map[string]any)
			eq, _ := cond["StringEquals"].(map[string]any)
			if acl, _ := eq["s3:x-amz-acl"].(string); acl != "bucket-owner-full-control" {
				t.Errorf("iam/auditor-policy.json: %s with s3:x-amz-acl %q; want only bucket-owner-full-control, as --upload-acl sends", acts, acl)
			}
		}
		// S3 uses the upload's key with the caller's permissions; the
		// statement allows that key alone, and only through S3, so that
		// the role cannot decrypt with it directly.
		if strings.Contains(acts, "kms:") {
			if r := fmt.Sprint(st["Resource"]); !strings.HasPrefix(r, "arn:aws:kms:") || !strings.Contains(r, ":key/") {
				t.Errorf("iam/auditor-policy.json: %s on %s; scope it to the upload's key", acts, r)
			}
			cond, _ := st["Condition"].(map[string]any)
			eq, _ := cond["StringEquals"].(map[string]any)
			if via, _ := eq["kms:ViaService"].(string); !regexp.MustCompile(`^s3\.[a-z0-9-]+\.amazonaws\.com$`).MatchString(via) {
				t.Errorf("iam/auditor-policy.json: %s with kms:ViaService %q; want the key used through S3 alone (s3.REGION.amazonaws.com)", acts, via)
			}
		}
	}

	y, err := os.ReadFile("iam/member-role.yaml")
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(y)
	if err != nil {
		t.Fatalf("iam/member-role.yaml: %v", err)
	}
	var tmpl struct {
		Resources map[string]struct {
			Type       string
			Properties struct {
				AssumeRolePolicyDocument map[string]any
				Policies                 []struct{ PolicyDocument map[string]any }
			}
		}
	}
	if err := json.Unmarshal(j, &tmpl); err != nil {
		t.Fatalf("iam/member-role.yaml: %v", err)
	}
	role, ok := tmpl.Resources["AuditRole"]
	if !ok || role.Type != "AWS::IAM::Role" || len(role.Properties.Policies) != 1 {
		t.Fatalf("iam/member-role.yaml: want one AWS::IAM::Role AuditRole with one policy, have %+v", tmpl.Resources)
	}
	var member []string
	for _, a := range code {
		if strings.HasPrefix(a, "ssm:") || strings.HasPrefix(a, "ec2:") {
			member = append(member, a)
		}
	}
	if got := policyActions(t, role.Properties.Policies[0].PolicyDocument); !slices.Equal(got, member) {
		t.Errorf("the member role allows %v; the calls made with its credentials are %v", got, member)
	}
	if got := policyActions(t, role.Properties.AssumeRolePolicyDocument); !slices.Equal(got, []string{"sts:AssumeRole"}) {
		t.Errorf("the member role's trust policy allows %v, want sts:AssumeRole", got)
	}
	// Trusting the auditing account's root lets any of its principals
	// with sts:AssumeRole in their own policy (an administrator, any
	// workload given sts:AssumeRole on "*") read every member account: the
	// trust names the auditor's own role, whichever way ExternalId goes.
	for _, st := range role.Properties.AssumeRolePolicyDocument["Statement"].([]any) {
		cond := st.(map[string]any)["Condition"]
		branches := []any{cond}
		if c, ok := cond.(map[string]any); ok && c["Fn::If"] != nil {
			f := c["Fn::If"].([]any)
			branches = f[1:]
		}
		for i, b := range branches {
			m, _ := b.(map[string]any)
			arn, _ := m["ArnEquals"].(map[string]any)
			sub, _ := arn["aws:PrincipalArn"].(map[string]any)
			if got, _ := sub["Fn::Sub"].(string); got != "arn:${AWS::Partition}:iam::${AuditorAccountId}:role/${AuditorRoleName}" {
				t.Errorf("iam/member-role.yaml: the trust policy (branch %d) does not limit aws:PrincipalArn to the auditor's role: %v", i, b)
			}
		}
	}

	readme, err := os.ReadFile("../README.md")
	if err != nil {
		t.Fatal(err)
	}
	named := map[string]bool{}
	for _, a := range iamAction.FindAllString(string(readme), -1) {
		if !slices.Contains(noPermission, a) && !slices.Contains(conditionKeys, a) {
			named[a] = true
		}
	}
	if got := slices.Sorted(mapsKeys(named)); !slices.Equal(got, code) {
		t.Errorf("README.md names the actions %v; the code calls %v", got, code)
	}
}

// TestUploadExamples: every S3 location in the docs and manifests in the
// bucket of iam/auditor-policy.json's upload statement lies under the
// prefix it allows, so that a copied example is not refused s3:PutObject
// (exit 5) by the policy shipped next to it.
func TestUploadExamples(t *testing.T) {
	b, err := os.ReadFile("iam/auditor-policy.json")
	if err != nil {
		t.Fatal(err)
	}
	var policy struct {
		Statement []struct {
			Action   any
			Resource any
		}
	}
	if err := json.Unmarshal(b, &policy); err != nil {
		t.Fatalf("iam/auditor-policy.json: %v", err)
	}
	var allowed string
	for _, st := range policy.Statement {
		if r, ok := st.Resource.(string); ok && strings.Contains(fmt.Sprint(st.Action), "s3:PutObject") {
			allowed = strings.TrimSuffix(strings.TrimPrefix(r, "arn:aws:s3:::"), "*")
		}
	}
	bucket, _, ok := strings.Cut(allowed, "/")
	if !ok || !strings.HasSuffix(allowed, "/") {
		t.Fatalf("iam/auditor-policy.json: no s3:PutObject statement on one bucket's prefix (BUCKET/PREFIX/*)")
	}
	files := []string{"../README.md", "README.md"}
	for _, glob := range []string{"kubernetes/*.yaml", "aws-batch/*.json"} {
		m, _ := filepath.Glob(glob)
		files = append(files, m...)
	}
	loc := regexp.MustCompile(`s3://` + regexp.QuoteMeta(bucket) + `/[^\s"'` + "`" + `\\]*`)
	seen := 0
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range loc.FindAllString(string(b), -1) {
			seen++
			if !strings.HasPrefix(strings.TrimPrefix(m, "s3://"), allowed) {
				t.Errorf("%s: %s is outside s3://%s, the prefix iam/auditor-policy.json allows", f, m, allowed)
			}
		}
	}
	if seen == 0 {
		t.Errorf("no example uploads to s3://%s: the check checks nothing", allowed)
	}
}
