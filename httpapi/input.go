package httpapi

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"
	"github.com/go-json-experiment/json/jsontext"

	"github.com/smartlic/smartlic"
)

// The edge check. Every operation (the API under /api and the device
// protocol under /device) passes checkInput before huma decodes anything,
// so no handler, manager or store sees a string that is not valid UTF-8 or
// holds NUL, and no path or query parameter holds control or invisible
// formatting characters. PostgreSQL refuses such bytes with an error where
// SQLite stores them; checked once here, both stores see the same input and
// the caller gets a coded 400 naming the field.

// checkInput is huma middleware, registered after authenticate: an
// anonymous caller learns nothing about validation.
func (s *Server) checkInput(ctx huma.Context, next func(huma.Context)) {
	op := ctx.Operation()
	r, _ := humago.Unwrap(ctx)
	var pathParams []string
	for _, p := range op.Parameters {
		if p.In == "path" {
			pathParams = append(pathParams, p.Name)
		}
	}
	err := CheckURL(r, pathParams...)
	if err == nil {
		err = checkBasicAuth(r)
	}
	var body []byte
	if err == nil && op.RequestBody != nil {
		body, err = checkBody(ctx, r, op)
	}
	if err != nil {
		writeHumaError(ctx, errorResponse(ctx.Context(), s.log, err))
		return
	}
	if own, _ := op.Metadata[ownBody].(bool); own {
		ctx = huma.WithValue(ctx, ownBodyKey{}, &ownedBody{b: body})
	}
	next(ctx)
}

// CheckURL checks the named path parameters (wildcards of the route's
// ServeMux pattern) and the whole query of a request against the edge
// rules (smartlic.ValidateIdentifier), naming the parameter in the error.
// The portal calls it for its own pages.
func CheckURL(r *http.Request, pathParams ...string) error {
	for _, name := range pathParams {
		if err := smartlic.ValidateIdentifier(name, r.PathValue(name)); err != nil {
			return err
		}
	}
	// An unparsable query is huma's to report; what parsed is checked.
	q, _ := url.ParseQuery(r.URL.RawQuery)
	return CheckValues(q, smartlic.ValidateIdentifier)
}

// CheckValues checks the names and values of a query or form: names by
// the identifier rules, values by check (smartlic.ValidateIdentifier for
// queries, smartlic.ValidateText for forms that carry free text or
// secrets). The portal calls it for its form posts.
func CheckValues(v url.Values, check func(field, s string) error) error {
	names := make([]string, 0, len(v))
	for name := range v {
		names = append(names, name)
	}
	slices.Sort(names) // the same input always names the same field
	for _, name := range names {
		if err := smartlic.ValidateIdentifier("", name); err != nil {
			return smartlic.Invalid("", "a parameter name %s", smartlic.ErrorMessage(err))
		}
		for _, s := range v[name] {
			if err := check(name, s); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkBasicAuth checks the credentials of "Authorization: Basic", which
// the OAuth token endpoint looks up by client_id.
func checkBasicAuth(r *http.Request) error {
	id, secret, ok := r.BasicAuth()
	if !ok {
		return nil
	}
	if err := smartlic.ValidateText("Authorization", id); err != nil {
		return err
	}
	return smartlic.ValidateText("Authorization", secret)
}

// checkBody reads the request body (within the operation's limit and read
// timeout), checks its media type and its strings, and hands huma the same
// bytes to decode. A body huma would refuse anyway (too large, not
// arriving) is passed on untouched for huma to answer as it always does;
// for an operation that parses its body itself (ownBody), huma never
// parses it (a JSON one it still copies into its buffer, a binary one it
// does not read), so those are answered here. The bytes are returned for
// ownBody operations to take from the context (takeOwnBody).
func checkBody(ctx huma.Context, r *http.Request, op *huma.Operation) ([]byte, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, nil
	}
	if op.BodyReadTimeout > 0 {
		_ = ctx.SetReadDeadline(time.Now().Add(op.BodyReadTimeout))
	}
	limit := op.MaxBodyBytes
	if limit <= 0 {
		limit = MaxBodyBytes + 1
	}
	own, _ := op.Metadata[ownBody].(bool)
	orig := r.Body
	buf, err := readBody(orig, r.ContentLength, limit, len(op.Security) > 0)
	switch {
	case err != nil && own:
		var nerr net.Error
		if errors.As(err, &nerr) && nerr.Timeout() {
			return nil, smartlic.Errorf(CodeRequestTimeout, "", "request body read timeout")
		}
		// A client that stopped sending (or lied about the length).
		return nil, smartlic.Invalid("", "the request body could not be read: %v", err)
	case err != nil:
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), errorReader{err}), orig}
		return nil, nil
	case int64(len(buf)) == limit && own:
		return nil, smartlic.Errorf(smartlic.ETooLarge, "", "request body is too large (limit %d bytes)", limit-1)
	case int64(len(buf)) == limit:
		r.Body = readCloser{io.MultiReader(bytes.NewReader(buf), orig), orig}
		return nil, nil
	}
	r.Body = readCloser{bytes.NewReader(buf), orig}
	if len(buf) == 0 {
		return buf, nil
	}
	mt, err := bodyMediaType(r.Header.Get("Content-Type"), op)
	if err != nil {
		return nil, err
	}
	if mt == "application/x-www-form-urlencoded" {
		form, err := url.ParseQuery(string(buf))
		if err != nil {
			return buf, nil // the operation reports a malformed form
		}
		return buf, CheckValues(form, smartlic.ValidateText)
	}
	if own && mt == "application/json" {
		// The operation parses the body strictly itself (a device's
		// usage reports: type and kid checked with each envelope, the
		// rest base64 that only the strict decoder reads).
		return buf, nil
	}
	if mt == "application/octet-stream" {
		// A file taken as the device saved it (a usage file): the
		// operation's own strict parser checks it, and the one text in it
		// outside the signed payloads, each envelope's kid, is checked
		// with the envelope (sign.CheckShape). Tokenizing a 20 MB file
		// here first was a tenth of its upload.
		if own {
			// huma reads no binary body, and the operation takes the
			// bytes from the context: left in r.Body, they would live as
			// long as the request, not as long as the operation needs
			// them.
			r.Body = readCloser{bytes.NewReader(nil), orig}
		}
		return buf, nil
	}
	return buf, CheckJSON(buf)
}

