package deliver_test

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
	"unicode"

	"github.com/auditor-dev/auditor/deliver"
	"github.com/auditor-dev/auditor/deliver/smtptest"
)

func TestParseSMTP(t *testing.T) {
	tests := []struct {
		url  string
		want string // a word of the error; empty for none
	}{
		{"smtp://mail.example.com:587", ""},
		{"smtp://mail.example.com", ""},
		{"smtps://mail.example.com:465", ""},
		{"SMTPS://mail.example.com", ""},
		{"smtp://localhost:25", ""},
		{"smtp://127.0.0.1:2525/", ""},
		{"smtp://[::1]:25", ""},
		{"http://mail.example.com", "scheme"},
		{"mail.example.com:587", "scheme"},
		{"smtp://", "no host"},
		{"smtp://:587", "no host"},
		{"smtp://mail.example.com:0", "port"},
		{"smtp://mail.example.com:70000", "port"},
		{"smtp://mail.example.com:x", "port"},
		{"smtp://user:hunter2@mail.example.com:587", "AUDITOR_SMTP_PASSWORD"},
		{"smtp://mail.example.com:587/path", "only"},
		{"smtp://mail.example.com:587?tls=no", "only"},
		{"smtp://mail.example.com:587#x", "only"},
		{"smtp://bad host:25", "SMTP URL"},
		// Passwords that url.Parse cannot read as one: its errors quote
		// what it took for a port or a host.
		{"smtp://user:hunter2/x@mail.example.com:587", "SMTP URL"},
		{"smtp://user:hunter2?x@mail.example.com:587", "SMTP URL"},
		{"smtp://user:hunter2#x@mail.example.com:587", "SMTP URL"},
		{"smtp://user:hun@ter2@bad host:587", "SMTP URL"},
	}
	for _, tt := range tests {
		t.Run(tt.url, func(t *testing.T) {
			err := deliver.ParseSMTP(tt.url)
			switch {
			case tt.want == "" && err != nil:
				t.Errorf("ParseSMTP(%q) = %v, want no error", tt.url, err)
			case tt.want != "" && err == nil:
				t.Errorf("ParseSMTP(%q) succeeded, want an error about %q", tt.url, tt.want)
			case tt.want != "" && !strings.Contains(err.Error(), tt.want):
				t.Errorf("ParseSMTP(%q) = %v, want it to mention %q", tt.url, err, tt.want)
			}
			if err != nil && (strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "ter2")) {
				t.Errorf("the error shows the password: %v", err)
			}
		})
	}
}

const (
	user     = "auditor"
	password = "s3cr3t-Pa55"
)

func message() deliver.Message {
	return deliver.Message{
		From: "Auditor <auditor@example.com>", To: []string{"ops@example.com", "sec@example.com"},
		Subject: "3 of 10 non-compliant", Text: "plain", HTML: "<p>html</p>",
	}
}

// remote dials srv whatever address is asked: a URL can then name a host
// that is not loopback.
func remote(srv *smtptest.Server) func(ctx context.Context, network, addr string) (net.Conn, error) {
	return func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Addr)
	}
}

