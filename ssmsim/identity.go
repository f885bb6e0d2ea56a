package ssmsim

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"strings"
	"sync"
	"time"
)

// service is the AWS service an operation belongs to: its SigV4 signing
// name and its wire protocol.
type service uint8

const (
	svcSSM service = iota
	svcSTS
	svcOrganizations
	svcEC2
)

var serviceNames = [...]string{svcSSM: "ssm", svcSTS: "sts", svcOrganizations: "organizations", svcEC2: "ec2"}

// xml reports whether the service speaks a query protocol (form-encoded
// requests, XML answers) rather than awsJson1_1.
func (svc service) xml() bool { return svc == svcSTS || svc == svcEC2 }

// regional reports whether the service answers only in the regions an
// account has enabled. Organizations is global.
func (svc service) regional() bool { return svc != svcOrganizations }

// authKind is a reason to refuse a request's credentials, which each
// service words in its own way.
type authKind uint8

const (
	authMissing    authKind = iota // no Authorization header
	authIncomplete                 // an Authorization header that is not SigV4's form
	authSignature                  // a signature that cannot be right
	authUnknownKey                 // a key the service does not know, or not in this region
	authExpired                    // temporary credentials past their expiration
)

// authError returns svc's answer for kind; msg is used where the service
// puts the particulars in its message (authIncomplete, authSignature).
func authError(svc service, kind authKind, msg string) *apiError {
	const (
		invalidToken = "The security token included in the request is invalid."
		expiredToken = "The security token included in the request is expired"
		missingToken = "Request is missing Authentication Token"
	)
	switch svc {
	case svcSTS:
		switch kind {
		case authMissing:
			return &apiError{status: http.StatusForbidden, code: "MissingAuthenticationToken", key: "Message", msg: missingToken}
		case authIncomplete:
			return &apiError{status: http.StatusBadRequest, code: "IncompleteSignature", key: "Message", msg: msg}
		case authSignature:
			return &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch", key: "Message", msg: msg}
		case authUnknownKey:
			return &apiError{status: http.StatusForbidden, code: "InvalidClientTokenId", key: "Message", msg: invalidToken}
		default:
			return &apiError{status: http.StatusForbidden, code: "ExpiredToken", key: "Message", msg: expiredToken}
		}
	case svcEC2:
		switch kind {
		case authMissing:
			return &apiError{status: http.StatusUnauthorized, code: "MissingAuthenticationToken", key: "Message", msg: missingToken}
		case authIncomplete:
			return &apiError{status: http.StatusBadRequest, code: "IncompleteSignature", key: "Message", msg: msg}
		case authSignature:
			return &apiError{status: http.StatusForbidden, code: "SignatureDoesNotMatch", key: "Message", msg: msg}
		case authUnknownKey:
			return &apiError{status: http.StatusUnauthorized, code: "AuthFailure", key: "Message", msg: "AWS was not able to validate the provided access credentials"}
		default:
			return &apiError{status: http.StatusBadRequest, code: "RequestExpired", key: "Message", msg: "Request has expired."}
		}
	}
	switch kind {
	case authMissing:
		return errMissingAuth
	case authIncomplete:
		return clientError("com.amazon.coral.service#IncompleteSignatureException", "message", msg)
	case authSignature:
		return clientError("InvalidSignatureException", "message", msg)
	case authUnknownKey:
		return clientError("UnrecognizedClientException", "message", invalidToken)
	default:
		return clientError("ExpiredTokenException", "message", expiredToken)
	}
}

// caller is who signed a request: an account, and the principal in it (an
// IAM user named after its static key, or an assumed-role session).
type caller struct {
	akid      string
	acct      *orgAccount
	partition string
	sess      *session
}

// arn returns the principal's ARN: arn:aws:iam::ACCOUNT:user/KEY or
// arn:aws:sts::ACCOUNT:assumed-role/ROLE/SESSION.
func (c *caller) arn() string {
	if c.sess != nil {
		return c.sess.arn
	}
	return "arn:" + c.partition + ":iam::" + c.acct.ID + ":user/" + c.akid
}

// userID returns GetCallerIdentity's UserId: AIDA... for a user,
// AROA...:SESSION for a session.
func (c *caller) userID() string {
	if c.sess != nil {
		return c.sess.roleID
	}
	return userID("AIDA", c.akid)
}

// session is a set of temporary credentials that AssumeRole issued.
type session struct {
	akid, secret, token string
	acct                *orgAccount
	role, name          string // role name and RoleSessionName
	arn, roleID         string // assumed-role ARN and AssumedRoleId (AROA...:SESSION)
	expires             time.Time
}

// sessions are the temporary credentials a Server's STS issued.
type sessions struct {
	mu sync.RWMutex
	m  map[string]*session
}

func (ss *sessions) get(akid string) *session {
	ss.mu.RLock()
	defer ss.mu.RUnlock()
	return ss.m[akid]
}

func (ss *sessions) put(s *session) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.m == nil {
		ss.m = map[string]*session{}
	}
	ss.m[s.akid] = s
}

// identify resolves a request's key to its caller and checks that the
// caller may use region: a temporary key must come with its session token
// and be used before its expiration; in an organisation, a static key
// belongs to the account that lists it, or to the management account; a
// regional service answers only in the regions the account has enabled,
// and refuses the key elsewhere, as AWS does.
func (s *Server) identify(svc service, akid, token, region string) (caller, *apiError) {
	o := s.org
	c := caller{akid: akid, acct: o.accounts[0], partition: o.partition}
	if o.single {
		// As before organisations: any key, any region, one account.
		return c, nil
	}
	if sess := s.sessions.get(akid); sess != nil {
		if token != sess.token {
			return c, authError(svc, authUnknownKey, "")
		}
		if !s.now().Before(sess.expires) {
			return c, authError(svc, authExpired, "")
		}
		c.acct, c.sess = sess.acct, sess
	} else {
		oa := o.keys[akid]
		switch {
		case strings.HasPrefix(akid, "ASIA") || token != "":
			// A temporary key this STS did not issue, or a static key
			// with a session token.
			return c, authError(svc, authUnknownKey, "")
		case oa == nil && o.strictKeys:
			return c, authError(svc, authUnknownKey, "")
		case oa != nil:
			c.acct = oa
		}
	}
	if svc.regional() && !c.acct.enabled[region] {
		return c, authError(svc, authUnknownKey, "")
	}
	return c, nil
}

// userID derives a principal's unique ID (AIDA..., AROA...) from a name,
// as IAM shows them: the prefix and 17 upper-case letters and digits.
func userID(prefix, name string) string {
	sum := sha256.Sum256([]byte(name))
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte(prefix)
	for k := 0; k < 17; k++ {
		b = append(b, alnum[sum[k]%32])
	}
	return string(b)
}

// newCredentials draws a temporary key, secret and session token.
func newCredentials() (akid, secret, token string) {
	var raw [16 + 30 + 96]byte
	rand.Read(raw[:])
	const alnum = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
	b := []byte("ASIA")
	for _, c := range raw[:16] {
		b = append(b, alnum[c%32])
	}
	return string(b), base64.StdEncoding.EncodeToString(raw[16:46]), "IQoJb3JpZ2luX2VjE" + base64.StdEncoding.EncodeToString(raw[46:])
}