// readBody reads a whole body of at most limit bytes. A body that says its
// length is read into one buffer of that size: growing a buffer by
// doubling as a 20 MB usage file arrives cleared and copied several times
// its size, a third of the upload's CPU. The length is trusted only from
// an authenticated caller (trusted) or up to trustedLength: an anonymous
// one could otherwise announce megabytes on many connections, send
// nothing, and have the server hold it all. Its larger bodies are read
// as they arrive (readChunks).
func readBody(body io.Reader, length, limit int64, trusted bool) ([]byte, error) {
	if length < 0 || length >= limit || (!trusted && length > trustedLength) {
		return readChunks(io.LimitReader(body, limit))
	}
	buf := make([]byte, length)
	n, err := io.ReadFull(body, buf)
	return buf[:n], err
}

// trustedLength is the largest Content-Length an anonymous caller's body
// is read into a buffer of at once.
const trustedLength = 64 << 10

// readChunks reads body to its end in chunks no larger than what has
// arrived so far (so the memory held is at most twice what the client
// sent), then joins them with one copy.
func readChunks(body io.Reader) ([]byte, error) {
	var chunks [][]byte
	cur := make([]byte, 0, 512)
	total := 0
	for {
		if len(cur) == cap(cur) {
			chunks = append(chunks, cur)
			cur = make([]byte, 0, max(total, 512))
		}
		n, err := body.Read(cur[len(cur):cap(cur)])
		cur, total = cur[:len(cur)+n], total+n
		if err != nil {
			if len(chunks) == 0 {
				return cur, ignoreEOF(err)
			}
			out := make([]byte, 0, total)
			for _, c := range chunks {
				out = append(out, c...)
			}
			return append(out, cur...), ignoreEOF(err)
		}
	}
}

func ignoreEOF(err error) error {
	if err == io.EOF {
		return nil
	}
	return err
}

// ownBodyKey is the context key of the body bytes checkBody read for an
// ownBody operation (an *ownedBody).
type ownBodyKey struct{}

// ownedBody holds the body until the operation takes it.
type ownedBody struct{ b []byte }

// takeOwnBody is the request body checkBody read for an ownBody operation,
// which from then on is the only holder of the bytes: the context, which
// lives as long as the request, keeps none. A 20 MB usage file is then
// garbage as soon as it is parsed, instead of live through its whole
// ingestion, where it made the collector run several times as often
// under the server's soft memory limit.
func takeOwnBody(ctx context.Context) []byte {
	o, _ := ctx.Value(ownBodyKey{}).(*ownedBody)
	if o == nil {
		return nil
	}
	b := o.b
	o.b = nil
	return b
}

