package ssmsim

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/json"
	"errors"
	"hash/maphash"
	"io"
	"log"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// ContentType is the media type of every request and response body.
const ContentType = "application/x-amz-json-1.1"

// DefaultAccountID is the account that error messages name when
// Options.AccountID is empty.
const DefaultAccountID = "123456789012"

// maxBody bounds a request body; SSM's own limit is far larger than any
// request of these two operations.
const maxBody = 1 << 20

// Operation names, as in X-Amz-Target (after "AmazonSSM." or
// "AWSOrganizationsV20161128."), in the Action of a query request, and in
// Stats.Calls.
const (
	OpDescribeInstanceAssociationsStatus = "DescribeInstanceAssociationsStatus"
	OpDescribeInstanceInformation        = "DescribeInstanceInformation"
	OpGetCallerIdentity                  = "GetCallerIdentity" // STS
	OpAssumeRole                         = "AssumeRole"        // STS
	OpListAccounts                       = "ListAccounts"      // Organizations
	OpDescribeRegions                    = "DescribeRegions"   // EC2
	OpDescribeTags                       = "DescribeTags"      // EC2
	OpListTagsForResource                = "ListTagsForResource"
	// OpUnknown counts requests that name no supported operation.
	OpUnknown = "Unknown"
)

const (
	opDIAS = iota
	opDII
	opGetCallerIdentity
	opAssumeRole
	opListAccounts
	opDescribeRegions
	opDescribeTags
	opListTagsForResource
	opUnknown
	numOps
)

var opNames = [numOps]string{OpDescribeInstanceAssociationsStatus, OpDescribeInstanceInformation,
	OpGetCallerIdentity, OpAssumeRole, OpListAccounts, OpDescribeRegions, OpDescribeTags, OpListTagsForResource, OpUnknown}

// opServices is the service of each operation; an unknown operation is
// answered as SSM would, unless a query request names another service.
var opServices = [numOps]service{svcSSM, svcSSM, svcSTS, svcSTS, svcOrganizations, svcEC2, svcEC2, svcSSM, svcSSM}

// Options configures a Server. The zero value serves the fleet faithfully,
// with no faults, no rate limit and a random NextToken secret.
type Options struct {
	// Faults are the initial fault and load knobs; Server.SetFaults changes
	// them while serving.
	Faults
	// Seed seeds the fault stream: the n-th request the server receives
	// draws its faults from (Seed, n), so a client that sends one request at
	// a time sees the same faults on every run.
	Seed int64
	// AccountID is the account named in error messages; empty means
	// DefaultAccountID.
	AccountID string
	// DenyAccessKeys refuses requests signed with the given access key IDs:
	// key ID -> error code. UnrecognizedClientException,
	// InvalidClientTokenId, ExpiredTokenException and
	// InvalidSignatureException are refused when the signature is checked,
	// before the operation; AccessDeniedException after the request is
	// read, naming the resource. Every refusal is HTTP 400 with AWS's
	// message for that code (a generic one for other codes).
	DenyAccessKeys map[string]string
	// TokenSecret keys the HMAC that makes NextTokens unforgeable; nil means
	// 32 random bytes. Servers that share a secret accept each other's
	// tokens.
	TokenSecret []byte
	// DisablePageTracking turns off the per-page counts of PageCounts and
	// Stats.DuplicatePages (they cost a map entry per page served).
	DisablePageTracking bool
	// Org, when set, makes the server an organisation (see Org): NewServer
	// must then be given a nil fleet, and AccountID is ignored. Without
	// it, the server is one account that answers to any key, in any
	// region, from the one fleet.
	Org *Org
	// AccountFields says which of each account's lifecycle fields
	// ListAccounts answers; the zero value answers State alone, as
	// Organizations does today.
	AccountFields AccountFields
	// ClockSkew is how far the simulated AWS's clock is ahead of this
	// machine's (behind, if negative): a client whose clock is off. A
	// request signed further from the server's time than the service
	// allows (SSM and Organizations 5 minutes, STS and EC2 15) is
	// refused with the service's own error, and every answer's Date
	// header tells the server's time, from which the SDKs correct
	// their signing clock (the Clock Skew Correction of SDKs since
	// 2025). AssumeRole's expirations are on the server's clock too.
	ClockSkew time.Duration
}