func port(t *testing.T, srv *smtptest.Server) string {
	t.Helper()
	_, p, err := net.SplitHostPort(srv.Addr)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSMTPSend sends through an in-process server set up each way a relay
// can be, and checks what it received and how often it was tried.
func TestSMTPSend(t *testing.T) {
	const remoteHost = "mail.example.test"
	always := func(code int) func(smtptest.Stage, int) *smtptest.Reply {
		return func(st smtptest.Stage, n int) *smtptest.Reply {
			if st == smtptest.StageData {
				return &smtptest.Reply{Code: code, Message: "no, with " + password}
			}
			return nil
		}
	}
	tests := []struct {
		name   string
		server smtptest.Options
		// url is the SMTP URL, with PORT for the server's port.
		url     string
		remote  bool // dial the server whatever the URL's host
		noRoots bool // verify with the system's roots
		login   [2]string
		// What should happen.
		wantErr          bool
		wantOp           string
		wantCode         int
		wantTemporary    bool
		wantAttempts     int // of the error
		wantTransactions int
		wantConnections  int
	}{
		{
			name:   "STARTTLS and AUTH PLAIN",
			server: smtptest.Options{Username: user, Password: password},
			url:    "smtp://localhost:PORT", login: [2]string{user, password},
			wantTransactions: 1, wantConnections: 1,
		},
		{
			name:   "STARTTLS to a remote host",
			server: smtptest.Options{Username: user, Password: password, Hosts: []string{remoteHost}},
			url:    "smtp://" + remoteHost + ":PORT", remote: true, login: [2]string{user, password},
			wantTransactions: 1, wantConnections: 1,
		},
		{
			name:   "implicit TLS",
			server: smtptest.Options{TLS: smtptest.Implicit, Username: user, Password: password},
			url:    "smtps://localhost:PORT", login: [2]string{user, password},
			wantTransactions: 1, wantConnections: 1,
		},
		{
			name:   "plain text to loopback",
			server: smtptest.Options{TLS: smtptest.NoTLS, Username: user, Password: password},
			url:    "smtp://127.0.0.1:PORT", login: [2]string{user, password},
			wantTransactions: 1, wantConnections: 1,
		},
		{
			name: "451 twice, then accepted",
			server: smtptest.Options{Username: user, Password: password, Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
				if st == smtptest.StageData && n <= 2 {
					return &smtptest.Reply{Code: 451, Message: "greylisted, try again"}
				}
				return nil
			}},
			url: "smtp://localhost:PORT", login: [2]string{user, password},
			wantTransactions: 3, wantConnections: 3,
		},
		{
			name:             "a dropped connection, then accepted",
			server:           smtptest.Options{Drop: 1},
			url:              "smtp://localhost:PORT",
			wantTransactions: 1, wantConnections: 2,
		},
		{
			name:   "451 every time",
			server: smtptest.Options{Username: user, Password: password, Reject: always(451)},
			url:    "smtp://localhost:PORT", login: [2]string{user, password},
			wantErr: true, wantOp: "end of DATA", wantCode: 451, wantTemporary: true, wantAttempts: 3,
			wantTransactions: 3, wantConnections: 3,
		},
		{
			name:   "550 is not retried",
			server: smtptest.Options{Username: user, Password: password, Reject: always(550)},
			url:    "smtp://localhost:PORT", login: [2]string{user, password},
			wantErr: true, wantOp: "end of DATA", wantCode: 550, wantAttempts: 1,
			wantTransactions: 1, wantConnections: 1,
		},
		{
			name: "a recipient refused fails the message",
			server: smtptest.Options{Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
				if st == smtptest.StageRcpt {
					return &smtptest.Reply{Code: 550, Message: "no such user"}
				}
				return nil
			}},
			url:     "smtp://localhost:PORT",
			wantErr: true, wantOp: "RCPT TO <ops@example.com>", wantCode: 550, wantAttempts: 1,
			wantTransactions: 1, wantConnections: 1,
		},
		{
			name:   "wrong password",
			server: smtptest.Options{Username: user, Password: password},
			url:    "smtp://localhost:PORT", login: [2]string{user, "wrong-" + password},
			wantErr: true, wantOp: "AUTH", wantCode: 535, wantAttempts: 1,
			wantConnections: 1,
		},
		{
			name:   "no STARTTLS from a remote host",
			server: smtptest.Options{TLS: smtptest.NoTLS, Username: user, Password: password},
			url:    "smtp://" + remoteHost + ":PORT", remote: true, login: [2]string{user, password},
			wantErr: true, wantOp: "STARTTLS", wantAttempts: 1,
			wantConnections: 1,
		},
		{
			name:   "a certificate the system does not trust",
			server: smtptest.Options{},
			url:    "smtp://localhost:PORT", noRoots: true,
			wantErr: true, wantOp: "STARTTLS", wantAttempts: 1,
			wantConnections: 1,
		},
		{
			name:   "a certificate for another name",
			server: smtptest.Options{Hosts: []string{"other.example.test"}},
			url:    "smtp://" + remoteHost + ":PORT", remote: true,
			wantErr: true, wantOp: "STARTTLS", wantAttempts: 1,
			wantConnections: 1,
		},
		{
			name:   "AUTH asked of a server without it",
			server: smtptest.Options{},
			url:    "smtp://localhost:PORT", login: [2]string{user, password},
			wantErr: true, wantOp: "AUTH", wantAttempts: 1,
			wantConnections: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.server)
			host := strings.Split(strings.SplitN(tt.url, "://", 2)[1], ":")[0]
			s := deliver.SMTP{
				URL:      strings.Replace(tt.url, "PORT", port(t, srv), 1),
				Username: tt.login[0], Password: tt.login[1],
				TLSConfig: srv.TLSConfig(host),
				Attempts:  3, Backoff: time.Millisecond,
			}
			if tt.noRoots {
				s.TLSConfig = nil
			}
			if tt.remote {
				s.Dial = remote(srv)
			}
			m := message()
			err := s.Send(context.Background(), m)
			if got := srv.Transactions(); got != tt.wantTransactions {
				t.Errorf("%d transactions, want %d", got, tt.wantTransactions)
			}
			if got := srv.Connections(); got != tt.wantConnections {
				t.Errorf("%d connections, want %d", got, tt.wantConnections)
			}
			if !tt.wantErr {
				if err != nil {
					t.Fatalf("Send: %v", err)
				}
				msgs := srv.Messages()
				if len(msgs) != 1 {
					t.Fatalf("the server got %d messages, want 1", len(msgs))
				}
				if msgs[0].From != "auditor@example.com" || strings.Join(msgs[0].To, ",") != "ops@example.com,sec@example.com" {
					t.Errorf("envelope from %q to %q", msgs[0].From, msgs[0].To)
				}
				if got := parse(t, msgs[0].Data); got.Subject != m.Subject || got.Header.Get("Auto-Submitted") != "auto-generated" {
					t.Errorf("received subject %q, Auto-Submitted %q", got.Subject, got.Header.Get("Auto-Submitted"))
				}
				return
			}
			if err == nil {
				t.Fatal("Send succeeded, want an error")
			}
			if n := len(srv.Messages()); n != 0 {
				t.Errorf("the server kept %d messages, want none", n)
			}
			var e *deliver.Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T (%v), want a *deliver.Error", err, err)
			}
			if e.Op != tt.wantOp || e.Code != tt.wantCode || e.Temporary != tt.wantTemporary || e.Attempts != tt.wantAttempts {
				t.Errorf("error %+v, want op %q, code %d, temporary %v, %d attempts", e, tt.wantOp, tt.wantCode, tt.wantTemporary, tt.wantAttempts)
			}
			if e.Retried() != (tt.wantAttempts > 1) {
				t.Errorf("Retried() = %v with %d attempts", e.Retried(), e.Attempts)
			}
			if strings.Contains(err.Error(), password) {
				t.Errorf("the error shows the password: %v", err)
			}
			t.Logf("error: %v", err)
		})
	}
}

