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

// Operation names, as in X-Amz-Target (after "AmazonSSM.") and Stats.Calls.
const (
	OpDescribeInstanceAssociationsStatus = "DescribeInstanceAssociationsStatus"
	OpDescribeInstanceInformation        = "DescribeInstanceInformation"
	// OpUnknown counts requests that name no supported operation.
	OpUnknown = "Unknown"
)

const (
	opDIAS = iota
	opDII
	opUnknown
	numOps
)

var opNames = [numOps]string{OpDescribeInstanceAssociationsStatus, OpDescribeInstanceInformation, OpUnknown}

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
}

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
	fleet    *Fleet
	account  string
	seed     uint64
	idSeed   uint64
	tokens   tokens
	track    bool
	hashSeed maphash.Seed

	faultsMu sync.Mutex // serializes SetFaults
	faults   atomic.Pointer[Faults]
	bucket   bucket
	deniedMu sync.Mutex
	denied   atomic.Pointer[map[string]string]

	seq                                              atomic.Uint64
	requests, ok, clientErrors, throttled, errors500 atomic.Int64
	dropped, malformed, wrongTypes, inFlight, peak   atomic.Int64
	pagesServed, duplicatePages                      atomic.Int64
	calls                                            [numOps]atomic.Int64
	pages                                            [pageShards]pageShard
	bufs                                             sync.Pool
}

// NewServer returns a Server for f. It copies opts' map and secret; f must
// not change (no Add) while the server is in use.
func NewServer(f *Fleet, opts Options) *Server {
	s := &Server{
		fleet:    f,
		account:  opts.AccountID,
		seed:     uint64(opts.Seed),
		track:    !opts.DisablePageTracking,
		hashSeed: maphash.MakeSeed(),
	}
	if s.account == "" {
		s.account = DefaultAccountID
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

// ServeHTTP answers one SSM request. See Server.
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
	w.Header()["x-amzn-RequestId"] = []string{uuid(&idr)}

	op := opUnknown
	switch r.Header.Get("X-Amz-Target") {
	case "AmazonSSM." + OpDescribeInstanceAssociationsStatus:
		op = opDIAS
	case "AmazonSSM." + OpDescribeInstanceInformation:
		op = opDII
	}
	s.calls[op].Add(1)

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
			return // the client went away mid-body: nobody to answer
		}
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

	if e := s.checkRequest(r, op); e != nil {
		s.writeError(w, e)
		return
	}
	if readErr != nil {
		s.writeError(w, errSerialization("Request body is larger than "+strconv.Itoa(maxBody)+" bytes"))
		return
	}
	akid, region, e := s.authenticate(r)
	if e != nil {
		s.writeError(w, e)
		return
	}
	if op == opUnknown {
		s.writeError(w, errUnknownOperation("Unknown operation "+strconv.Quote(r.Header.Get("X-Amz-Target"))))
		return
	}
	if throttle || !s.bucket.allow() {
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

	req, e := parseObject(in)
	if e == nil {
		e = s.authorize(op, req, akid, region)
	}
	ob := s.getBuf()
	defer s.putBuf(ob)
	out := (*ob)[:0]
	var page PageKey
	if e == nil {
		switch op {
		case opDIAS:
			out, page, e = s.describeInstanceAssociationsStatus(out, req)
		case opDII:
			out, page, e = s.describeInstanceInformation(out, req)
		}
	}
	*ob = out[:0]
	if e != nil {
		if drop {
			s.dropMidBody(w, e.status, s.appendError(nil, e))
		}
		s.writeError(w, e)
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
		if page.Operation != "" {
			s.recordPage(page)
		}
		s.writeBody(w, http.StatusOK, out)
	}
}

// checkRequest checks the method, path and content type.
func (s *Server) checkRequest(r *http.Request, op int) *apiError {
	if r.Method != http.MethodPost {
		return &apiError{status: http.StatusMethodNotAllowed, code: "com.amazon.coral.service#UnknownOperationException",
			key: "message", msg: "Method " + r.Method + " is not allowed; SSM's awsJson1_1 protocol uses POST"}
	}
	if r.URL.Path != "/" {
		return &apiError{status: http.StatusNotFound, code: "com.amazon.coral.service#UnknownOperationException",
			key: "message", msg: "No operation at path " + strconv.Quote(r.URL.Path) + "; SSM's awsJson1_1 protocol uses /"}
	}
	ct, _, _ := strings.Cut(r.Header.Get("Content-Type"), ";")
	if strings.TrimSpace(ct) != ContentType {
		return errUnknownOperation("Content-Type " + strconv.Quote(r.Header.Get("Content-Type")) + " is not " + ContentType)
	}
	return nil
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
	return append(b, '}')
}

func (s *Server) writeError(w http.ResponseWriter, e *apiError) {
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
	var tmp [256]byte
	s.writeBody(w, e.status, s.appendError(tmp[:0], e))
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
		// Dropped connections are a feature here, not news.
		ErrorLog: log.New(io.Discard, "", 0),
	}
}