// AccountFields names the lifecycle fields that ListAccounts answers for an
// account, as Organizations answered them over time.
type AccountFields string

const (
	// FieldsState is State alone: Organizations retired Status on
	// September 9, 2026.
	FieldsState AccountFields = ""
	// FieldsStateAndStatus is State and Status, as Organizations answered
	// until then, once it had State.
	FieldsStateAndStatus AccountFields = "state,status"
	// FieldsStatus is Status alone, as Organizations answered before it
	// had State.
	FieldsStatus AccountFields = "status"
)

// Server is a simulated SSM endpoint: an http.Handler speaking the awsJson1_1
// protocol for DescribeInstanceAssociationsStatus and
// DescribeInstanceInformation over a Fleet. Requests must be POST / with
// X-Amz-Target AmazonSSM.<Operation>, Content-Type application/x-amz-json-1.1
// and a well-formed SigV4 Authorization header (the signature itself is not
// verified). Errors are {"__type":CODE,"message":TEXT} with SSM's codes and
// statuses; see the package documentation for the list.
//
// A Server is safe for concurrent use. Its counters are atomic and its fleet
// is read-only, so requests do not serialize on a lock, except on the rate
// limiter when a rate is set and on one of 64 page-count shards.
type Server struct {
	account  string
	org      *Org
	fields   AccountFields
	sessions sessions
	regions  accountRegions
	seed     uint64
	idSeed   uint64
	tokens   tokens
	track    bool
	hashSeed maphash.Seed
	skew     time.Duration

	faultsMu sync.Mutex // serializes SetFaults
	faults   atomic.Pointer[Faults]
	bucket   bucket
	deniedMu sync.Mutex
	denied   atomic.Pointer[map[string]string]

	seq                                              atomic.Uint64
	requests, ok, clientErrors, throttled, errors500 atomic.Int64
	dropped, malformed, wrongTypes, inFlight, peak   atomic.Int64
	pagesServed, duplicatePages, connections         atomic.Int64
	calls                                            [numOps]atomic.Int64
	pages                                            [pageShards]pageShard
	bufs                                             sync.Pool
}

// NewServer returns a Server for f, or for the organisation opts.Org (f
// must then be nil; NewServer panics if both are given). It copies opts'
// map and secret; f must not change (no Add) while the server is in use.
func NewServer(f *Fleet, opts Options) *Server {
	s := &Server{
		account:  opts.AccountID,
		seed:     uint64(opts.Seed),
		track:    !opts.DisablePageTracking,
		hashSeed: maphash.MakeSeed(),
		fields:   opts.AccountFields,
		skew:     opts.ClockSkew,
	}
	if s.account == "" {
		s.account = DefaultAccountID
	}
	switch {
	case opts.Org != nil && f != nil:
		panic("ssmsim: NewServer given both a fleet and Options.Org")
	case opts.Org != nil:
		s.org = opts.Org
		s.account = opts.Org.Management()
	default:
		if f == nil {
			f = &Fleet{}
		}
		s.org = singleOrg(f, s.account)
	}
	secret := append([]byte(nil), opts.TokenSecret...)
	if secret == nil {
		secret = make([]byte, 32)
		rand.Read(secret)
	}
	s.tokens.init(secret)
	var idSeed [8]byte
	rand.Read(idSeed[:])
	for _, c := range idSeed {
		s.idSeed = s.idSeed<<8 | uint64(c)
	}
	denied := make(map[string]string, len(opts.DenyAccessKeys))
	for k, v := range opts.DenyAccessKeys {
		denied[k] = v
	}
	s.denied.Store(&denied)
	for k := range s.pages {
		s.pages[k].m = map[PageKey]int32{}
	}
	s.SetFaults(opts.Faults)
	return s
}