// TestSMTPSendCanceled checks that cancelling stops the retries.
func TestSMTPSendCanceled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := smtptest.NewServer(t, smtptest.Options{Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
		if st == smtptest.StageData {
			cancel()
			return &smtptest.Reply{Code: 421, Message: "closing"}
		}
		return nil
	}})
	s := deliver.SMTP{URL: "smtp://localhost:" + port(t, srv), TLSConfig: srv.TLSConfig("localhost"), Backoff: time.Hour}
	err := s.Send(ctx, message())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Send = %v, want context.Canceled", err)
	}
	var e *deliver.Error
	if !errors.As(err, &e) || e.Attempts != 1 || e.Temporary {
		t.Errorf("error %+v, want one attempt, not temporary", e)
	}
	if n := srv.Transactions(); n != 1 {
		t.Errorf("%d transactions, want 1", n)
	}
}

// TestSMTPSendNoReplyAfterData: a server that keeps the message and then
// gives no answer to the end of DATA (drops the connection, or answers
// after the attempt's time is up) may have delivered it: Send does not
// send it again, and says the outcome is unknown, not that it failed.
func TestSMTPSendNoReplyAfterData(t *testing.T) {
	tests := []struct {
		name    string
		server  smtptest.Options
		url     string
		timeout time.Duration
		// wantAttempts is the attempt that got no answer: the ones before
		// it were refused with a 4xx and retried.
		wantAttempts int
	}{
		{
			name:   "dropped after DATA, STARTTLS",
			server: smtptest.Options{DropAfterData: func(int) bool { return true }},
			url:    "smtp://localhost:PORT", wantAttempts: 1,
		},
		{
			name:   "dropped after DATA, implicit TLS",
			server: smtptest.Options{TLS: smtptest.Implicit, DropAfterData: func(int) bool { return true }},
			url:    "smtps://localhost:PORT", wantAttempts: 1,
		},
		{
			name:   "dropped after DATA, plain text",
			server: smtptest.Options{TLS: smtptest.NoTLS, DropAfterData: func(int) bool { return true }},
			url:    "smtp://127.0.0.1:PORT", wantAttempts: 1,
		},
		{
			name: "451, then dropped after DATA",
			server: smtptest.Options{
				Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
					if st == smtptest.StageData && n == 1 {
						return &smtptest.Reply{Code: 451, Message: "greylisted, try again"}
					}
					return nil
				},
				DropAfterData: func(int) bool { return true },
			},
			url: "smtp://localhost:PORT", wantAttempts: 2,
		},
		{
			// The whole attempt, TLS included, gets to the end of DATA in
			// its time, even on a loaded machine; the reply never does.
			name:   "the reply comes after the attempt's time",
			server: smtptest.Options{DelayAfterData: func(int) time.Duration { return time.Minute }},
			url:    "smtp://localhost:PORT", timeout: 5 * time.Second, wantAttempts: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := smtptest.NewServer(t, tt.server)
			s := deliver.SMTP{
				URL:       strings.Replace(tt.url, "PORT", port(t, srv), 1),
				TLSConfig: srv.TLSConfig("localhost"),
				Attempts:  4, Backoff: time.Millisecond, Timeout: tt.timeout,
			}
			err := s.Send(context.Background(), message())
			if n := len(srv.Messages()); n != 1 {
				t.Errorf("the server kept %d messages, want 1: a message that may have been delivered is not sent again", n)
			}
			if n := srv.Transactions(); n != tt.wantAttempts {
				t.Errorf("%d transactions, want %d", n, tt.wantAttempts)
			}
			var e *deliver.Error
			if !errors.As(err, &e) {
				t.Fatalf("Send = %v, want a *deliver.Error", err)
			}
			t.Logf("error: %v", err)
			if !e.Unknown || e.Temporary || e.Op != "end of DATA" || e.Code != 0 || e.Attempts != tt.wantAttempts {
				t.Errorf("error %+v, want op \"end of DATA\", unknown, not temporary, no code, %d attempts", e, tt.wantAttempts)
			}
			if !strings.Contains(err.Error(), "may have been delivered") {
				t.Errorf("the error does not say the message may have been delivered: %v", err)
			}
		})
	}
}

