package ssmsim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Page sizes. SSM documents DescribeInstanceInformation's default (10); it
// does not document DescribeInstanceAssociationsStatus's, and this server
// uses the maximum, 50.
const (
	DefaultAssociationsMaxResults = 50
	DefaultInformationMaxResults  = 10
)

// instanceIDPattern is the model's pattern for InstanceId, as AWS quotes it
// in validation messages.
const instanceIDPattern = `(^i-(\w{8}|\w{17})$)|(^mi-\w{17}$)`

// validInstanceID matches instanceIDPattern (\w is [A-Za-z0-9_]).
func validInstanceID(id string) bool {
	var rest string
	switch {
	case strings.HasPrefix(id, "i-"):
		rest = id[2:]
		if len(rest) != 8 && len(rest) != 17 {
			return false
		}
	case strings.HasPrefix(id, "mi-"):
		rest = id[3:]
		if len(rest) != 17 {
			return false
		}
	default:
		return false
	}
	for k := 0; k < len(rest); k++ {
		c := rest[k]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// authenticate checks that the request carries a well-formed SigV4
// Authorization header scoped to svc, and that its key is not refused at
// authentication. It returns the access key ID, the credential's region and
// the session token (X-Amz-Security-Token), if any.
func (s *Server) authenticate(r *http.Request, svc service) (akid, region, token string, e *apiError) {
	h := r.Header.Get("Authorization")
	if h == "" {
		return "", "", "", authError(svc, authMissing, "")
	}
	incomplete := func(msg string) *apiError { return authError(svc, authIncomplete, msg) }
	invalid := func(msg string) *apiError { return authError(svc, authSignature, msg) }
	alg, rest, _ := strings.Cut(h, " ")
	if alg != "AWS4-HMAC-SHA256" {
		return "", "", "", incomplete("Unsupported AWS 'algorithm': '" + alg + "'; want AWS4-HMAC-SHA256. Authorization=" + h)
	}
	var cred, signed, sig string
	for _, part := range strings.Split(rest, ",") {
		name, val, _ := strings.Cut(strings.TrimSpace(part), "=")
		switch name {
		case "Credential":
			cred = val
		case "SignedHeaders":
			signed = val
		case "Signature":
			sig = val
		}
	}
	xdate := r.Header.Get("X-Amz-Date")
	var missing []string
	if cred == "" {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if sig == "" {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if signed == "" {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if xdate == "" && r.Header.Get("Date") == "" {
		missing = append(missing, "Authorization header requires existence of either a 'X-Amz-Date' or a 'Date' header.")
	}
	if len(missing) > 0 {
		return "", "", "", incomplete(strings.Join(missing, " ") + " Authorization=" + h)
	}
	scope := strings.Split(cred, "/")
	if len(scope) != 5 || scope[0] == "" {
		return "", "", "", incomplete("Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '" + cred + "'")
	}
	akid, date, region := scope[0], scope[1], scope[2]
	switch {
	case scope[4] != "aws4_request":
		return "", "", "", invalid("Credential should be scoped with a valid terminator: 'aws4_request', not '" + scope[4] + "'. ")
	case scope[3] != serviceNames[svc]:
		return "", "", "", invalid("Credential should be scoped to correct service: '" + serviceNames[svc] + "'. ")
	case region == "":
		return "", "", "", invalid("Credential should be scoped to a valid region, not ''. ")
	case len(date) != 8 || strings.Trim(date, "0123456789") != "":
		return "", "", "", invalid("Credential should be scoped to a valid date (YYYYMMDD), not '" + date + "'. ")
	}
	if xdate != "" {
		if len(xdate) != 16 || xdate[8] != 'T' || xdate[15] != 'Z' {
			return "", "", "", incomplete("X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\", got '" + xdate + "'")
		}
		if xdate[:8] != date {
			return "", "", "", invalid("Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '" +
				date + "' != '" + xdate[:8] + "', from 'x-amz-date'.")
		}
	}
	if e := s.signedInTime(svc, xdate, r.Header.Get("Date")); e != nil {
		return "", "", "", e
	}
	hostSigned := false
	for _, name := range strings.Split(signed, ";") {
		switch name {
		case "host":
			hostSigned = true
		case "content-length", "":
		default:
			if _, ok := r.Header[http.CanonicalHeaderKey(name)]; !ok {
				return "", "", "", invalid(signatureMismatch)
			}
		}
	}
	if !hostSigned {
		return "", "", "", invalid("'Host' or ':authority' must be a 'SignedHeader' in the AWS Authorization.")
	}
	if len(sig) != 64 || strings.Trim(sig, "0123456789abcdef") != "" {
		return "", "", "", invalid(signatureMismatch)
	}
	if code := (*s.denied.Load())[akid]; code != "" && !isAccessDenied(code) {
		return "", "", "", refusal(svc, code, akid)
	}
	return akid, region, r.Header.Get("X-Amz-Security-Token"), nil
}

// signedInTime refuses a request signed further from the server's time
// (Options.ClockSkew) than svc allows, with svc's own answer: SSM's and
// Organizations' InvalidSignatureException, STS's SignatureDoesNotMatch
// ("Signature expired: ... is now earlier than ..." or "Signature not yet
// current: ... is still later than ..."), EC2's RequestExpired. xdate is
// X-Amz-Date, else date the Date header.
func (s *Server) signedInTime(svc service, xdate, date string) *apiError {
	var signed time.Time
	var err error
	if xdate != "" {
		signed, err = time.Parse("20060102T150405Z", xdate)
	} else {
		signed, err = http.ParseTime(date)
	}
	if err != nil {
		return authError(svc, authIncomplete, "Date must be in ISO-8601 'basic format'. Got '"+xdate+date+"'. See http://en.wikipedia.org/wiki/ISO_8601")
	}
	window := 5 * time.Minute
	if svc == svcSTS || svc == svcEC2 {
		window = 15 * time.Minute
	}
	now := s.now().UTC().Truncate(time.Second)
	const basic = "20060102T150405Z"
	mins := strconv.Itoa(int(window / time.Minute))
	var msg string
	switch {
	case signed.Before(now.Add(-window)):
		msg = "Signature expired: " + signed.Format(basic) + " is now earlier than " + now.Add(-window).Format(basic) + " (" + now.Format(basic) + " - " + mins + " min.)"
	case signed.After(now.Add(window)):
		msg = "Signature not yet current: " + signed.Format(basic) + " is still later than " + now.Add(window).Format(basic) + " (" + now.Format(basic) + " + " + mins + " min.)"
	default:
		return nil
	}
	if svc == svcEC2 {
		return clientError("RequestExpired", "Message", "Request has expired.")
	}
	return authError(svc, authSignature, msg)
}

const signatureMismatch = "The request signature we calculated does not match the signature you provided. " +
	"Check your AWS Secret Access Key and signing method. Consult the service documentation for details."

func isAccessDenied(code string) bool {
	return code == "AccessDeniedException" || code == "AccessDenied"
}

// refusal is the error for an access key refused at authentication
// (Options.DenyAccessKeys). SSM answers with the code as given; the other
// services with their own code for the same refusal.
func refusal(svc service, code, akid string) *apiError {
	var kind authKind
	switch code {
	case "UnrecognizedClientException", "InvalidClientTokenId":
		kind = authUnknownKey
	case "ExpiredTokenException", "ExpiredToken":
		kind = authExpired
	case "InvalidSignatureException", "SignatureDoesNotMatch":
		kind = authSignature
	default:
		e := clientError(code, "message", "The simulator refuses access key "+akid+" with "+code+".")
		if svc != svcSSM && svc != svcOrganizations {
			e.key = "Message"
		}
		return e
	}
	e := authError(svc, kind, signatureMismatch)
	if svc == svcSSM {
		e.code = code
	}
	return e
}

// authorize refuses an access key denied with AccessDeniedException, naming
// the resource as IAM does.
func (s *Server) authorize(op int, req map[string]json.RawMessage, c *caller, region string) *apiError {
	code := (*s.denied.Load())[c.akid]
	if !isAccessDenied(code) {
		return scpDenied(op, c)
	}
	if op == opListAccounts {
		return clientError("AccessDeniedException", "Message", orgAccessDenied)
	}
	account := c.acct.ID
	resource := "arn:aws:ssm:" + region + ":" + account + ":*"
	if op == opDIAS {
		if id, ok, e := readString(req, "InstanceId"); e == nil && ok && validInstanceID(id) {
			if strings.HasPrefix(id, "mi-") {
				resource = "arn:aws:ssm:" + region + ":" + account + ":managed-instance/" + id
			} else {
				resource = "arn:aws:ec2:" + region + ":" + account + ":instance/" + id
			}
		}
	}
	action := "ssm:" + opNames[op]
	return clientError(code, "Message", "User: "+c.arn()+
		" is not authorized to perform: "+action+" on resource: "+resource+
		" because no identity-based policy allows the "+action+" action")
}

// scpDenied refuses op when a service control policy of c's account denies
// it (Account.Deny), in the words AWS gives an explicit deny in one.
func scpDenied(op int, c *caller) *apiError {
	svc := opServices[op]
	if c.acct == nil || c.acct.index == 0 || svc == svcSTS || op == opUnknown {
		return nil
	}
	action := serviceNames[svc] + ":" + opNames[op]
	if !slices.Contains(c.acct.Deny, action) {
		return nil
	}
	why := c.arn() + " is not authorized to perform: " + action + " with an explicit deny in a service control policy"
	if svc == svcEC2 {
		return &apiError{status: http.StatusForbidden, code: "UnauthorizedOperation", key: "Message",
			msg: "You are not authorized to perform this operation. User: " + why}
	}
	return clientError("AccessDeniedException", "Message", "User: "+why)
}

// validation collects constraint violations into one ValidationException,
// worded as AWS words them.
type validation struct{ msgs []string }

func (v *validation) add(format string, args ...any) {
	v.msgs = append(v.msgs, fmt.Sprintf(format, args...))
}

func (v *validation) err() *apiError {
	switch len(v.msgs) {
	case 0:
		return nil
	case 1:
		return clientError("ValidationException", "message", "1 validation error detected: "+v.msgs[0])
	}
	return clientError("ValidationException", "message",
		strconv.Itoa(len(v.msgs))+" validation errors detected: "+strings.Join(v.msgs, "; "))
}

func (v *validation) maxResults(n, lo, hi int) {
	switch {
	case n < lo:
		v.add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value greater than or equal to %d", n, lo)
	case n > hi:
		v.add("Value '%d' at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to %d", n, hi)
	}
}

// jsonKind names a JSON value's type the way the service's deserializer
// does in its messages.
func jsonKind(raw []byte) string {
	if len(raw) == 0 {
		return "nothing"
	}
	switch raw[0] {
	case '{':
		return "START_OBJECT"
	case '[':
		return "START_ARRAY"
	case '"':
		return "VALUE_STRING"
	case 't':
		return "VALUE_TRUE"
	case 'f':
		return "VALUE_FALSE"
	case 'n':
		return "VALUE_NULL"
	}
	return "VALUE_NUMBER"
}

// readString reads member name as a string; null or absent is (false, nil).
func readString(obj map[string]json.RawMessage, name string) (string, bool, *apiError) {
	raw, ok := obj[name]
	if !ok || string(raw) == "null" {
		return "", false, nil
	}
	return decodeString(raw, name)
}

func decodeString(raw json.RawMessage, name string) (string, bool, *apiError) {
	if len(raw) == 0 || raw[0] != '"' {
		return "", false, errSerialization("Cannot deserialize " + name + " from " + jsonKind(raw) + ": expected a string")
	}
	var v string
	if err := json.Unmarshal(raw, &v); err != nil {
		return "", false, errSerialization("Cannot deserialize " + name + ": " + err.Error())
	}
	return v, true, nil
}

// readInt reads member name as an Integer; null or absent is (false, nil).
func readInt(obj map[string]json.RawMessage, name string) (int, bool, *apiError) {
	raw, ok := obj[name]
	if !ok || string(raw) == "null" {
		return 0, false, nil
	}
	if len(raw) == 0 || (raw[0] != '-' && (raw[0] < '0' || raw[0] > '9')) {
		return 0, false, errSerialization("Cannot deserialize " + name + " from " + jsonKind(raw) + ": expected an Integer")
	}
	n, err := strconv.ParseInt(string(raw), 10, 32)
	if err != nil {
		return 0, false, errSerialization("Cannot deserialize " + name + " from " + string(raw) + ": not an Integer")
	}
	return int(n), true, nil
}

func errInvalidInstances(account string, ids ...string) *apiError {
	return clientError("InvalidInstanceId", "Message",
		"Instances ["+"["+strings.Join(ids, ", ")+"]] not in a valid state for account "+account)
}

func (s *Server) describeInstanceAssociationsStatus(b []byte, req map[string]json.RawMessage, c *caller, region string) ([]byte, PageKey, *apiError) {
	var page PageKey
	id, hasID, e := readString(req, "InstanceId")
	if e != nil {
		return b, page, e
	}
	max, hasMax, e := readInt(req, "MaxResults")
	if e != nil {
		return b, page, e
	}
	token, _, e := readString(req, "NextToken")
	if e != nil {
		return b, page, e
	}
	var v validation
	switch {
	case !hasID:
		v.add("Value null at 'instanceId' failed to satisfy constraint: Member must not be null")
	case !validInstanceID(id):
		v.add("Value '%s' at 'instanceId' failed to satisfy constraint: Member must satisfy regular expression pattern: %s", id, instanceIDPattern)
	}
	if hasMax {
		v.maxResults(max, 1, 50)
	} else {
		max = DefaultAssociationsMaxResults
	}
	if e := v.err(); e != nil {
		return b, page, e
	}
	// An instance of another account or region is unknown here, as in AWS.
	f := s.org.fleet(c.acct, region)
	i, ok := f.lookup(id)
	if !ok {
		return b, page, errInvalidInstances(c.acct.ID, id)
	}
	total := f.assocCount(i)
	off := 0
	if token != "" {
		if off, ok = s.tokens.open(opDIAS, id, token); !ok || off >= total {
			return b, page, errNextToken
		}
	}
	n := min(max, total-off)
	b = append(b, `{"InstanceAssociationStatusInfos":[`...)
	if f.flags[i]&flagHand != 0 {
		as := f.hand[int32(i)].Associations[off : off+n]
		for k := range as {
			if k > 0 {
				b = append(b, ',')
			}
			b = appendAssociation(b, &as[k])
		}
	} else {
		p := f.profile(i)
		for k := off; k < off+n; k++ {
			if k > off {
				b = append(b, ',')
			}
			a := f.genAssociation(i, id, p, p.poolIndex(k))
			b = appendAssociation(b, &a)
		}
	}
	b = append(b, ']')
	if off+n < total {
		b = append(b, `,"NextToken":`...)
		b = appendString(b, s.tokens.seal(opDIAS, id, off+n))
	}
	b = append(b, '}')
	return b, PageKey{Operation: OpDescribeInstanceAssociationsStatus, Subject: id, NextToken: token}, nil
}

// Filter kinds of DescribeInstanceInformation.
const (
	fInstanceIDs = iota
	fAgentVersion
	fPingStatus
	fPlatformTypes
	fActivationIDs
	fIAMRole
	fResourceType
	fAssociationStatus
	fSourceIDs
	fSourceTypes
	fTagKey
	fTag
)

// filterKeys maps the keys of Filters (and, for the first eight, of the
// legacy InstanceInformationFilterList) to kinds.
var filterKeys = map[string]int{
	"InstanceIds":       fInstanceIDs,
	"AgentVersion":      fAgentVersion,
	"PingStatus":        fPingStatus,
	"PlatformTypes":     fPlatformTypes,
	"ActivationIds":     fActivationIDs,
	"IamRole":           fIAMRole,
	"ResourceType":      fResourceType,
	"AssociationStatus": fAssociationStatus,
	"PlatformType":      fPlatformTypes, // Filters only
	"SourceIds":         fSourceIDs,     // Filters only
	"SourceTypes":       fSourceTypes,   // Filters only
}

// legacyKeys is the InstanceInformationFilterKey enum, in the model's order.
var legacyKeys = []string{"InstanceIds", "AgentVersion", "PingStatus", "PlatformTypes", "ActivationIds", "IamRole", "ResourceType", "AssociationStatus"}

// maxTagValues is how many values a tag:KEY filter takes.
const maxTagValues = 5

// filterEnums are the values a filter accepts, where the API restricts them
// (the model's InstanceInformationStringFilter.Key documents each list).
var filterEnums = map[int][]string{
	fPingStatus:        {"Online", "ConnectionLost", "Inactive"},
	fPlatformTypes:     {"Windows", "Linux", "MacOS"},
	fResourceType:      {"EC2Instance", "ManagedInstance"},
	fAssociationStatus: {"Success", "Pending", "Failed"},
	fSourceTypes:       {"AWS::EC2::Instance", "AWS::IoT::Thing", "AWS::SSM::ManagedInstance"},
}

type filter struct {
	kind   int
	key    string // as sent
	tag    string // the tag key of tag:KEY
	values []string
}

func (fl *filter) match(in *Instance, sum *assocSummary) bool {
	var v string
	switch fl.kind {
	case fInstanceIDs:
		v = in.InstanceID
	case fAgentVersion:
		v = in.AgentVersion
	case fPingStatus:
		v = in.PingStatus
	case fPlatformTypes:
		v = in.PlatformType
	case fActivationIDs:
		v = in.ActivationID
	case fIAMRole:
		v = in.IAMRole
	case fResourceType:
		v = in.ResourceType
	case fAssociationStatus:
		v = sum.status()
	case fSourceIDs:
		v = in.SourceID
	case fSourceTypes:
		v = in.SourceType
	case fTagKey:
		for _, k := range fl.values {
			if _, ok := in.Tags[k]; ok {
				return true
			}
		}
		return false
	case fTag:
		t, ok := in.Tags[fl.tag]
		if !ok {
			return false
		}
		v = t
	}
	return slices.Contains(fl.values, v)
}

// readFilters reads a list of {keyName: string, valuesName: [string]}.
func readFilters(obj map[string]json.RawMessage, name, keyName, valuesName, path string, v *validation) ([]filter, *apiError) {
	raw, ok := obj[name]
	if !ok || string(raw) == "null" {
		return nil, nil
	}
	var items []json.RawMessage
	if raw[0] != '[' || json.Unmarshal(raw, &items) != nil {
		return nil, errSerialization("Cannot deserialize " + name + " from " + jsonKind(raw) + ": expected a list")
	}
	out := make([]filter, 0, len(items))
	for n, item := range items {
		var m map[string]json.RawMessage
		if len(item) == 0 || item[0] != '{' || json.Unmarshal(item, &m) != nil {
			return nil, errSerialization("Cannot deserialize " + name + " member from " + jsonKind(item) + ": expected a structure")
		}
		at := fmt.Sprintf("%s.%d.member", path, n+1)
		key, hasKey, e := readString(m, keyName)
		if e != nil {
			return nil, e
		}
		switch {
		case !hasKey:
			v.add("Value null at '%s.key' failed to satisfy constraint: Member must not be null", at)
		case key == "":
			v.add("Value '' at '%s.key' failed to satisfy constraint: Member must have length greater than or equal to 1", at)
		}
		fl := filter{key: key}
		rawValues, ok := m[valuesName]
		if !ok || string(rawValues) == "null" {
			v.add("Value null at '%s.%s' failed to satisfy constraint: Member must not be null", at, lowerFirst(valuesName))
			out = append(out, fl)
			continue
		}
		var vals []json.RawMessage
		if rawValues[0] != '[' || json.Unmarshal(rawValues, &vals) != nil {
			return nil, errSerialization("Cannot deserialize " + valuesName + " from " + jsonKind(rawValues) + ": expected a list")
		}
		for _, rv := range vals {
			s, _, e := decodeString(rv, valuesName+" member")
			if e != nil {
				return nil, e
			}
			fl.values = append(fl.values, s)
		}
		switch {
		case len(fl.values) == 0:
			v.add("Value '[]' at '%s.%s' failed to satisfy constraint: Member must have length greater than or equal to 1", at, lowerFirst(valuesName))
		case len(fl.values) > 100:
			v.add("Value '[%s]' at '%s.%s' failed to satisfy constraint: Member must have length less than or equal to 100",
				strings.Join(fl.values, ", "), at, lowerFirst(valuesName))
		case slices.Contains(fl.values, ""):
			v.add("Value '[%s]' at '%s.%s' failed to satisfy constraint: Member must satisfy constraint: [Member must have length greater than or equal to 1]",
				strings.Join(fl.values, ", "), at, lowerFirst(valuesName))
		}
		out = append(out, fl)
	}
	return out, nil
}

func lowerFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToLower(s[:1]) + s[1:]
}

func (s *Server) describeInstanceInformation(b []byte, req map[string]json.RawMessage, c *caller, region string) ([]byte, PageKey, *apiError) {
	var page PageKey
	var v validation
	legacy, e := readFilters(req, "InstanceInformationFilterList", "key", "valueSet", "instanceInformationFilterList", &v)
	if e != nil {
		return b, page, e
	}
	filters, e := readFilters(req, "Filters", "Key", "Values", "filters", &v)
	if e != nil {
		return b, page, e
	}
	max, hasMax, e := readInt(req, "MaxResults")
	if e != nil {
		return b, page, e
	}
	token, _, e := readString(req, "NextToken")
	if e != nil {
		return b, page, e
	}
	for n, fl := range legacy {
		if fl.key != "" && !slices.Contains(legacyKeys, fl.key) {
			v.add("Value '%s' at 'instanceInformationFilterList.%d.member.key' failed to satisfy constraint: Member must satisfy enum value set: [%s]",
				fl.key, n+1, strings.Join(legacyKeys, ", "))
		}
	}
	if hasMax {
		v.maxResults(max, 5, 50)
	} else {
		max = DefaultInformationMaxResults
	}
	if e := v.err(); e != nil {
		return b, page, e
	}
	if len(legacy) > 0 && len(filters) > 0 {
		// The API reference says only that using both "leads to an
		// exception"; which one is a guess.
		return b, page, clientError("ValidationException", "message",
			"InstanceInformationFilterList and Filters cannot be used in the same request; use Filters")
	}
	subject := "Filters:"
	if len(legacy) > 0 {
		filters, subject = legacy, "InstanceInformationFilterList:"
	}
	if !s.org.single {
		// The same filters in another account-region are another listing.
		subject = c.acct.ID + "/" + region + " " + subject
	}
	tags, others := 0, 0
	for k := range filters {
		fl := &filters[k]
		switch {
		case fl.key == "tag-key":
			fl.kind = fTagKey
			tags++
		case strings.HasPrefix(fl.key, "tag:") && len(fl.key) > len("tag:") && len(legacy) == 0:
			fl.kind, fl.tag = fTag, fl.key[len("tag:"):]
			tags++
			if len(fl.values) > maxTagValues {
				// As SSM words it (seek-oss/aec#394), though the model
				// allows 100 values a filter.
				return b, page, clientError("ValidationException", "message",
					"The number of tag values for "+fl.key+" was "+strconv.Itoa(len(fl.values))+". Max: "+strconv.Itoa(maxTagValues)+".")
			}
		default:
			kind, ok := filterKeys[fl.key]
			if !ok {
				return b, page, clientError("InvalidFilterKey", "message", "The filter key "+strconv.Quote(fl.key)+" isn't valid.")
			}
			fl.kind = kind
			others++
		}
		if fl.kind == fResourceType && len(fl.values) > 1 {
			// As SSM words it, though the model allows 100 values a
			// filter.
			return b, page, clientError("InvalidInstanceInformationFilterValue", "message",
				"ResourceType filter may contain only one value.")
		}
		if enum, ok := filterEnums[fl.kind]; ok {
			for _, val := range fl.values {
				if !slices.Contains(enum, val) {
					return b, page, clientError("InvalidInstanceInformationFilterValue", "message",
						"The filter value "+strconv.Quote(val)+" isn't valid for key "+fl.key+"; valid values: "+strings.Join(enum, ", "))
				}
			}
		}
		subject += strconv.Quote(fl.key) + "=" + quoteAll(fl.values) + ";"
	}
	if tags > 0 && others > 0 {
		// As SSM words it (a user's report of the service's answer).
		return b, page, clientError("ValidationException", "message", "Cannot mix tag or inventory filter with any other filter.")
	}

	f := s.org.fleet(c.acct, region)
	// Candidates: every entry, or only those an InstanceIds filter names.
	var cands []int
	all := true
	for k := range filters {
		if filters[k].kind != fInstanceIDs {
			continue
		}
		all = false
		var bad []string
		var idx []int
		for _, id := range filters[k].values {
			if !validInstanceID(id) {
				return b, page, clientError("InvalidInstanceInformationFilterValue", "message",
					"The filter value "+strconv.Quote(id)+" isn't a valid instance ID.")
			}
			if i, ok := f.lookup(id); ok {
				idx = append(idx, i)
			} else {
				bad = append(bad, id)
			}
		}
		if len(bad) > 0 {
			return b, page, errInvalidInstances(c.acct.ID, bad...)
		}
		if cands == nil {
			cands = idx
		} else {
			cands = intersect(cands, idx)
		}
	}
	if !all {
		sort.Ints(cands)
		cands = slices.Compact(cands)
	}
	count := len(f.ids)
	if !all {
		count = len(cands)
	}
	at := func(pos int) int {
		if all {
			return pos
		}
		return cands[pos]
	}

	off := 0
	if token != "" {
		var ok bool
		if off, ok = s.tokens.open(opDII, subject, token); !ok || off >= count {
			return b, page, errNextToken
		}
	}
	b = append(b, `{"InstanceInformationList":[`...)
	n, next := 0, -1
	for pos := off; pos < count; pos++ {
		i := at(pos)
		if f.flags[i]&(flagUnmanaged|flagStopped) != 0 {
			continue
		}
		in := f.instance(i, false)
		var sum assocSummary
		summed := false
		matched := true
		for k := range filters {
			if filters[k].kind == fAssociationStatus && !summed {
				sum, summed = f.summary(i), true
			}
			if !filters[k].match(&in, &sum) {
				matched = false
				break
			}
		}
		if !matched {
			continue
		}
		if n == max {
			next = pos
			break
		}
		if !summed {
			sum = f.summary(i)
		}
		if n > 0 {
			b = append(b, ',')
		}
		b = appendInstanceInformation(b, &in, &sum)
		n++
	}
	b = append(b, ']')
	if next >= 0 {
		b = append(b, `,"NextToken":`...)
		b = appendString(b, s.tokens.seal(opDII, subject, next))
	}
	b = append(b, '}')
	return b, PageKey{Operation: OpDescribeInstanceInformation, Subject: subject, NextToken: token}, nil
}

func quoteAll(vs []string) string {
	q := make([]string, len(vs))
	for k, v := range vs {
		q[k] = strconv.Quote(v)
	}
	return strings.Join(q, ",")
}

// intersect returns the members of a that are in b.
func intersect(a, b []int) []int {
	var out []int
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// appendInstanceInformation appends the wire form of InstanceInformation.
func appendInstanceInformation(b []byte, in *Instance, sum *assocSummary) []byte {
	b = append(b, '{')
	first := true
	b = appendStringField(b, &first, "InstanceId", in.InstanceID)
	b = appendStringField(b, &first, "PingStatus", in.PingStatus)
	b = appendTimeField(b, &first, "LastPingDateTime", in.LastPingDateTime)
	b = appendStringField(b, &first, "AgentVersion", in.AgentVersion)
	if in.AgentVersion != "" {
		b = appendKey(b, &first, "IsLatestVersion")
		b = strconv.AppendBool(b, in.IsLatestVersion)
	}
	b = appendStringField(b, &first, "PlatformType", in.PlatformType)
	b = appendStringField(b, &first, "PlatformName", in.PlatformName)
	b = appendStringField(b, &first, "PlatformVersion", in.PlatformVersion)
	b = appendStringField(b, &first, "ActivationId", in.ActivationID)
	b = appendStringField(b, &first, "IamRole", in.IAMRole)
	b = appendTimeField(b, &first, "RegistrationDate", in.RegistrationDate)
	b = appendStringField(b, &first, "ResourceType", in.ResourceType)
	b = appendStringField(b, &first, "Name", in.Name)
	b = appendStringField(b, &first, "IPAddress", in.IPAddress)
	b = appendStringField(b, &first, "ComputerName", in.ComputerName)
	if st := sum.status(); st != "" {
		b = appendStringField(b, &first, "AssociationStatus", st)
		b = appendTimeField(b, &first, "LastAssociationExecutionDate", sum.last)
		b = appendTimeField(b, &first, "LastSuccessfulAssociationExecutionDate", sum.lastSuccess)
		b = appendKey(b, &first, "AssociationOverview")
		b = append(b, `{"DetailedStatus":`...)
		b = appendString(b, st)
		b = append(b, `,"InstanceAssociationStatusAggregatedCount":{`...)
		counts := map[string]int{}
		for k, c := range sum.other {
			counts[k] = c
		}
		for _, kv := range []struct {
			k string
			n int
		}{{"Failed", sum.failed}, {"Pending", sum.pen}, {"Success", sum.success}} {
			if kv.n > 0 {
				counts[kv.k] = kv.n
			}
		}
		keys := make([]string, 0, len(counts))
		for k := range counts {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		for n, k := range keys {
			if n > 0 {
				b = append(b, ',')
			}
			b = appendString(b, k)
			b = append(b, ':')
			b = strconv.AppendInt(b, int64(counts[k]), 10)
		}
		b = append(b, "}}"...)
	}
	b = appendStringField(b, &first, "SourceId", in.SourceID)
	b = appendStringField(b, &first, "SourceType", in.SourceType)
	return append(b, '}')
}