// now is the time by the simulated AWS's clock (Options.ClockSkew).
func (s *Server) now() time.Time { return time.Now().Add(s.skew) }

// DenyAccessKey makes the server refuse keyID with code from now on (see
// Options.DenyAccessKeys); an empty code accepts the key again. It is safe
// to call while serving, e.g. to expire a credential in the middle of a run.
func (s *Server) DenyAccessKey(keyID, code string) {
	s.deniedMu.Lock()
	defer s.deniedMu.Unlock()
	old := *s.denied.Load()
	m := make(map[string]string, len(old)+1)
	for k, v := range old {
		m[k] = v
	}
	if code == "" {
		delete(m, keyID)
	} else {
		m[keyID] = code
	}
	s.denied.Store(&m)
}

// apiError is an error response.
type apiError struct {
	status int
	code   string // __type
	key    string // "message" or "Message" (the model's member); "" for none
	msg    string
	reason string // Organizations' InvalidInputException Reason, if any
}

func clientError(code, key, msg string) *apiError {
	return &apiError{status: http.StatusBadRequest, code: code, key: key, msg: msg}
}

// Error responses whose text does not vary.
var (
	errMissingAuth = clientError("com.amazon.coral.service#MissingAuthenticationTokenException", "message",
		"Request is missing Authentication Token")
	errThrottled = clientError("ThrottlingException", "message", "Rate exceeded")
	errInternal  = &apiError{status: http.StatusInternalServerError, code: "InternalServerError", key: "Message",
		msg: "An error occurred on the server side."}
	errNextToken = clientError("InvalidNextToken", "Message", "The specified token isn't valid.")
)

func errUnknownOperation(msg string) *apiError {
	return clientError("com.amazon.coral.service#UnknownOperationException", "message", msg)
}

func errSerialization(msg string) *apiError {
	return clientError("com.amazon.coral.service#SerializationException", "Message", msg)
}