// TestSMTPSendEndNotSent: when the write of the message's end fails, the
// server cannot have the message: that is a dropped connection like any
// other, tried again, not an unknown outcome.
func TestSMTPSendEndNotSent(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{TLS: smtptest.NoTLS})
	var mu sync.Mutex
	dials := 0
	s := deliver.SMTP{
		URL: "smtp://127.0.0.1:" + port(t, srv), Attempts: 3, Backoff: time.Millisecond,
		Dial: func(ctx context.Context, network, addr string) (net.Conn, error) {
			c, err := (&net.Dialer{}).DialContext(ctx, network, addr)
			mu.Lock()
			defer mu.Unlock()
			dials++
			if err != nil || dials > 1 {
				return c, err
			}
			return &failEnd{Conn: c}, nil
		},
	}
	if err := s.Send(context.Background(), message()); err != nil {
		t.Fatalf("Send = %v, want the second attempt accepted", err)
	}
	if n, tx := len(srv.Messages()), srv.Transactions(); n != 1 || tx != 2 {
		t.Errorf("%d messages in %d transactions, want 1 in 2", n, tx)
	}
}

// failEnd is a connection whose write of the end of DATA fails, as a
// socket reset by the peer does, and which is closed then.
type failEnd struct{ net.Conn }

func (c *failEnd) Write(p []byte) (int, error) {
	if strings.HasSuffix(string(p), "\r\n.\r\n") {
		c.Conn.Close()
		return 0, syscall.EPIPE
	}
	return c.Conn.Write(p)
}

