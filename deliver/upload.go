package deliver

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager"
	tmtypes "github.com/aws/aws-sdk-go-v2/feature/s3/transfermanager/types"
	"github.com/aws/aws-sdk-go-v2/service/s3"
	"github.com/aws/smithy-go"
	smithyhttp "github.com/aws/smithy-go/transport/http"

	"github.com/auditor-dev/auditor/audit"
)

// Part sizes of a multipart upload.
const (
	// DefaultPartSize is UploadOptions.PartSize's default: 8 MiB, the
	// transfer manager's.
	DefaultPartSize = 8 << 20
	// MinPartSize is the smallest part S3 accepts (but for the last).
	MinPartSize = 5 << 20
)

// The server-side encryptions UploadOptions.SSE accepts, as S3 names them.
const (
	SSENone = ""
	SSES3   = "AES256"
	SSEKMS  = "aws:kms"
)

// ACLBucketOwnerFullControl is the canned ACL that gives the bucket's owner
// full control of an object another account writes: a bucket of another
// account whose Object Ownership is ObjectWriter or BucketOwnerPreferred
// often requires it by policy. Asking for it needs s3:PutObjectAcl.
const ACLBucketOwnerFullControl = "bucket-owner-full-control"

// ACLs returns the canned ACLs that UploadOptions.ACL accepts. The others
// (public-read, authenticated-read, ...) would show the reports to more
// than the bucket's owner, and are refused.
func ACLs() []string { return []string{ACLBucketOwnerFullControl} }

// S3API is the part of the Amazon S3 client that Upload uses: a single PUT
// for small files and a multipart upload for large ones. An *s3.Client
// satisfies it.
type S3API interface {
	PutObject(ctx context.Context, in *s3.PutObjectInput, optFns ...func(*s3.Options)) (*s3.PutObjectOutput, error)
	CreateMultipartUpload(ctx context.Context, in *s3.CreateMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CreateMultipartUploadOutput, error)
	UploadPart(ctx context.Context, in *s3.UploadPartInput, optFns ...func(*s3.Options)) (*s3.UploadPartOutput, error)
	CompleteMultipartUpload(ctx context.Context, in *s3.CompleteMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.CompleteMultipartUploadOutput, error)
	AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error)
}

var _ S3API = (*s3.Client)(nil)

// UploadOptions are the settings of Upload. The zero value uploads without
// asking for server-side encryption (the bucket's default applies) in parts
// of DefaultPartSize.
type UploadOptions struct {
	// SSE is the server-side encryption to ask for: SSENone, SSES3
	// ("AES256") or SSEKMS ("aws:kms").
	SSE string
	// KMSKeyID is the KMS key (ID, ARN or alias) for SSEKMS; empty means
	// the account's AWS-managed key. It is an error with another SSE.
	KMSKeyID string
	// ExpectedBucketOwner is the account ID (12 digits) that must own the
	// bucket: S3 refuses the upload (403) when another account does, so
	// that a mistyped or re-created bucket name does not send the reports
	// to a stranger. Empty: no check.
	ExpectedBucketOwner string
	// ACL is the canned ACL of each object: empty for none (the bucket's
	// own rules apply), or one of ACLs.
	ACL string
	// PartSize is the size of the parts of a multipart upload, and the size
	// past which a file is uploaded in parts; zero means DefaultPartSize, and
	// less than MinPartSize is an error.
	PartSize int64
}

// IncompleteUploadError is the error (wrapped) of Upload when a multipart
// upload failed or was cut short and S3 did not take its abort: the parts
// sent stay in the bucket, billed, until the upload is aborted (aws s3api
// abort-multipart-upload) or a lifecycle rule ends it.
type IncompleteUploadError struct {
	Bucket, Key, UploadID string
	// Err is why the abort failed.
	Err error
}

func (e *IncompleteUploadError) Error() string {
	return fmt.Sprintf("the multipart upload %s of s3://%s/%s is left in the bucket, not aborted: %s", OneLine(e.UploadID, 200), e.Bucket, OneLine(e.Key, 1100), OneLine(e.Err.Error(), maxServerText))
}

func (e *IncompleteUploadError) Unwrap() error { return e.Err }

// accountID is an AWS account ID.
var accountID = regexp.MustCompile(`^[0-9]{12}$`)