// ServeHTTP answers one request. See Server.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.requests.Add(1)
	n := s.inFlight.Add(1)
	defer s.inFlight.Add(-1)
	for {
		p := s.peak.Load()
		if n <= p || s.peak.CompareAndSwap(p, n) {
			break
		}
	}
	seq := s.seq.Add(1)
	fr := newRNG(s.seed, seq, saltFault)
	fa := s.faults.Load()
	idr := newRNG(s.idSeed, seq, 0)
	requestID := uuid(&idr)
	w.Header()["x-amzn-RequestId"] = []string{requestID}

	op := opFromTarget(r.Header.Get("X-Amz-Target"))
	svc := opServices[op]

	// Draw every decision up front, in a fixed order, so that the stream
	// does not depend on which branch a request takes.
	delay := fa.delay(&fr)
	drop, dropMid := fr.float() < fa.DropRate, fr.intn(2) == 0
	fail := fr.float() < fa.ErrorRate
	malformed := fr.float() < fa.MalformedRate
	wrongType := fr.float() < fa.WrongTypeRate
	variant := fr.intn(1 << 16)
	throttle := fr.float() < fa.ThrottleRate

	// Read the body first: only then does net/http watch the connection
	// and cancel r.Context() when the client hangs up during the delay.
	bp := s.getBuf()
	defer s.putBuf(bp)
	buf := bytes.NewBuffer((*bp)[:0])
	_, readErr := buf.ReadFrom(http.MaxBytesReader(w, r.Body, maxBody))
	in := buf.Bytes()
	*bp = in[:0] // keep the grown buffer
	if readErr != nil {
		var tooBig *http.MaxBytesError
		if !errors.As(readErr, &tooBig) {
			s.calls[op].Add(1)
			return // the client went away mid-body: nobody to answer
		}
	}
	var form url.Values
	if op == opUnknown && readErr == nil && isForm(r) {
		op, svc, form = opFromForm(in)
	}
	s.calls[op].Add(1)
	if svc != svcSSM {
		// Faults and latency are SSM's: the other services answer
		// faithfully, so that a test of SSM faults is not one of STS's.
		delay, drop, fail, malformed, wrongType, throttle = 0, false, false, false, false, false
	}

	if delay > 0 {
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			return
		}
	}

	// Dated when it is answered, after its delay, as AWS's answers are.
	w.Header()["Date"] = []string{s.now().UTC().Format(http.TimeFormat)}
	if e := s.checkRequest(r, svc); e != nil {
		s.writeErrorAs(w, svc, requestID, e)
		return
	}
	if readErr != nil {
		s.writeErrorAs(w, svc, requestID, errSerialization("Request body is larger than "+strconv.Itoa(maxBody)+" bytes"))
		return
	}
	akid, region, token, e := s.authenticate(r, svc)
	if e != nil {
		s.writeErrorAs(w, svc, requestID, e)
		return
	}
	c, e := s.identify(svc, akid, token, region)
	if e != nil {
		s.writeErrorAs(w, svc, requestID, e)
		return
	}
	ar := s.accountRegion(&c, region)
	ar.count(op)
	if op == opUnknown {
		s.writeErrorAs(w, svc, requestID, unknownOperation(svc, r, form))
		return
	}
	if throttle || (svc == svcSSM && !s.allow(ar, fa)) {
		ar.throttled()
		s.writeError(w, errThrottled)
		return
	}
	if drop && !dropMid {
		s.dropped.Add(1)
		panic(http.ErrAbortHandler)
	}
	if fail {
		s.writeError(w, errInternal)
		return
	}

	ob := s.getBuf()
	defer s.putBuf(ob)
	out := (*ob)[:0]
	var page PageKey
	if svc.xml() {
		out, e = s.serveQuery(out, op, form, &c, region, requestID)
	} else {
		var req map[string]json.RawMessage
		req, e = parseObject(in)
		if e == nil {
			e = s.authorize(op, req, &c, region)
		}
		if e == nil {
			switch op {
			case opDIAS:
				out, page, e = s.describeInstanceAssociationsStatus(out, req, &c, region)
			case opDII:
				out, page, e = s.describeInstanceInformation(out, req, &c, region)
			case opListAccounts:
				out, e = s.listAccounts(out, req, &c)
			case opListTagsForResource:
				out, e = s.listTagsForResource(out, req, &c, region)
			}
		}
	}
	*ob = out[:0]
	if e != nil {
		if drop {
			s.dropMidBody(w, e.status, s.appendError(nil, e))
		}
		s.writeErrorAs(w, svc, requestID, e)
		return
	}
	switch {
	case drop:
		s.dropMidBody(w, http.StatusOK, out)
	case malformed:
		s.malformed.Add(1)
		s.writeBody(w, http.StatusOK, malformedBody(out, variant))
	case wrongType:
		s.wrongTypes.Add(1)
		s.writeBody(w, http.StatusOK, wrongTypeBody(op, variant))
	default:
		// Count before answering: a client may read Stats as soon as it
		// has the answer.
		s.ok.Add(1)
		ar.ok()
		if page.Operation != "" {
			s.recordPage(page)
		}
		if svc.xml() {
			s.writeXML(w, http.StatusOK, out)
		} else {
			s.writeBody(w, http.StatusOK, out)
		}
	}
}

// opFromTarget returns the JSON operation that an X-Amz-Target names, or
// opUnknown.
func opFromTarget(target string) int {
	switch target {
	case "AmazonSSM." + OpDescribeInstanceAssociationsStatus:
		return opDIAS
	case "AmazonSSM." + OpDescribeInstanceInformation:
		return opDII
	case "AWSOrganizationsV20161128." + OpListAccounts:
		return opListAccounts
	case "AmazonSSM." + OpListTagsForResource:
		return opListTagsForResource
	}
	return opUnknown
}

