// Package notify delivers alerts to people and systems: summary e-mails
// over SMTP and signed webhook deliveries over HTTP. It adapts the outside
// world to the root package and holds no rules of its own: what to send
// and when is decided by the manager and the jobs runner.
package notify

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/smtp"
	"os"
	"strconv"
	"strings"
	"time"
)

// StartTLS says how the SMTP connection is upgraded to TLS.
type StartTLS string

const (
	// StartTLSRequired refuses to send unless the server offers STARTTLS
	// and the upgrade succeeds with a certificate valid for Host.
	StartTLSRequired StartTLS = "required"
	// StartTLSOpportunistic upgrades when the server offers it and sends
	// in the clear otherwise. Credentials are never sent in the clear.
	StartTLSOpportunistic StartTLS = "opportunistic"
	// StartTLSNone never upgrades: for a relay on localhost or a trusted
	// network segment.
	StartTLSNone StartTLS = "none"
)

// ParseStartTLS reads a --smtp-starttls value.
func ParseStartTLS(s string) (StartTLS, error) {
	switch v := StartTLS(strings.ToLower(s)); v {
	case StartTLSRequired, StartTLSOpportunistic, StartTLSNone:
		return v, nil
	}
	return "", fmt.Errorf("--smtp-starttls must be required, opportunistic or none (got %q)", s)
}

// SMTPConfig is how to reach the mail relay.
type SMTPConfig struct {
	Host     string
	Port     int // 587 (submission) when 0
	StartTLS StartTLS
	// Username and Password, when Username is set, authenticate with AUTH
	// PLAIN, and only over TLS (or to localhost, as net/smtp allows).
	Username string
	Password string
	From     string // the envelope sender and From: header
	// LocalName is the name given in EHLO; the host name when empty (or
	// "localhost" when that is unknown).
	LocalName string
	// TLSConfig overrides the TLS settings of STARTTLS (tests trust their
	// own CA with it). ServerName defaults to Host.
	TLSConfig *tls.Config
	// Timeout bounds one whole message; 30 seconds when 0.
	Timeout time.Duration
}

// Mailer sends e-mail through one SMTP relay. Safe for concurrent use:
// each message is its own connection.
type Mailer struct {
	cfg SMTPConfig
}

// NewMailer checks cfg and returns a Mailer.
func NewMailer(cfg SMTPConfig) (*Mailer, error) {
	if cfg.Host == "" {
		return nil, errors.New("smtp: no host")
	}
	if cfg.Port == 0 {
		cfg.Port = 587
	}
	if cfg.Port < 1 || cfg.Port > 65535 {
		return nil, fmt.Errorf("smtp: port %d out of range", cfg.Port)
	}
	if cfg.StartTLS == "" {
		cfg.StartTLS = StartTLSRequired
	}
	if _, err := ParseStartTLS(string(cfg.StartTLS)); err != nil {
		return nil, err
	}
	if !validAddress(cfg.From) {
		return nil, fmt.Errorf("smtp: From must be an e-mail address (got %q)", cfg.From)
	}
	if cfg.LocalName == "" {
		// Some relays refuse EHLO localhost from a remote address.
		cfg.LocalName = "localhost"
		if h, err := os.Hostname(); err == nil && h != "" && !strings.ContainsAny(h, " \r\n") {
			cfg.LocalName = h
		}
	}
	if cfg.Timeout == 0 {
		cfg.Timeout = 30 * time.Second
	}
	return &Mailer{cfg: cfg}, nil
}

// From returns the sender address.
func (m *Mailer) From() string { return m.cfg.From }

// Send delivers one message to its recipients. The error never contains
// the password.
func (m *Mailer) Send(ctx context.Context, msg Message) error {
	if len(msg.To) == 0 {
		return errors.New("smtp: no recipients")
	}
	for _, to := range msg.To {
		if !validAddress(to) {
			return fmt.Errorf("smtp: invalid recipient %q", to)
		}
	}
	data, err := msg.Bytes(m.cfg.From)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, m.cfg.Timeout)
	defer cancel()
	addr := net.JoinHostPort(m.cfg.Host, strconv.Itoa(m.cfg.Port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("smtp: connect to %s: %w", addr, err)
	}
	deadline, _ := ctx.Deadline()
	conn.SetDeadline(deadline)
	// Closing the connection when ctx ends unblocks any read or write.
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, m.cfg.Host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("smtp: %s: %w", addr, err)
	}
	defer c.Close()
	if err := c.Hello(m.cfg.LocalName); err != nil {
		return fmt.Errorf("smtp: EHLO: %w", err)
	}
	encrypted := false
	if m.cfg.StartTLS != StartTLSNone {
		if ok, _ := c.Extension("STARTTLS"); ok {
			tc := &tls.Config{ServerName: m.cfg.Host, MinVersion: tls.VersionTLS12}
			if m.cfg.TLSConfig != nil {
				tc = m.cfg.TLSConfig.Clone()
				if tc.ServerName == "" {
					tc.ServerName = m.cfg.Host
				}
			}
			if err := c.StartTLS(tc); err != nil {
				return fmt.Errorf("smtp: STARTTLS: %w", err)
			}
			encrypted = true
		} else if m.cfg.StartTLS == StartTLSRequired {
			return fmt.Errorf("smtp: %s does not offer STARTTLS and --smtp-starttls is required", addr)
		}
	}
	if m.cfg.Username != "" {
		if ok, _ := c.Extension("AUTH"); !ok {
			return fmt.Errorf("smtp: %s does not offer AUTH but credentials are configured", addr)
		}
		if !encrypted && !isLocalhost(m.cfg.Host) {
			return fmt.Errorf("smtp: refusing to send credentials to %s without TLS", addr)
		}
		// net/smtp's PLAIN refuses unencrypted connections except to
		// localhost by itself too; the check above only says why.
		if err := c.Auth(smtp.PlainAuth("", m.cfg.Username, m.cfg.Password, m.cfg.Host)); err != nil {
			return fmt.Errorf("smtp: AUTH PLAIN as %s: %w", m.cfg.Username, err)
		}
	}
	if err := c.Mail(m.cfg.From); err != nil {
		return fmt.Errorf("smtp: MAIL FROM: %w", err)
	}
	for _, to := range msg.To {
		if err := c.Rcpt(to); err != nil {
			return fmt.Errorf("smtp: RCPT TO %s: %w", to, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("smtp: DATA: %w", err)
	}
	if _, err := w.Write(data); err != nil {
		return fmt.Errorf("smtp: writing the message: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("smtp: message refused: %w", err)
	}
	return c.Quit()
}

func isLocalhost(h string) bool {
	return h == "localhost" || h == "127.0.0.1" || h == "::1"
}

// validAddress accepts a bare address with no characters that could end an
// SMTP command or a header line.
func validAddress(a string) bool {
	at := strings.LastIndexByte(a, '@')
	return at > 0 && at < len(a)-1 && len(a) <= 254 && !strings.ContainsAny(a, "\r\n<> ,;\"")
}