// bucketName is what S3 accepts as a bucket name (general purpose buckets).
var bucketName = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$`)

// ParseS3URL splits s3://BUCKET/PREFIX into the bucket and the key prefix
// under which Upload puts files. The prefix is a folder: it is empty or ends
// in "/" (one is added: s3://b/runs/2026-01-05 is prefix "runs/2026-01-05/").
// It is an error for another scheme, a bucket name S3 would refuse, an ARN
// for the bucket (an access point's alias is a bucket name, and is taken),
// or credentials, a port, a query or a fragment in the URL, and for any "@":
// a login with "/" in it (an AWS secret key often has one) puts the "@" in
// what url.Parse reads as the prefix (s3://name/secret@bucket/ is bucket
// "name"), so a key with "@" in it is not taken either.
func ParseS3URL(s string) (bucket, prefix string, err error) {
	if strings.Contains(s, "@") {
		return "", "", fmt.Errorf("S3 URL %q: has credentials, or an \"@\" in the prefix; the upload takes the AWS credentials of the run, and an \"@\" in the prefix is written %%40", shownURL(s))
	}
	if strings.ContainsAny(s, "?#") {
		return "", "", fmt.Errorf("S3 URL %q: want only s3://bucket/prefix/", shownURL(s))
	}
	if scheme, rest, ok := strings.Cut(s, "://"); ok && strings.EqualFold(scheme, "s3") && len(rest) >= 4 && strings.EqualFold(rest[:4], "arn:") {
		// url.Parse reads the ARN's colons as a port's and says so.
		return "", "", fmt.Errorf("S3 URL %q: an ARN is not taken for the bucket; for an access point, give its alias (NAME-...-s3alias, which S3 takes where a bucket name goes): s3://ALIAS/prefix/", shownURL(s))
	}
	u, err := url.Parse(s)
	if err != nil {
		return "", "", fmt.Errorf("S3 URL: %w (want s3://bucket/prefix/)", parseError(err))
	}
	shown := shownURL(s)
	if !strings.EqualFold(u.Scheme, "s3") || u.Opaque != "" {
		return "", "", fmt.Errorf("S3 URL %q: want s3://bucket/prefix/", shown)
	}
	if u.Port() != "" {
		return "", "", fmt.Errorf("S3 URL %q: want only s3://bucket/prefix/", shown)
	}
	bucket = u.Host
	if !bucketName.MatchString(bucket) || strings.Contains(bucket, "..") {
		return "", "", fmt.Errorf("S3 URL %q: %q is not a bucket name (3-63 lower-case letters, digits, dots and hyphens)", shown, OneLine(bucket, 100))
	}
	prefix = strings.TrimPrefix(u.Path, "/")
	if prefix != "" && !strings.HasSuffix(prefix, "/") {
		prefix += "/"
	}
	// A prefix that starts with "/" (s3://bucket//) makes keys such as
	// "/report.html", under a folder with no name.
	if strings.Contains(prefix, "//") || strings.HasPrefix(prefix, "/") {
		return "", "", fmt.Errorf("S3 URL %q: empty folder name in the prefix", shown)
	}
	// Written %0a, a newline would be in every key, and in every link
	// to them that a report or a mail shows.
	if strings.ContainsFunc(prefix, unicode.IsControl) {
		return "", "", fmt.Errorf("S3 URL %q: the prefix holds a control character (such as a newline or a tab), which every key would hold", shown)
	}
	return bucket, prefix, nil
}

// Upload puts each file under dest (s3://bucket/prefix/, see ParseS3URL)
// as prefix + its base name, in order, through the SDK's transfer manager: a
// file larger than opts.PartSize goes in parts, concurrently, and a failed
// multipart upload is aborted. Each object gets the content type of
// ContentType and the encryption of opts. It returns the s3:// location of
// each object written, in the order of files.
//
// It checks dest, opts and the files (which must be regular files with
// distinct base names) before it uploads anything, and stops at the first
// upload that fails, returning the locations written before it and an error
// that names the file and wraps the SDK's (smithy.APIError for an S3 error),
// whose text is cut to one line without control or bidi characters. A
// client whose errors are redacted of the run's secrets (one made from
// awsconn's configuration) keeps them out of that text. An upload cut
// short by ctx returns an error that wraps ctx's; a multipart upload that
// failed is aborted even then (for at most abortTimeout), and one whose
// abort S3 refused is named by a wrapped *IncompleteUploadError.
//
// The request checksums are the client's RequestChecksumCalculation when
// api has Options (an *s3.Client does): with when_required, no request
// carries a checksum header that S3 does not require. Without Options, or
// with the setting unset, they are sent whenever S3 supports them.
func Upload(ctx context.Context, api S3API, dest string, files []string, opts UploadOptions) ([]string, error) {
	bucket, prefix, err := ParseS3URL(dest)
	if err != nil {
		return nil, err
	}
	partSize := opts.PartSize
	switch {
	case partSize == 0:
		partSize = DefaultPartSize
	case partSize < MinPartSize:
		return nil, fmt.Errorf("uploading to %s: part size %d bytes, less than S3's least (%d)", dest, partSize, MinPartSize)
	}
	switch opts.SSE {
	case SSENone, SSES3:
		if opts.KMSKeyID != "" {
			return nil, fmt.Errorf("uploading to %s: a KMS key needs %s encryption, not %q", dest, SSEKMS, opts.SSE)
		}
	case SSEKMS:
	default:
		return nil, fmt.Errorf("uploading to %s: server-side encryption %q (want %q, %q or none)", dest, opts.SSE, SSES3, SSEKMS)
	}
	if o := opts.ExpectedBucketOwner; o != "" && !accountID.MatchString(o) {
		return nil, fmt.Errorf("uploading to %s: expected bucket owner %q is not an account ID (want 12 digits)", dest, OneLine(o, 40))
	}
	if opts.ACL != "" && !slices.Contains(ACLs(), opts.ACL) {
		return nil, fmt.Errorf("uploading to %s: canned ACL %q (want %s or none)", dest, OneLine(opts.ACL, 40), strings.Join(ACLs(), ", "))
	}
	seen := map[string]string{}
	for _, f := range files {
		fi, err := os.Stat(f)
		if err != nil {
			return nil, fmt.Errorf("uploading %s: %w", f, err)
		}
		if !fi.Mode().IsRegular() {
			return nil, fmt.Errorf("uploading %s: not a regular file", f)
		}
		base := filepath.Base(f)
		if other, ok := seen[base]; ok {
			return nil, fmt.Errorf("uploading %s: same name as %s, both would be %s", f, other, "s3://"+bucket+"/"+prefix+base)
		}
		seen[base] = f
	}

	client := &uploadOnly{S3API: api}
	tm := transfermanager.New(client, func(o *transfermanager.Options) {
		o.PartSizeBytes = partSize
		o.MultipartUploadThreshold = partSize
		// The transfer manager puts its own setting (when_supported
		// unless told) over the client's on every call: the client's
		// when_required (AWS_REQUEST_CHECKSUM_CALCULATION, or the
		// profile's request_checksum_calculation), which an
		// S3-compatible store that refuses the checksum headers needs,
		// was lost.
		if c, ok := api.(interface{ Options() s3.Options }); ok {
			if r := c.Options().RequestChecksumCalculation; r != aws.RequestChecksumCalculationUnset {
				o.RequestChecksumCalculation = r
			}
		}
	})
	var done []string
	for _, f := range files {
		key := prefix + filepath.Base(f)
		loc := "s3://" + bucket + "/" + key
		if err := putFile(ctx, tm, bucket, key, f, opts); err != nil {
			// S3's words are cut to one line, as SES's and SMTP's are:
			// the caller prints them, and a message with a newline
			// would print lines that read as the caller's own. They
			// are cut after the client redacted the run's secrets
			// they repeated (a client made from awsconn's
			// configuration does: audit.Secrets.APIOption), so that
			// no secret is cut in two and half shown.
			err = redactedError{msg: s3Text(err, opts), err: err}
			if ie := client.abortFailed(); ie != nil {
				err = fmt.Errorf("%w; %w", err, ie)
			}
			if ctx.Err() != nil && !errors.Is(err, ctx.Err()) {
				// The transfer manager keeps no chain of a cut
				// that it aborted after: the caller tells a
				// signal from S3's failure by ctx's error.
				err = fmt.Errorf("%w: %w", ctx.Err(), err)
			}
			return done, fmt.Errorf("uploading %s to %s: %w", f, loc, err)
		}
		done = append(done, loc)
	}
	return done, nil
}

// s3Text is what an upload's error says: S3's code and message, each cut
// alone, the message in its middle (the SDK's own words, "operation error
// ..., RequestID, HostID", took most of a cap on the whole and cut off a
// deny's reason, at the end of its message), the operation, the HTTP
// status and the request ID that AWS support asks for; the host ID is
// left out. An access denied says what a bucket policy may require that
// the upload did not send; a key or signature refused, to check the
// credentials; a clock refused, to set it. An error with no answer of
// S3's is its own text, cut. Both are redacted with the Secrets that err
// carries (audit.Classify).
func s3Text(err error, opts UploadOptions) string {
	if u, none := audit.NoAnswer(err); none && !errors.Is(err, context.Canceled) {
		// A cut (a signal) is the caller's to tell.
		return noAnswerText(err, u)
	}
	var ae smithy.APIError
	if !errors.As(err, &ae) {
		return OneLine(err.Error(), maxServerText)
	}
	text, status := answerText(err)
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		text = "S3 " + oe.OperationName + ": " + text
	}
	switch ae.ErrorCode() {
	case "AccessDenied", "AllAccessDisabled":
		if status == http.StatusForbidden {
			text += "; " + policyHint(opts)
		}
	case "SignatureDoesNotMatch", "InvalidAccessKeyId", "InvalidToken", "ExpiredToken", "TokenRefreshRequired":
		text += "; check the credentials the upload used (a secret key that is not its access key's, a key deleted or of another partition, a session that ended)"
	case "RequestTimeTooSkewed":
		text += "; S3 refused this machine's clock: set it right (NTP, chrony)"
	}
	return text
}

// answerText is the code and message of the answer of an AWS service that
// err holds (a smithy.APIError), one line each, the message cut in its
// middle when long, so that both its ends (a denial's resource) stay, and
// its HTTP status and request ID after them; and that status (0 when err
// has none).
func answerText(err error) (text string, status int) {
	code, msg := audit.Classify(err)
	text = OneLine(code, 100) + ": " + oneLineBothEnds(msg, maxServerText)
	var details []string
	var re *smithyhttp.ResponseError
	if errors.As(err, &re) {
		status = re.HTTPStatusCode()
		details = append(details, fmt.Sprintf("HTTP %d", status))
	}
	var rid interface{ ServiceRequestID() string }
	// Only an ID that err's own text shows: that text is redacted of the
	// run's secrets (a client made from awsconn's configuration), and an
	// ID that held one shows there redacted, not as it came.
	if errors.As(err, &rid) && rid.ServiceRequestID() != "" && strings.Contains(err.Error(), rid.ServiceRequestID()) {
		var none *audit.Secrets // the values that sign a request
		details = append(details, "request ID "+OneLine(none.Redact(rid.ServiceRequestID()), 100))
	}
	if len(details) > 0 {
		text += " (" + strings.Join(details, ", ") + ")"
	}
	return text, status
}

// noAnswerText is s3Text for a call that got no answer from S3 (u, from
// audit.NoAnswer): where it went and why it got none, as a run says it of
// SSM's calls, naming the proxy and its settings when it was the proxy
// that failed, in place of the SDK's chain ("operation error S3: ...,
// StatusCode: 0, RequestID: , ...").
func noAnswerText(err error, u *audit.UnreachableError) string {
	u.Endpoint = cmp.Or(u.Endpoint, "S3")
	text := u.Error() // "cannot reach ENDPOINT[ through the proxy P]: CAUSE"
	var oe *smithy.OperationError
	if errors.As(err, &oe) {
		text = "S3 " + oe.OperationName + ": " + text
	}
	if u.ThroughProxy {
		text += "; check " + u.ProxyVar() + " (the proxy) and NO_PROXY (the hosts reached without it)"
	}
	return OneLine(text, maxServerText)
}

// policyHint says what a policy that denied an upload may require that
// opts did not send.
func policyHint(opts UploadOptions) string {
	var parts []string
	if opts.SSE == SSEKMS {
		parts = append(parts, "the key policy of its KMS key, which must let this caller use the key through S3")
	} else {
		parts = append(parts, "encryption with a KMS key (--upload-sse aws:kms, --upload-kms-key)")
	}
	if opts.ACL == "" {
		parts = append(parts, "the ACL bucket-owner-full-control (--upload-acl)")
	}
	text := "check what the bucket policy requires: " + strings.Join(parts, "; ")
	if opts.ExpectedBucketOwner != "" {
		text += "; or the bucket is not owned by " + opts.ExpectedBucketOwner
	}
	return text
}

// oneLineBothEnds is OneLine(s, max) with the middle cut out rather than
// the end: the reason of a deny is at the end of its message, after a
// resource's ARN as long as its key.
func oneLineBothEnds(s string, max int) string {
	r := []rune(OneLine(s, 0))
	if len(r) <= max {
		return string(r)
	}
	head := max / 2
	return string(r[:head]) + " … " + string(r[len(r)-(max-head):])
}

func putFile(ctx context.Context, tm *transfermanager.Client, bucket, key, path string, opts UploadOptions) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	in := &transfermanager.UploadObjectInput{
		Bucket:      aws.String(bucket),
		Key:         aws.String(key),
		Body:        f,
		ContentType: aws.String(ContentType(path)),
	}
	if opts.SSE != SSENone {
		in.ServerSideEncryption = tmtypes.ServerSideEncryption(opts.SSE)
	}
	if opts.KMSKeyID != "" {
		in.SSEKMSKeyID = aws.String(opts.KMSKeyID)
	}
	if opts.ExpectedBucketOwner != "" {
		in.ExpectedBucketOwner = aws.String(opts.ExpectedBucketOwner)
	}
	if opts.ACL != "" {
		in.ACL = tmtypes.ObjectCannedACL(opts.ACL)
	}
	_, err = tm.UploadObject(ctx, in)
	return err
}

// redirectCodes are the S3 error codes of a 400 that refuse a request for
// being signed for, or sent to, another region than the bucket's.
var redirectCodes = map[string]bool{
	"AuthorizationHeaderMalformed":       true,
	"IllegalLocationConstraintException": true,
}

// RedirectRegion returns the region of the bucket when err (from Upload, or
// any call of the S3 client) is S3 refusing a request sent to or signed
// for another region: a 301 (PermanentRedirect), or a 400 of
// AuthorizationHeaderMalformed or IllegalLocationConstraintException,
// whose x-amz-bucket-region header names the bucket's region. The SDK
// follows none of them, as the AWS CLI does; the caller sends the request
// again, once, to the region named. It returns "" for any other error, for
// a refusal without the header (an S3-compatible store sends none), and
// for a header that is not a region's name (it would go into a host name).
func RedirectRegion(err error) string {
	var re *smithyhttp.ResponseError
	if !errors.As(err, &re) || re.Response == nil {
		return ""
	}
	switch re.HTTPStatusCode() {
	case http.StatusMovedPermanently:
	case http.StatusBadRequest:
		var ae smithy.APIError
		if !errors.As(err, &ae) || !redirectCodes[ae.ErrorCode()] {
			return ""
		}
	default:
		return ""
	}
	region := re.Response.Header.Get("X-Amz-Bucket-Region")
	if audit.ValidRegion(region) != "" {
		return ""
	}
	return region
}

// errNotForUpload is what uploadOnly answers to the calls an upload never
// makes.
var errNotForUpload = errors.New("deliver: not a call an upload makes")

// abortTimeout bounds the abort of a multipart upload that failed or was
// cut short: sent once a signal may have cancelled the upload's context, it
// must not hold the exit long.
const abortTimeout = 10 * time.Second

// uploadOnly makes an S3API the transfer manager's client, whose interface
// also has the calls of downloads. It sends the abort of a multipart upload
// whatever became of the upload's context: the transfer manager aborts with
// the context that a signal has just cancelled, so that the abort never
// left and the parts stayed in the bucket, billed. An abort that fails is
// kept for abortFailed.
type uploadOnly struct {
	S3API
	mu       sync.Mutex
	notEnded *IncompleteUploadError
}

func (u *uploadOnly) AbortMultipartUpload(ctx context.Context, in *s3.AbortMultipartUploadInput, optFns ...func(*s3.Options)) (*s3.AbortMultipartUploadOutput, error) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), abortTimeout)
	defer cancel()
	out, err := u.S3API.AbortMultipartUpload(ctx, in, optFns...)
	var ae smithy.APIError
	// No such upload: S3 ended it already (it completed as the signal
	// came, or was aborted): nothing is left in the bucket.
	if err != nil && !(errors.As(err, &ae) && ae.ErrorCode() == "NoSuchUpload") {
		u.mu.Lock()
		u.notEnded = &IncompleteUploadError{Bucket: aws.ToString(in.Bucket), Key: aws.ToString(in.Key), UploadID: aws.ToString(in.UploadId), Err: err}
		u.mu.Unlock()
	}
	return out, err
}

// abortFailed returns the abort that failed since it was last called, or
// nil.
func (u *uploadOnly) abortFailed() *IncompleteUploadError {
	u.mu.Lock()
	defer u.mu.Unlock()
	e := u.notEnded
	u.notEnded = nil
	return e
}

func (*uploadOnly) GetObject(context.Context, *s3.GetObjectInput, ...func(*s3.Options)) (*s3.GetObjectOutput, error) {
	return nil, errNotForUpload
}

func (*uploadOnly) HeadObject(context.Context, *s3.HeadObjectInput, ...func(*s3.Options)) (*s3.HeadObjectOutput, error) {
	return nil, errNotForUpload
}

func (*uploadOnly) ListObjectsV2(context.Context, *s3.ListObjectsV2Input, ...func(*s3.Options)) (*s3.ListObjectsV2Output, error) {
	return nil, errNotForUpload
}

var _ transfermanager.S3APIClient = (*uploadOnly)(nil)