// TestSMTPSendSignalAwaitingReply: a signal that comes while the server
// has the whole message and has not yet replied lets the reply arrive: the
// message was accepted, and Send says so, instead of cutting the
// connection and calling it failed.
func TestSMTPSendSignalAwaitingReply(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	srv := smtptest.NewServer(t, smtptest.Options{
		Reject: func(st smtptest.Stage, n int) *smtptest.Reply {
			if st == smtptest.StageData {
				cancel() // the message is whole: the client awaits the reply
			}
			return nil
		},
		DelayAfterData: func(int) time.Duration { return 500 * time.Millisecond },
	})
	s := deliver.SMTP{URL: "smtp://localhost:" + port(t, srv), TLSConfig: srv.TLSConfig("localhost"), Backoff: time.Hour}
	if err := s.Send(ctx, message()); err != nil {
		t.Errorf("Send = %v, want the 250 that came after the signal", err)
	}
	if n := len(srv.Messages()); n != 1 {
		t.Errorf("the server kept %d messages, want 1", n)
	}
	if n := srv.Transactions(); n != 1 {
		t.Errorf("%d transactions, want 1", n)
	}
}

// TestSMTPSendBadURL checks that a bad URL fails before any connection.
func TestSMTPSendBadURL(t *testing.T) {
	err := deliver.SMTP{URL: "smtp://user:" + password + "@mail.example.com"}.Send(context.Background(), message())
	var e *deliver.Error
	if !errors.As(err, &e) || strings.Contains(err.Error(), password) {
		t.Errorf("Send = %v, want a *deliver.Error without the password", err)
	}
}

// TestSMTPAuthEchoRedacted: a server that refuses the login and echoes
// what carried the password (AUTH PLAIN's line, LOGIN's last one) in its
// reply, after text long enough that the reply is cut inside it, or cut by
// the server itself, or in pieces too short to be told from words (of 5
// characters: "AG1ha Wx1c2 ..."): no part of it reaches the error. The
// reply's text is not kept at all: the code and a phrase of the auditor's
// say what happened.
func TestSMTPAuthEchoRedacted(t *testing.T) {
	blobs := []string{
		// The first 12 characters encode "\x00auditor\x00" (9 bytes); the
		// rest encode the password.
		base64.StdEncoding.EncodeToString([]byte("\x00" + user + "\x00" + password))[12:],
		base64.StdEncoding.EncodeToString([]byte(password)),
	}
	pieces := func(line string) string {
		var p []string
		for len(line) > 5 {
			p, line = append(p, line[:5]), line[5:]
		}
		return "5.7.8 bad credentials: " + strings.Join(append(p, line), " ")
	}
	for _, tt := range []struct {
		name string
		mech string
		// reply is the 535's text given the line the client sent that
		// carries the password.
		reply func(line string) string
	}{
		{"echoed whole, short", "PLAIN", func(line string) string { return "5.7.8 rejected: " + line }},
		{"echoed whole, cut inside the blob", "PLAIN", func(line string) string {
			// The error keeps 300 characters: this puts the cut 20
			// characters into the blob.
			pad := 300 - len("5.7.8  rejected: AUTH PLAIN ") - 20
			return "5.7.8 " + strings.Repeat("x", pad) + " rejected: " + line
		}},
		{"echoed cut by the server", "PLAIN", func(line string) string { return "5.7.8 rejected: " + line[:len("AUTH PLAIN ")+20] + "..." }},
		{"echoed in pieces of 5", "PLAIN", func(line string) string { return pieces(strings.TrimPrefix(line, "AUTH PLAIN ")) }},
		{"LOGIN, echoed whole", "LOGIN", func(line string) string { return "5.7.8 rejected: " + line }},
		{"LOGIN, echoed in pieces of 5", "LOGIN", pieces},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := authEchoServer(t, tt.mech, tt.reply)
			s := deliver.SMTP{URL: "smtp://" + addr, Username: user, Password: password, Attempts: 1}
			err := s.Send(context.Background(), message())
			var e *deliver.Error
			if !errors.As(err, &e) || e.Op != "AUTH" || e.Code != 535 {
				t.Fatalf("Send = %v, want the AUTH refused with 535", err)
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			for _, blob := range blobs {
				for i := 0; i+4 <= len(blob); i++ {
					if strings.Contains(msg, blob[i:i+4]) {
						t.Fatalf("the error shows %q, part of what encodes the password:\n%s", blob[i:i+4], msg)
					}
				}
			}
			if strings.Contains(msg, password) {
				t.Errorf("the error shows the password:\n%s", msg)
			}
			if !strings.Contains(msg, "535") || !strings.Contains(msg, "login") {
				t.Errorf("the error does not say the login was refused, with its code:\n%s", msg)
			}
		})
	}
}

