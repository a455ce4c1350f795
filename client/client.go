// Package client is the Go client of the smartlic REST API. *Client
// implements the root service interfaces, so code written against
// smartlic.AccountService and friends runs the same in-process (over the
// manager) or over the network (over this client); errors arrive as
// *smartlic.Error with the server's code, field and message.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

// Client talks to one smartlic server with one API key. Safe for
// concurrent use.
type Client struct {
	base   string
	apiKey string
	hc     *http.Client
	// session and csrf, when set, authenticate instead of apiKey: the
	// cookie of a sign-in and the CSRF token its answer carried.
	session, csrf string
}

var (
	_ smartlic.CatalogService  = (*Client)(nil)
	_ smartlic.AccountService  = (*Client)(nil)
	_ smartlic.LicenseService  = (*Client)(nil)
	_ smartlic.TokenService    = (*Client)(nil)
	_ smartlic.InstanceService = (*Client)(nil)
	_ smartlic.DeviceService   = (*Client)(nil)
)

// Option configures a Client.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with hc (timeouts,
// TLS, proxies, test transports). The default is http.DefaultClient.
func WithHTTPClient(hc *http.Client) Option {
	return func(c *Client) {
		if hc != nil {
			c.hc = hc
		}
	}
}

// WithSession makes the client act as a signed-in session instead of an
// API key: secret and csrfToken are Login.Secret and Login.CSRFToken. The
// CLI uses it for the few calls between signing in and holding a key.
func WithSession(secret, csrfToken string) Option {
	return func(c *Client) { c.session, c.csrf = secret, csrfToken }
}

// New returns a client of the server at baseURL (e.g.
// "https://licensing.example.com") authenticating with apiKey. The device
// protocol methods send no key: their signed envelopes are the credential.
func New(baseURL, apiKey string, opts ...Option) *Client {
	c := &Client{base: strings.TrimRight(baseURL, "/"), apiKey: apiKey, hc: http.DefaultClient}
	for _, o := range opts {
		o(c)
	}
	return c
}

// maxErrorBody bounds how much of an error answer is read.
const maxErrorBody = 64 << 10

// request is one API call.
type request struct {
	method string
	path   string     // already escaped (see path)
	query  url.Values // optional
	in     any        // JSON body, when not nil
	raw    []byte     // JSON body sent as is (a file), when in is nil
	out    any        // decoded from a 2xx answer, when not nil
	public bool       // send no API key
}

func (c *Client) do(ctx context.Context, r request) error {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var body io.Reader
	if r.in != nil {
		b, err := json.Marshal(r.in)
		if err != nil {
			return fmt.Errorf("smartlic client: encode %s %s: %w", r.method, r.path, err)
		}
		body = bytes.NewReader(b)
	} else if r.raw != nil {
		body = bytes.NewReader(r.raw)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, body)
	if err != nil {
		return fmt.Errorf("smartlic client: %w", err)
	}
	req.Header.Set("Accept", "application/json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	switch {
	case r.public:
	case c.session != "":
		req.AddCookie(&http.Cookie{Name: sessionCookie, Value: c.session})
		req.Header.Set("X-CSRF-Token", c.csrf)
	case c.apiKey != "":
		req.Header.Set("Authorization", "Bearer "+c.apiKey)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		return fmt.Errorf("smartlic client: %s %s: %w", r.method, r.path, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return decodeError(resp)
	}
	if r.out == nil || resp.StatusCode == http.StatusNoContent {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, maxErrorBody)) // let the connection be reused
		return nil
	}
	if raw, ok := r.out.(*[]byte); ok {
		*raw, err = io.ReadAll(resp.Body)
		if err != nil {
			return fmt.Errorf("smartlic client: %s %s: read answer: %w", r.method, r.path, err)
		}
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(r.out); err != nil {
		return fmt.Errorf("smartlic client: %s %s: decode answer: %w", r.method, r.path, err)
	}
	return nil
}

// decodeError turns a non-2xx answer into *smartlic.Error. An answer not in
// the API's error shape (a proxy's HTML page, say) still gets a code, from
// its status, so callers can always branch on the code.
func decodeError(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, maxErrorBody))
	var er wire.ErrorResponse
	if err := json.Unmarshal(b, &er); err == nil && er.Error.Code != "" {
		return &smartlic.Error{Code: er.Error.Code, Field: er.Error.Field, Message: er.Error.Message, Tags: er.Error.Tags}
	}
	return &smartlic.Error{
		Code:    codeOfStatus(resp.StatusCode),
		Message: fmt.Sprintf("unexpected answer from server: %s", resp.Status),
	}
}