// Query API versions.
const (
	stsVersion = "2011-06-15"
	ec2Version = "2016-11-15"
)

// isForm reports whether a request without a JSON target is a query
// protocol request: a form-encoded POST with no X-Amz-Target.
func isForm(r *http.Request) bool {
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	return strings.TrimSpace(ct) == formContentType && r.Header.Get("X-Amz-Target") == ""
}

const formContentType = "application/x-www-form-urlencoded"

// opFromForm reads a query request's body: the operation its Action names,
// the service its Version (or else its Action) selects, and the form. A
// request that selects no service is SSM's unknown operation, as before.
func opFromForm(body []byte) (int, service, url.Values) {
	form, err := url.ParseQuery(string(body))
	if err != nil {
		return opUnknown, svcSSM, nil
	}
	action := form.Get("Action")
	op := opUnknown
	for k, name := range opNames {
		if name == action && opServices[k].xml() {
			op = k
		}
	}
	switch form.Get("Version") {
	case stsVersion:
		if op != opUnknown && opServices[op] != svcSTS {
			op = opUnknown
		}
		return op, svcSTS, form
	case ec2Version:
		if op != opUnknown && opServices[op] != svcEC2 {
			op = opUnknown
		}
		return op, svcEC2, form
	}
	if op != opUnknown {
		return opUnknown, opServices[op], form
	}
	return opUnknown, svcSSM, nil
}

// unknownOperation is svc's answer to an operation it does not have.
func unknownOperation(svc service, r *http.Request, form url.Values) *apiError {
	action := form.Get("Action")
	version := form.Get("Version")
	switch {
	case svc.xml() && version == "":
		return &apiError{status: http.StatusBadRequest, code: "MissingParameter", key: "Message",
			msg: "The request must contain the parameter Version"}
	case svc == svcSTS:
		return &apiError{status: http.StatusBadRequest, code: "InvalidAction", key: "Message",
			msg: "Could not find operation " + action + " for version " + version}
	case svc == svcEC2:
		return &apiError{status: http.StatusBadRequest, code: "InvalidAction", key: "Message",
			msg: "The action " + action + " is not valid for this web service."}
	}
	target := ""
	if r != nil {
		target = r.Header.Get("X-Amz-Target")
	}
	return errUnknownOperation("Unknown operation " + strconv.Quote(target))
}

// checkRequest checks the method, path and content type.
func (s *Server) checkRequest(r *http.Request, svc service) *apiError {
	protocol, ct := "awsJson1_1", ContentType
	if svc.xml() {
		protocol, ct = "query", formContentType
	}
	if r.Method != http.MethodPost {
		return &apiError{status: http.StatusMethodNotAllowed, code: "com.amazon.coral.service#UnknownOperationException",
			key: "message", msg: "Method " + r.Method + " is not allowed; " + serviceLabel(svc) + "'s " + protocol + " protocol uses POST"}
	}
	if r.URL.Path != "/" {
		return &apiError{status: http.StatusNotFound, code: "com.amazon.coral.service#UnknownOperationException",
			key: "message", msg: "No operation at path " + strconv.Quote(r.URL.Path) + "; " + serviceLabel(svc) + "'s " + protocol + " protocol uses /"}
	}
	got, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if strings.TrimSpace(got) != ct {
		return errUnknownOperation("Content-Type " + strconv.Quote(r.Header.Get("Content-Type")) + " is not " + ct)
	}
	return nil
}

func serviceLabel(svc service) string {
	return [...]string{"SSM", "STS", "Organizations", "EC2"}[svc]
}

// getBuf returns a pooled byte slice for a request and its response.
func (s *Server) getBuf() *[]byte {
	if p, ok := s.bufs.Get().(*[]byte); ok {
		return p
	}
	b := make([]byte, 0, 16<<10)
	return &b
}

