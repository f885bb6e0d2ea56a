package ssmsim

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

const stsNamespace = "https://sts.amazonaws.com/doc/2011-06-15/"

// serveQuery answers an STS or EC2 operation, whose request is a form.
func (s *Server) serveQuery(b []byte, op int, form url.Values, c *caller, region, requestID string) ([]byte, *apiError) {
	if code := (*s.denied.Load())[c.akid]; isAccessDenied(code) {
		switch op {
		case opAssumeRole:
			return b, stsAccessDenied(c, form.Get("RoleArn"))
		case opDescribeRegions, opDescribeTags:
			action := "ec2:" + opNames[op]
			return b, &apiError{status: http.StatusForbidden, code: "UnauthorizedOperation", key: "Message",
				msg: "You are not authorized to perform this operation. User: " + c.arn() +
					" is not authorized to perform: " + action + " because no identity-based policy allows the " + action + " action"}
		}
		// GetCallerIdentity needs no permission: AWS answers it whatever
		// the caller's policies say.
	}
	if e := scpDenied(op, c); e != nil {
		return b, e
	}
	switch op {
	case opGetCallerIdentity:
		return s.getCallerIdentity(b, c, requestID), nil
	case opAssumeRole:
		return s.assumeRole(b, form, c, region, requestID)
	case opDescribeRegions:
		return s.describeRegions(b, form, c, requestID)
	case opDescribeTags:
		return s.describeTags(b, form, c, region, requestID)
	}
	return b, unknownOperation(opServices[op], nil, form)
}

func (s *Server) getCallerIdentity(b []byte, c *caller, requestID string) []byte {
	b = append(b, `<GetCallerIdentityResponse xmlns="`+stsNamespace+`">
  <GetCallerIdentityResult>
    <Arn>`...)
	b = appendXMLText(b, c.arn())
	b = append(b, "</Arn>\n    <UserId>"...)
	b = appendXMLText(b, c.userID())
	b = append(b, "</UserId>\n    <Account>"...)
	b = appendXMLText(b, c.acct.ID)
	b = append(b, "</Account>\n  </GetCallerIdentityResult>\n"...)
	return appendResponseMetadata(b, requestID, "GetCallerIdentityResponse")
}

func appendResponseMetadata(b []byte, requestID, root string) []byte {
	b = append(b, "  <ResponseMetadata>\n    <RequestId>"...)
	b = appendXMLText(b, requestID)
	b = append(b, "</RequestId>\n  </ResponseMetadata>\n</"...)
	b = append(b, root...)
	return append(b, ">\n"...)
}

func stsValidation(msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: "ValidationError", key: "Message", msg: msg}
}

// stsAccessDenied is IAM's refusal of sts:AssumeRole: the same whether the
// role does not exist, does not trust the caller, or wants another
// external ID, so that a caller learns nothing about roles it cannot use.
func stsAccessDenied(c *caller, roleARN string) *apiError {
	return &apiError{status: http.StatusForbidden, code: "AccessDenied", key: "Message",
		msg: "User: " + c.arn() + " is not authorized to perform: sts:AssumeRole on resource: " + roleARN}
}

// validPattern reports whether every character of v is a word character
// (\w: letters, digits, underscore) or one of extra, as STS's patterns
// [\w+=,.@-]* and [\w+=,.@:\/-]* say.
func validPattern(v, extra string) bool {
	for _, c := range v {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || strings.ContainsRune(extra, c)) {
			return false
		}
	}
	return true
}

// stsMaxDuration is the longest DurationSeconds the API accepts; a role's
// own maximum may be lower.
const (
	stsMinDuration   = 900
	stsMaxDuration   = 43200
	stsChainDuration = 3600
)