func codeOfStatus(status int) string {
	switch status {
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		return smartlic.EInvalid
	case http.StatusUnauthorized:
		return smartlic.EUnauthorized
	case http.StatusForbidden:
		return smartlic.EForbidden
	case http.StatusNotFound:
		return smartlic.ENotFound
	case http.StatusConflict:
		return smartlic.EConflict
	case http.StatusRequestEntityTooLarge:
		return smartlic.ETooLarge
	case http.StatusUnsupportedMediaType:
		return smartlic.EUnsupportedMT
	}
	return smartlic.EInternal
}

// segment is one addressed thing in a path, and the field named when it is
// missing.
type segment struct{ field, value string }

// path joins literal parts and escaped identifiers. Identifiers are names
// chosen by people (a VA called "EMEA Sales"), UDIs with ':' or '/', so
// each is escaped as one segment; "." and ".." are escaped by hand because
// the server's router would otherwise clean them out of the path.
func path(parts ...any) (string, error) {
	var b strings.Builder
	for _, p := range parts {
		b.WriteByte('/')
		switch p := p.(type) {
		case string:
			b.WriteString(p)
		case segment:
			if strings.TrimSpace(p.value) == "" {
				return "", missing(p.field)
			}
			switch p.value {
			case ".":
				b.WriteString("%2E")
			case "..":
				b.WriteString("%2E%2E")
			default:
				b.WriteString(url.PathEscape(p.value))
			}
		}
	}
	return b.String(), nil
}

// missing is the error for an empty identifier: the request could not be
// addressed, so it is not sent. Smart and Virtual Accounts answer as the
// manager does (invalid, naming the field); other things are simply not
// found.
func missing(field string) error {
	switch field {
	case "sa":
		return smartlic.Invalid("sa", "a Smart Account id or domain is required")
	case "va":
		return smartlic.Invalid("va", "a Virtual Account id or name is required")
	}
	return smartlic.NotFound("%s not found: no id given", strings.ReplaceAll(field, "_", " "))
}

func pageQuery(p smartlic.Page) url.Values {
	q := url.Values{}
	if p.Limit != 0 {
		q.Set("limit", strconv.Itoa(p.Limit))
	}
	if p.After != "" {
		q.Set("after", p.After)
	}
	return q
}

// call runs one request whose path is built from parts.
func (c *Client) call(ctx context.Context, method string, r request, parts ...any) error {
	p, err := path(parts...)
	if err != nil {
		return err
	}
	r.method, r.path = method, p
	return c.do(ctx, r)
}

func get[T any](ctx context.Context, c *Client, parts ...any) (T, error) {
	var v T
	err := c.call(ctx, http.MethodGet, request{out: &v}, parts...)
	return v, err
}

func send[T any](ctx context.Context, c *Client, method string, in any, parts ...any) (T, error) {
	var v T
	err := c.call(ctx, method, request{in: in, out: &v}, parts...)
	return v, err
}

func list[T any](ctx context.Context, c *Client, p smartlic.Page, parts ...any) ([]T, string, error) {
	var v wire.Page[T]
	err := c.call(ctx, http.MethodGet, request{query: pageQuery(p), out: &v}, parts...)
	return v.Items, v.Next, err
}

func (c *Client) remove(ctx context.Context, parts ...any) error {
	return c.call(ctx, http.MethodDelete, request{}, parts...)
}

// Health checks that the server is up.
func (c *Client) Health(ctx context.Context) error {
	var h wire.Health
	if err := c.do(ctx, request{method: http.MethodGet, path: "/healthz", out: &h, public: true}); err != nil {
		return err
	}
	if h.Status != "ok" {
		return &smartlic.Error{Code: smartlic.EInternal, Message: fmt.Sprintf("server health is %q", h.Status)}
	}
	return nil
}

// OpenAPI returns the server's OpenAPI document (JSON).
func (c *Client) OpenAPI(ctx context.Context) ([]byte, error) {
	var b []byte
	err := c.do(ctx, request{method: http.MethodGet, path: "/api/v1/openapi.json", out: &b, public: true})
	if err == nil && !json.Valid(b) {
		err = errors.New("smartlic client: the OpenAPI document is not valid JSON")
	}
	return b, err
}
