// Package smtptest is a small SMTP server (RFC 5321) for tests: it listens
// on a real TCP port on 127.0.0.1, speaks EHLO, STARTTLS, AUTH PLAIN, MAIL,
// RCPT, DATA, RSET, NOOP and QUIT, and keeps every message it accepts. It
// is a network peer, not a mock: the client under test does its real
// dialogue, TLS handshake and dot-stuffing against it.
package smtptest

import (
	"bufio"
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"net"
	"strings"
	"sync"
)

// Message is one accepted message.
type Message struct {
	From     string
	To       []string
	Data     []byte // as received, dot-stuffing undone, CRLF line ends
	TLS      bool   // the session had been upgraded with STARTTLS
	AuthUser string // the AUTH PLAIN identity, "" without AUTH
}

// Options configure a server.
type Options struct {
	// TLS, when set, makes the server offer STARTTLS with this config.
	TLS *tls.Config
	// Users, when set, makes the server offer AUTH PLAIN and accept these
	// username → password pairs.
	Users map[string]string
	// RequireAuth refuses MAIL before a successful AUTH.
	RequireAuth bool
}

// Server is a running SMTP server.
type Server struct {
	opts Options
	ln   net.Listener
	mu   sync.Mutex
	msgs []Message
	wg   sync.WaitGroup
	// Received gets one value per accepted message, so tests wait on it
	// instead of sleeping.
	Received chan Message
}

// Start listens on 127.0.0.1 on a free port.
func Start(opts Options) (*Server, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	s := &Server{opts: opts, ln: ln, Received: make(chan Message, 100)}
	s.wg.Add(1)
	go s.serve()
	return s, nil
}

// Addr returns host and port.
func (s *Server) Addr() (host string, port int) {
	a := s.ln.Addr().(*net.TCPAddr)
	return a.IP.String(), a.Port
}

// Messages returns every message accepted so far.
func (s *Server) Messages() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.msgs...)
}

// Close stops listening and waits for open sessions to end.
func (s *Server) Close() error {
	err := s.ln.Close()
	s.wg.Wait()
	return err
}

func (s *Server) serve() {
	defer s.wg.Done()
	for {
		c, err := s.ln.Accept()
		if err != nil {
			return
		}
		s.wg.Add(1)
		go func() {
			defer s.wg.Done()
			defer c.Close()
			s.session(c)
		}()
	}
}

type session struct {
	s    *Server
	conn net.Conn
	r    *bufio.Reader
	w    *bufio.Writer
	tls  bool
	user string
	from string
	to   []string
	mail bool
}