// bodyMediaType is the media type of a request body: application/json, or
// one the operation declares (the OAuth token endpoint takes a form). A
// body without a Content-Type is refused rather than guessed at: a
// browser's cross-site form post arrives as text/plain or without one.
func bodyMediaType(contentType string, op *huma.Operation) (string, error) {
	want := "request body must be application/json"
	if contentType == "" {
		return "", smartlic.Errorf(smartlic.EUnsupportedMT, "Content-Type", "%s (no Content-Type header)", want)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil {
		return "", smartlic.Errorf(smartlic.EUnsupportedMT, "Content-Type", "%s (got %q)", want, contentType)
	}
	if _, declared := op.RequestBody.Content[mt]; mt != "application/json" && !declared {
		return "", smartlic.Errorf(smartlic.EUnsupportedMT, "Content-Type", "%s (got %q)", want, mt)
	}
	if cs, ok := params["charset"]; ok && !strings.EqualFold(cs, "utf-8") {
		return "", smartlic.Errorf(smartlic.EUnsupportedMT, "Content-Type", "request body must be UTF-8 (got charset %q)", cs)
	}
	return mt, nil
}

// CheckJSON checks every string of a JSON document, names and values, by
// smartlic.ValidateText: valid UTF-8 (no invalid bytes, no lone UTF-16
// surrogate escapes, which encoding/json would silently replace with
// U+FFFD) and no NUL. The error names the field as huma does
// ("lines[0].name"). A document that is not JSON at all passes: the
// decoder reports it.
func CheckJSON(doc []byte) error {
	dec := jsontext.NewDecoder(bytes.NewReader(doc), jsontext.AllowDuplicateNames(true))
	for {
		tok, err := dec.ReadToken()
		if err == io.EOF {
			return nil
		}
		var serr *jsontext.SyntacticError
		if errors.As(err, &serr) {
			if invalidUTF8At(doc, serr.ByteOffset) {
				return smartlic.Invalid(jsonField(serr.JSONPointer), "must be valid UTF-8")
			}
			return nil
		}
		if err != nil {
			return nil
		}
		if tok.Kind() != '"' {
			continue
		}
		s := tok.String()
		if smartlic.ValidateText("", s) == nil {
			// Most strings pass: the field is named only for one that
			// does not (naming it walks the decoder's stack).
			continue
		}
		ptr := dec.StackPointer()
		if kind, n := dec.StackIndex(dec.StackDepth()); kind == '{' && n%2 == 1 {
			// An object name: name the object it belongs to.
			err := smartlic.ValidateText(jsonField(ptr.Parent()), s)
			return smartlic.Invalid(smartlic.ErrorField(err), "a property name %s", smartlic.ErrorMessage(err))
		}
		return smartlic.ValidateText(jsonField(ptr), s)
	}
}

// checkPayload applies CheckJSON to the payload of a device envelope,
// which travels base64-encoded and so passes the body check unread. The
// bytes are refused before the signature is checked: refusing is not
// trusting, and a device can sign anything with its own key.
func checkPayload(env smartlic.Envelope) error {
	if err := CheckJSON(env.Payload); err != nil {
		field := "payload"
		if f := smartlic.ErrorField(err); f != "" && f != "body" {
			field += "." + f
		}
		return smartlic.Invalid(field, "%s", smartlic.ErrorMessage(err))
	}
	return nil
}

// invalidUTF8At reports whether the strict decoder's syntax error at
// offset was about UTF-8: a decoder that allows invalid UTF-8 gets past
// that offset. (jsontext does not export its invalid UTF-8 error.)
func invalidUTF8At(doc []byte, offset int64) bool {
	dec := jsontext.NewDecoder(bytes.NewReader(doc), jsontext.AllowDuplicateNames(true), jsontext.AllowInvalidUTF8(true))
	for {
		_, err := dec.ReadToken()
		if err == io.EOF {
			return true
		}
		if err != nil {
			var serr *jsontext.SyntacticError
			return errors.As(err, &serr) && serr.ByteOffset > offset
		}
	}
}

// jsonField turns a JSON pointer into the field name huma uses:
// /lines/0/name is lines[0].name. Object names in this API are never all
// digits, so a number is an array index.
func jsonField(p jsontext.Pointer) string {
	var b strings.Builder
	for tok := range p.Tokens() {
		if smartlic.ValidateIdentifier("", tok) != nil {
			break // the bad name itself: the field is its parent
		}
		if _, err := strconv.ParseUint(tok, 10, 64); err == nil {
			fmt.Fprintf(&b, "[%s]", tok)
			continue
		}
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(tok)
	}
	if b.Len() == 0 {
		return "body"
	}
	return b.String()
}

type readCloser struct {
	io.Reader
	io.Closer
}

type errorReader struct{ err error }

func (r errorReader) Read([]byte) (int, error) { return 0, r.err }

// uncleanPath refuses an API or device path with '.', '..' or empty
// segments. ServeMux would answer it with a redirect to the cleaned path
// and an HTML body; no client of this API builds such paths, and
// answering one in the error shape keeps "/a/b/../c" from quietly
// addressing something else.
func uncleanPath(r *http.Request) *ErrorResponse {
	p := r.URL.Path
	if clean := path.Clean(p); clean == p || clean+"/" == p || !Serves(p) {
		return nil
	}
	return newErrorResponse(smartlic.EInvalid, "path", fmt.Sprintf("%q must not contain '.', '..' or empty segments", r.URL.EscapedPath()))
}

// Serves reports whether the API answers a request for path p: /api,
// /device and /healthz and what is under them, whose answers are always
// JSON (the portal's pages at / are HTML). A path that only gets there
// once cleaned (/x/../api/v1) counts too, so that a router in front sends
// it here rather than redirecting it with an HTML body.
func Serves(p string) bool {
	return servedPath(p) || servedPath(path.Clean(p))
}

func servedPath(p string) bool {
	for _, prefix := range []string{"/api", "/device", "/healthz"} {
		if rest, ok := strings.CutPrefix(p, prefix); ok && (rest == "" || rest[0] == '/') {
			// /device itself is the portal's page where a user confirms
			// the CLI's code; the device protocol is under /device/.
			return p != "/device"
		}
	}
	return false
}