// authEchoServer serves plain-text SMTP on loopback that offers one AUTH
// mechanism, PLAIN or LOGIN, and refuses the login with 535 and the text
// reply makes of the line that carries the password (PLAIN's AUTH line,
// LOGIN's last).
func authEchoServer(t *testing.T, mech string, reply func(line string) string) string {
	t.Helper()
	step := 0
	return stubSMTP(t, "220 stub ESMTP", func(cmd, line string) string {
		switch {
		case cmd == "EHLO":
			step = 0
			return "250-stub\r\n250 AUTH " + mech
		case cmd == "QUIT":
			return ""
		case mech == "PLAIN" && cmd == "AUTH":
			return "535 " + reply(line)
		case mech == "LOGIN" && step < 2:
			// AUTH LOGIN, then the user name.
			step++
			return "334 " + base64.StdEncoding.EncodeToString([]byte([]string{"Username:", "Password:"}[step-1]))
		case mech == "LOGIN" && step == 2:
			step++
			return "535 " + reply(line)
		}
		return ""
	})
}

// noReply, returned by a stubSMTP answer, sends nothing back: a line of
// the message after DATA.
const noReply = "\x00"

// stubSMTP serves plain-text SMTP on loopback: greeting first, then for
// each command line the reply answer gives (without its final CRLF),
// given the command's verb in capitals and the line; "" for the stub's
// own (221 to QUIT, which ends the session, 502 to the rest), noReply for
// none.
func stubSMTP(t *testing.T, greeting string, answer func(cmd, line string) string) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				r := bufio.NewReader(c)
				c.Write([]byte(greeting + "\r\n"))
				for {
					line, err := r.ReadString('\n')
					if err != nil {
						return
					}
					line = strings.TrimRight(line, "\r\n")
					cmd := strings.ToUpper(strings.Fields(line + " x")[0])
					reply := answer(cmd, line)
					switch {
					case reply == noReply:
						continue
					case reply != "":
					case cmd == "QUIT":
						c.Write([]byte("221 bye\r\n"))
						return
					default:
						reply = "502 no"
					}
					c.Write([]byte(reply + "\r\n"))
				}
			}()
		}
	}()
	return l.Addr().String()
}