func (s *Server) session(c net.Conn) {
	ss := &session{s: s, conn: c, r: bufio.NewReader(c), w: bufio.NewWriter(c)}
	ss.reply("220 smtptest ESMTP ready")
	for {
		line, err := ss.r.ReadString('\n')
		if err != nil {
			return
		}
		line = strings.TrimRight(line, "\r\n")
		verb, arg, _ := strings.Cut(line, " ")
		switch strings.ToUpper(verb) {
		case "EHLO", "HELO":
			ss.reset()
			lines := []string{"250-smtptest greets " + arg, "250-8BITMIME"}
			if s.opts.TLS != nil && !ss.tls {
				lines = append(lines, "250-STARTTLS")
			}
			if len(s.opts.Users) > 0 {
				lines = append(lines, "250-AUTH PLAIN")
			}
			lines = append(lines, "250 SMTPUTF8")
			ss.reply(strings.Join(lines, "\r\n"))
		case "STARTTLS":
			if s.opts.TLS == nil || ss.tls {
				ss.reply("502 5.5.1 STARTTLS not available")
				continue
			}
			ss.reply("220 2.0.0 go ahead")
			tc := tls.Server(c, s.opts.TLS)
			if err := tc.Handshake(); err != nil {
				return
			}
			ss.conn, ss.r, ss.w, ss.tls = tc, bufio.NewReader(tc), bufio.NewWriter(tc), true
			ss.reset()
		case "AUTH":
			ss.auth(arg)
		case "MAIL":
			if s.opts.RequireAuth && ss.user == "" {
				ss.reply("530 5.7.0 authentication required")
				continue
			}
			addr, ok := pathArg(arg, "FROM:")
			if !ok {
				ss.reply("501 5.5.4 syntax: MAIL FROM:<address>")
				continue
			}
			ss.reset()
			ss.from, ss.mail = addr, true
			ss.reply("250 2.1.0 ok")
		case "RCPT":
			addr, ok := pathArg(arg, "TO:")
			switch {
			case !ss.mail:
				ss.reply("503 5.5.1 MAIL first")
			case !ok || addr == "":
				ss.reply("501 5.5.4 syntax: RCPT TO:<address>")
			default:
				ss.to = append(ss.to, addr)
				ss.reply("250 2.1.5 ok")
			}
		case "DATA":
			if !ss.mail || len(ss.to) == 0 {
				ss.reply("503 5.5.1 MAIL and RCPT first")
				continue
			}
			ss.reply("354 end data with <CR><LF>.<CR><LF>")
			data, err := ss.readData()
			if err != nil {
				return
			}
			m := Message{From: ss.from, To: ss.to, Data: data, TLS: ss.tls, AuthUser: ss.user}
			s.mu.Lock()
			s.msgs = append(s.msgs, m)
			s.mu.Unlock()
			select {
			case s.Received <- m:
			default:
			}
			ss.reset()
			ss.reply("250 2.0.0 queued")
		case "RSET":
			ss.reset()
			ss.reply("250 2.0.0 ok")
		case "NOOP":
			ss.reply("250 2.0.0 ok")
		case "QUIT":
			ss.reply("221 2.0.0 bye")
			return
		default:
			ss.reply("500 5.5.2 unknown command")
		}
	}
}

func (ss *session) reset() {
	ss.from, ss.to, ss.mail = "", nil, false
}

func (ss *session) reply(s string) {
	ss.w.WriteString(s + "\r\n")
	ss.w.Flush()
}

func (ss *session) auth(arg string) {
	mech, initial, _ := strings.Cut(arg, " ")
	if len(ss.s.opts.Users) == 0 || !strings.EqualFold(mech, "PLAIN") {
		ss.reply("504 5.5.4 unrecognised authentication type")
		return
	}
	if ss.s.opts.TLS != nil && !ss.tls {
		ss.reply("538 5.7.11 encryption required for requested authentication mechanism")
		return
	}
	if initial == "" {
		ss.reply("334 ")
		line, err := ss.r.ReadString('\n')
		if err != nil {
			return
		}
		initial = strings.TrimRight(line, "\r\n")
	}
	raw, err := base64.StdEncoding.DecodeString(initial)
	parts := bytes.Split(raw, []byte{0})
	if err != nil || len(parts) != 3 {
		ss.reply("501 5.5.2 cannot decode AUTH PLAIN response")
		return
	}
	user, pass := string(parts[1]), string(parts[2])
	if want, ok := ss.s.opts.Users[user]; !ok || want != pass {
		ss.reply("535 5.7.8 authentication credentials invalid")
		return
	}
	ss.user = user
	ss.reply("235 2.7.0 authentication successful")
}

// readData reads the message up to the lone dot and undoes dot-stuffing.
func (ss *session) readData() ([]byte, error) {
	var b bytes.Buffer
	for {
		line, err := ss.r.ReadString('\n')
		if err != nil {
			return nil, err
		}
		if line == ".\r\n" || line == ".\n" {
			return b.Bytes(), nil
		}
		line = strings.TrimPrefix(line, ".")
		b.WriteString(line)
	}
}

// pathArg reads "FROM:<addr> [params]".
func pathArg(arg, prefix string) (string, bool) {
	if len(arg) < len(prefix) || !strings.EqualFold(arg[:len(prefix)], prefix) {
		return "", false
	}
	rest := strings.TrimSpace(arg[len(prefix):])
	if !strings.HasPrefix(rest, "<") {
		return "", false
	}
	end := strings.IndexByte(rest, '>')
	if end < 0 {
		return "", false
	}
	return rest[1:end], true
}

// String describes the server for test logs.
func (s *Server) String() string {
	h, p := s.Addr()
	return fmt.Sprintf("smtptest at %s:%d", h, p)
}