func (s *Server) assumeRole(b []byte, form url.Values, c *caller, region, requestID string) ([]byte, *apiError) {
	var v validation
	roleARN, hasARN := formValue(form, "RoleArn")
	name, hasName := formValue(form, "RoleSessionName")
	externalID, hasExternal := formValue(form, "ExternalId")
	durText, hasDur := formValue(form, "DurationSeconds")
	n := utf8.RuneCountInString
	switch {
	case !hasARN:
		v.add("Value null at 'roleArn' failed to satisfy constraint: Member must not be null")
	case n(roleARN) < 20:
		v.add("Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length greater than or equal to 20", roleARN)
	case n(roleARN) > 2048:
		v.add("Value '%s' at 'roleArn' failed to satisfy constraint: Member must have length less than or equal to 2048", roleARN)
	}
	switch {
	case !hasName:
		v.add("Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	case n(name) < 2:
		v.add("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length greater than or equal to 2", name)
	case n(name) > 64:
		v.add("Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must have length less than or equal to 64", name)
	case !validPattern(name, "+=,.@-"):
		v.add(`Value '%s' at 'roleSessionName' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@-]*`, name)
	}
	if hasExternal {
		switch {
		case n(externalID) < 2:
			v.add("Value '%s' at 'externalId' failed to satisfy constraint: Member must have length greater than or equal to 2", externalID)
		case n(externalID) > 1224:
			v.add("Value '%s' at 'externalId' failed to satisfy constraint: Member must have length less than or equal to 1224", externalID)
		case !validPattern(externalID, "+=,.@:/-"):
			v.add(`Value '%s' at 'externalId' failed to satisfy constraint: Member must satisfy regular expression pattern: [\w+=,.@:\/-]*`, externalID)
		}
	}
	dur := stsChainDuration
	if hasDur {
		d, err := strconv.Atoi(durText)
		switch {
		case err != nil:
			v.add("Value '%s' at 'durationSeconds' failed to satisfy constraint: Member must be a valid integer", durText)
		case d < stsMinDuration:
			v.add("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value greater than or equal to %d", d, stsMinDuration)
		case d > stsMaxDuration:
			v.add("Value '%d' at 'durationSeconds' failed to satisfy constraint: Member must have value less than or equal to %d", d, stsMaxDuration)
		}
		dur = d
	}
	if e := v.err(); e != nil {
		e.code, e.key = "ValidationError", "Message"
		return b, e
	}
	// arn:PARTITION:iam::ACCOUNT:role/[PATH/]NAME
	parts := strings.SplitN(roleARN, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || parts[3] != "" ||
		!validAccountID(parts[4]) || !strings.HasPrefix(parts[5], "role/") || strings.HasSuffix(parts[5], "/") {
		return b, stsValidation(roleARN + " is invalid")
	}
	roleName := parts[5][strings.LastIndexByte(parts[5], '/')+1:]
	o := s.org
	target, ok := o.byID[parts[4]]
	if !ok || parts[1] != o.partition || target.State != AccountActive {
		return b, stsAccessDenied(c, roleARN)
	}
	role, ok := target.roles[roleName]
	trusted := role.Trusted
	if trusted == nil {
		trusted = []string{o.Management()}
	}
	if !ok || role.Refuse || !slices.Contains(trusted, c.acct.ID) || (role.ExternalID != "" && role.ExternalID != externalID) {
		return b, stsAccessDenied(c, roleARN)
	}
	if !o.single && !target.enabled[region] {
		// STS makes credentials for an account only in a region that
		// account has enabled, whatever the caller has.
		return b, &apiError{status: http.StatusForbidden, code: "RegionDisabledException", key: "Message",
			msg: "STS is not activated in this region for account:" + target.ID + ". Your account administrator can activate STS in this region using the IAM Console."}
	}
	maxDur := role.MaxSessionDuration
	if maxDur <= 0 {
		maxDur = time.Hour
	}
	switch {
	case c.sess != nil && dur > stsChainDuration:
		return b, stsValidation("The requested DurationSeconds exceeds the 1 hour session limit for roles assumed by role chaining.")
	case time.Duration(dur)*time.Second > maxDur:
		return b, stsValidation("The requested DurationSeconds exceeds the MaxSessionDuration set for this role.")
	}

	now := s.now().UTC()
	expires := now.Add(time.Duration(dur) * time.Second).Truncate(time.Second)
	layout := "2006-01-02T15:04:05Z"
	if role.SessionLifetime > 0 {
		expires = now.Add(role.SessionLifetime).Truncate(time.Millisecond)
		layout = "2006-01-02T15:04:05.000Z"
	}
	akid, secret, token := newCredentials()
	sess := &session{
		akid: akid, secret: secret, token: token, acct: target, role: roleName, name: name,
		arn:     "arn:" + o.partition + ":sts::" + target.ID + ":assumed-role/" + roleName + "/" + name,
		roleID:  userID("AROA", target.ID+"/"+roleName) + ":" + name,
		expires: expires,
	}
	s.sessions.put(sess)

	b = append(b, `<AssumeRoleResponse xmlns="`+stsNamespace+`">
  <AssumeRoleResult>
    <AssumedRoleUser>
      <AssumedRoleId>`...)
	b = appendXMLText(b, sess.roleID)
	b = append(b, "</AssumedRoleId>\n      <Arn>"...)
	b = appendXMLText(b, sess.arn)
	b = append(b, "</Arn>\n    </AssumedRoleUser>\n    <Credentials>\n      <AccessKeyId>"...)
	b = append(b, akid...)
	b = append(b, "</AccessKeyId>\n      <SecretAccessKey>"...)
	b = appendXMLText(b, secret)
	b = append(b, "</SecretAccessKey>\n      <SessionToken>"...)
	b = appendXMLText(b, token)
	b = append(b, "</SessionToken>\n      <Expiration>"...)
	b = expires.AppendFormat(b, layout)
	b = append(b, "</Expiration>\n    </Credentials>\n  </AssumeRoleResult>\n"...)
	return appendResponseMetadata(b, requestID, "AssumeRoleResponse"), nil
}

// formValue returns a form member and whether it was sent at all.
func formValue(form url.Values, name string) (string, bool) {
	vs, ok := form[name]
	if !ok || len(vs) == 0 {
		return "", false
	}
	return vs[0], true
}

// appendXMLText appends s escaped for XML character data and attribute
// values; invalid UTF-8 and characters XML 1.0 forbids become U+FFFD.
func appendXMLText(b []byte, s string) []byte {
	for _, r := range s {
		switch r {
		case '&':
			b = append(b, "&amp;"...)
		case '<':
			b = append(b, "&lt;"...)
		case '>':
			b = append(b, "&gt;"...)
		case '"':
			b = append(b, "&quot;"...)
		case '\'':
			b = append(b, "&apos;"...)
		case '\r':
			b = append(b, "&#xD;"...)
		case '\t', '\n':
			b = append(b, byte(r))
		default:
			if r < 0x20 || r == utf8.RuneError || r == 0xFFFE || r == 0xFFFF {
				r = utf8.RuneError
			}
			b = utf8.AppendRune(b, r)
		}
	}
	return b
}

// appendXMLError appends svc's XML error body: STS's ErrorResponse, or
// EC2's Response with its Errors.
func appendXMLError(b []byte, svc service, requestID string, e *apiError) []byte {
	code := strings.TrimPrefix(e.code, "com.amazon.coral.service#")
	if svc == svcEC2 {
		b = append(b, `<?xml version="1.0" encoding="UTF-8"?>`+"\n<Response><Errors><Error><Code>"...)
		b = appendXMLText(b, code)
		b = append(b, "</Code><Message>"...)
		b = appendXMLText(b, e.msg)
		b = append(b, "</Message></Error></Errors><RequestID>"...)
		b = appendXMLText(b, requestID)
		return append(b, "</RequestID></Response>"...)
	}
	typ := "Sender"
	if e.status >= 500 {
		typ = "Receiver"
	}
	b = append(b, `<ErrorResponse xmlns="`+stsNamespace+`">`+"\n  <Error>\n    <Type>"...)
	b = append(b, typ...)
	b = append(b, "</Type>\n    <Code>"...)
	b = appendXMLText(b, code)
	b = append(b, "</Code>\n    <Message>"...)
	b = appendXMLText(b, e.msg)
	b = append(b, "</Message>\n  </Error>\n  <RequestId>"...)
	b = appendXMLText(b, requestID)
	return append(b, "</RequestId>\n</ErrorResponse>\n"...)
}

// XMLContentType is the media type of the answers of STS and EC2.
const XMLContentType = "text/xml"

func (s *Server) writeXML(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{XMLContentType}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}