// TestSMTPEnvelopeInAngleBrackets: MAIL FROM and RCPT TO carry their
// paths in angle brackets (RFC 5321 4.1.2), which the library's Mail and
// Rcpt leave to the caller. A server that holds to the grammar (Gmail's
// "555 5.5.2 Syntax error") refused every mail sent as "MAIL
// FROM:aud@example.com", and no retry could fix it.
func TestSMTPEnvelopeInAngleBrackets(t *testing.T) {
	path := regexp.MustCompile(`^(?i:MAIL FROM|RCPT TO):<[^<>\s]+@[^<>\s]+>( |$)`)
	var mu sync.Mutex
	var got []string
	inData := false
	addr := stubSMTP(t, "220 stub ESMTP", func(cmd, line string) string {
		mu.Lock()
		defer mu.Unlock()
		if inData {
			if line == "." {
				inData = false
				return "250 kept"
			}
			return noReply
		}
		switch cmd {
		case "EHLO":
			return "250-stub\r\n250 8BITMIME"
		case "MAIL", "RCPT":
			got = append(got, line)
			if !path.MatchString(line) {
				return "555 5.5.2 Syntax error"
			}
			return "250 ok"
		case "DATA":
			inData = true
			return "354 go on"
		case "RSET":
			return "250 ok"
		}
		return ""
	})
	m := message()
	m.To = append(m.To, "Two <two@example.com>")
	if err := (deliver.SMTP{URL: "smtp://" + addr, Attempts: 1}).Send(context.Background(), m); err != nil {
		t.Fatalf("Send = %v; the envelope sent: %q", err, got)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1+len(m.To) {
		t.Errorf("envelope %q, want MAIL FROM and %d RCPT TO", got, len(m.To))
	}
}

// TestSMTPServerTextIsPlain: the server's words in an error, whether in
// a reply, quoted by the library (a reply it could not read) or in an
// error of the library's (LOGIN's challenge after the password), are one
// line without control characters or bidi controls. OneLine made control
// characters spaces but kept a U+202E RIGHT-TO-LEFT OVERRIDE, which
// reverses the rest of the line it is printed on.
func TestSMTPServerTextIsPlain(t *testing.T) {
	const hostile = "\x1b]0;PWNED\x07\x1b[31mRED\u202e reversed\u2066"
	challenges := []string{"Username:", "Password:", hostile}
	for _, tt := range []struct {
		name     string
		greeting string
		answer   func(cmd, line string) string
		login    bool
		want     string // a word of the error
	}{
		{"a reply", "220 stub ESMTP", func(cmd, _ string) string {
			switch cmd {
			case "EHLO":
				return "250 stub"
			case "MAIL":
				return "550 " + hostile
			}
			return ""
		}, false, "550"},
		{"a reply the library could not read", "2" + hostile, func(string, string) string { return "" }, false, "greeting"},
		{"LOGIN's challenge after the password", "220 stub ESMTP", func() func(cmd, line string) string {
			step := 0
			return func(cmd, _ string) string {
				switch cmd {
				case "EHLO":
					return "250-stub\r\n250 AUTH LOGIN"
				case "QUIT", "MAIL", "RCPT", "DATA", "RSET", "*":
					return ""
				}
				// AUTH LOGIN, then the user name and the password.
				if step < len(challenges) {
					step++
					return "334 " + base64.StdEncoding.EncodeToString([]byte(challenges[step-1]))
				}
				return ""
			}
		}(), true, "AUTH"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			addr := stubSMTP(t, tt.greeting, tt.answer)
			s := deliver.SMTP{URL: "smtp://" + addr, Attempts: 1}
			if tt.login {
				s.Username, s.Password = user, password
			}
			err := s.Send(context.Background(), message())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Send = %v, want an error of the %s", err, tt.want)
			}
			msg := err.Error()
			t.Logf("error: %s", msg)
			if i := strings.IndexFunc(msg, func(r rune) bool { return unicode.IsControl(r) || unicode.Is(unicode.Bidi_Control, r) }); i >= 0 {
				t.Errorf("Send = %q, which holds %q", msg, []rune(msg[i:])[0])
			}
		})
	}
}

// TestSMTPSendOverTheServersSize: a message larger than the SIZE the
// server advertises in EHLO is not sent (it was, whole, to be refused with
// 552 at its end): the error is TooBig and carries the server's limit, so
// that the caller can leave attachments out to fit it.
func TestSMTPSendOverTheServersSize(t *testing.T) {
	srv := smtptest.NewServer(t, smtptest.Options{TLS: smtptest.NoTLS, MaxSize: 60_000})
	m := message()
	m.Attachments = []string{writeFile(t, t.TempDir(), "report.xlsx", 80_000)}
	err := deliver.SMTP{URL: "smtp://127.0.0.1:" + port(t, srv)}.Send(context.Background(), m)
	var e *deliver.Error
	if !errors.As(err, &e) || !e.TooBig() || e.MaxSize != 60_000 || e.Retried() || e.ServerFailed() {
		t.Fatalf("Send = %v (%+v), want TooBig, once, with the server's 60000 bytes", err, e)
	}
	if n := srv.Transactions(); n != 0 {
		t.Errorf("%d transactions, want none", n)
	}
	if !strings.Contains(err.Error(), "60000") {
		t.Errorf("%v: does not say the server's limit", err)
	}
	m.Attachments = nil
	if err := (deliver.SMTP{URL: "smtp://127.0.0.1:" + port(t, srv)}).Send(context.Background(), m); err != nil {
		t.Errorf("a message within the server's SIZE: %v", err)
	}
}