func (s *Server) putBuf(p *[]byte) {
	if cap(*p) <= 256<<10 {
		s.bufs.Put(p)
	}
}

func (s *Server) writeBody(w http.ResponseWriter, status int, body []byte) {
	h := w.Header()
	h["Content-Type"] = []string{ContentType}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body)
}

func (s *Server) appendError(b []byte, e *apiError) []byte {
	b = append(b, `{"__type":`...)
	b = appendString(b, e.code)
	if e.key != "" {
		b = append(b, ',', '"')
		b = append(b, e.key...)
		b = append(b, '"', ':')
		b = appendString(b, e.msg)
	}
	if e.reason != "" {
		b = append(b, `,"Reason":`...)
		b = appendString(b, e.reason)
	}
	return append(b, '}')
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
	s.countError(w, e)
	var tmp [256]byte
	s.writeBody(w, e.status, s.appendError(tmp[:0], e))
}

func (s *Server) countError(w http.ResponseWriter, e *apiError) {
	switch {
	case e == errThrottled:
		s.throttled.Add(1)
	case e.status >= 500:
		s.errors500.Add(1)
	default:
		s.clientErrors.Add(1)
	}
	if e.status == http.StatusMethodNotAllowed {
		w.Header().Set("Allow", http.MethodPost)
	}
}

// writeErrorAs writes e as svc's protocol has it: JSON, or the XML of STS
// or EC2.
func (s *Server) writeErrorAs(w http.ResponseWriter, svc service, requestID string, e *apiError) {
	if !svc.xml() {
		s.writeError(w, e)
		return
	}
	s.countError(w, e)
	s.writeXML(w, e.status, appendXMLError(nil, svc, requestID, e))
}

// dropMidBody sends the status line, the headers and half the body, then
// closes the connection.
func (s *Server) dropMidBody(w http.ResponseWriter, status int, body []byte) {
	s.dropped.Add(1)
	h := w.Header()
	h["Content-Type"] = []string{ContentType}
	h["Content-Length"] = []string{strconv.Itoa(len(body))}
	w.WriteHeader(status)
	w.Write(body[:len(body)/2])
	if f, ok := w.(http.Flusher); ok {
		f.Flush()
	}
	panic(http.ErrAbortHandler)
}

// parseObject reads a request body: a JSON object, or nothing (read as {}).
func parseObject(b []byte) (map[string]json.RawMessage, *apiError) {
	b = bytes.TrimSpace(b)
	if len(b) == 0 {
		return nil, nil
	}
	if b[0] != '{' {
		return nil, errSerialization("Expected a JSON object as the request body, found " + jsonKind(b))
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, errSerialization("Request body is not valid JSON: " + err.Error())
	}
	return m, nil
}

// Start serves s on a new loopback port (127.0.0.1:0) until stop is called,
// and returns the endpoint URL ("http://127.0.0.1:PORT") for a client's
// BaseEndpoint or the AWS CLI's --endpoint-url. stop closes the listener and
// every connection at once; it is safe to call more than once.
func (s *Server) Start() (url string, stop func(), err error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, err
	}
	srv := s.httpServer()
	go srv.Serve(ln)
	var once sync.Once
	return "http://" + ln.Addr().String(), func() { once.Do(func() { srv.Close() }) }, nil
}

// Serve serves s on ln until ctx is done, then shuts down gracefully (in-flight
// requests get up to five seconds) and returns nil. It returns the error
// that stops the server otherwise. Serve closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := s.httpServer()
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	<-errc
	return nil
}

// ListenAndServe listens on addr (host:port) and serves s there until ctx is
// done; see Serve.
func (s *Server) ListenAndServe(ctx context.Context, addr string) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return err
	}
	return s.Serve(ctx, ln)
}

func (s *Server) httpServer() *http.Server {
	return &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ConnState: func(_ net.Conn, st http.ConnState) {
			if st == http.StateNew {
				s.connections.Add(1)
			}
		},
		// Dropped connections are a feature here, not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
}
