package httpapi_test

import (
	"crypto/ed25519"
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
	"github.com/smartlic/smartlic/store/storetest"
	"github.com/smartlic/smartlic/web"
)

// The edge check: bytes PostgreSQL refuses (NUL, invalid UTF-8) and
// characters no identifier should hold (controls, bidi overrides,
// zero-width spaces) are refused with a coded 400 naming the field, on
// both stores alike, before any service or store sees them. Before the
// check, PostgreSQL answered 500 where SQLite stored the bytes.

// badPathValues are path or query parameter values (already escaped) that
// every route must refuse.
var badPathValues = []struct{ name, escaped string }{
	{"NUL", "acme%00.example"},
	{"invalid UTF-8", "%ff%fe"},
	{"overlong NUL", "a%c0%80b"},
	{"control", "a%07b"},
	{"newline", "a%0Ab"},
	{"C1 control", "a%C2%85b"},
	{"bidi override", "a%E2%80%AEb"},
	{"zero-width space", "a%E2%80%8Bb"},
}

// badBodyStrings are JSON string literals (with their quotes) that every
// string of every request body must refuse: NUL, raw invalid UTF-8 and a
// lone surrogate, which encoding/json would replace with U+FFFD.
var badBodyStrings = []struct{ name, literal string }{
	{"NUL", `"a\u0000b"`},
	{"invalid UTF-8", "\"a\xff\xfeb\""},
	{"lone surrogate", `"a\ud800b"`},
}

// TestEveryRouteRefusesBadBytes walks the OpenAPI document, so that a new
// route is covered the day it is added: every path parameter, every query
// parameter and every string of every request body, on both stores.
func TestEveryRouteRefusesBadBytes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example")
		doc := e.probeDoc()
		probes := 0
		for _, r := range doc.operations() {
			op := r.op
			concrete := func(skip string) string {
				p := r.path
				for _, prm := range op.Parameters {
					if prm.In == "path" && prm.Name != skip {
						p = strings.ReplaceAll(p, "{"+prm.Name+"}", "acme.example")
					}
				}
				return p
			}
			for _, prm := range op.Parameters {
				for _, bad := range badPathValues {
					var path string
					switch prm.In {
					case "path":
						path = strings.ReplaceAll(concrete(prm.Name), "{"+prm.Name+"}", bad.escaped)
					case "query":
						path = concrete("") + "?" + prm.Name + "=" + bad.escaped
					default:
						continue
					}
					probes++
					a := e.do(request{method: r.method, path: path})
					if a.status != http.StatusBadRequest {
						t.Errorf("%s %s (%s in %s %s): %d %s, want 400", r.method, r.path, bad.name, prm.In, prm.Name, a.status, a.body)
						continue
					}
					if got := a.errorBody(t); got.Code != smartlic.EInvalid || got.Field != prm.Name {
						t.Errorf("%s %s (%s in %s %s): %+v, want code invalid, field %s", r.method, r.path, bad.name, prm.In, prm.Name, got, prm.Name)
					}
				}
			}
			if op.RequestBody == nil {
				continue
			}
			schema := op.RequestBody.Content["application/json"].Schema
			if schema == nil {
				// The OAuth token endpoint takes a form (TestNamedProbes
				// covers it); a usage file upload takes a file as it is.
				continue
			}
			for _, f := range doc.stringFields(schema, "", 0) {
				for _, bad := range badBodyStrings {
					probes++
					a := e.do(request{method: r.method, path: concrete(""), body: f.body(bad.literal)})
					if a.status != http.StatusBadRequest {
						t.Errorf("%s %s (%s in body %s): %d %s, want 400", r.method, r.path, bad.name, f.field, a.status, a.body)
						continue
					}
					if got := a.errorBody(t); got.Code != smartlic.EInvalid || got.Field != f.field {
						t.Errorf("%s %s (%s in body %s): %+v, want code invalid, field %s", r.method, r.path, bad.name, f.field, got, f.field)
					}
				}
			}
		}
		if probes < 500 {
			t.Fatalf("only %d probes: the walk of the OpenAPI document missed routes", probes)
		}
	})
}

// TestNamedProbes are the requests of the security review (issue 8,
// finding 2), each of which answered 500 on PostgreSQL.
func TestNamedProbes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example")
		va := "/api/v1/accounts/acme.example/virtual-accounts/DEFAULT"
		for _, tc := range []struct {
			name  string
			req   request
			field string
		}{
			{"login e-mail", request{method: "POST", path: "/api/v1/auth/login", auth: "-", body: `{"email":"a\u0000@t.example","password":"x"}`}, "email"},
			{"login invalid UTF-8", request{method: "POST", path: "/api/v1/auth/login", auth: "-", body: "{\"email\":\"a\xff@t.example\",\"password\":\"x\"}"}, "email"},
			{"device kid", request{method: "POST", path: "/device/v1/authorize", auth: "-",
				body: `{"type":"smartlic.auth-request/v1","kid":"abc\u0000","payload":"e30=","sig":"` + strings.Repeat("A", 86) + `"}`}, "kid"},
			{"token description", request{method: "POST", path: va + "/tokens", body: `{"description":"x\u0000","expires_in_days":30}`}, "description"},
			{"path id NUL", request{method: "GET", path: "/api/v1/accounts/acme%00.example"}, "sa"},
			{"path id invalid UTF-8", request{method: "GET", path: "/api/v1/accounts/%ff%fe"}, "sa"},
			{"query filter", request{method: "GET", path: "/api/v1/accounts/acme.example/events?actor=a%00b"}, "actor"},
			{"OAuth form", request{method: "POST", path: "/api/v1/oauth/token", auth: "-", contentType: "application/x-www-form-urlencoded",
				body: "grant_type=client_credentials&client_id=a%00b&client_secret=x"}, "client_id"},
			{"OAuth Basic", request{method: "POST", path: "/api/v1/oauth/token", auth: "Basic YQBiOng=", contentType: "application/x-www-form-urlencoded",
				body: "grant_type=client_credentials"}, "Authorization"},
			{"VA name with bidi override", request{method: "POST", path: "/api/v1/accounts/acme.example/virtual-accounts", body: `{"name":"EMEA\u202egnp"}`}, "name"},
			{"VA name with zero-width space", request{method: "POST", path: "/api/v1/accounts/acme.example/virtual-accounts", body: `{"name":"EM\u200bEA"}`}, "name"},
			{"nested", request{method: "POST", path: va + "/agreements",
				body: `{"number":"EA-1","ends_at":"2027-01-01T00:00:00Z","lines":[{"license":"x\u0000","quantity":1}]}`}, "lines[0].license"},
			{"property name", request{method: "POST", path: "/api/v1/accounts", body: `{"name\u0000":"Acme","domain":"b.example"}`}, "body"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				wantError(t, e.do(tc.req), http.StatusBadRequest, smartlic.EInvalid, tc.field)
			})
		}

		// Invalid UTF-8 used to be replaced by U+FFFD and stored: refused,
		// and nothing is created.
		a := e.do(request{method: "POST", path: "/api/v1/accounts", body: "{\"name\":\"Acme \xe9\",\"domain\":\"latin1.example\"}"})
		wantError(t, a, http.StatusBadRequest, smartlic.EInvalid, "name")
		wantError(t, e.do(request{method: "GET", path: "/api/v1/accounts/latin1.example"}), http.StatusNotFound, smartlic.ENotFound, "sa")
		// What is refused is the bytes, not the characters: the same
		// name in UTF-8 is fine.
		wantStatus(t, e.do(request{method: "POST", path: "/api/v1/accounts", body: `{"name":"Acme é","domain":"utf8.example"}`}), http.StatusCreated)
	})
}

// TestDevicePayloadRefusesBadBytes: the signed payload of a device request
// travels base64-encoded, so the body check cannot see into it; it is
// checked the same way before the manager reads it. A device signs what
// it likes with its own key, so a valid signature is no defence.
func TestDevicePayloadRefusesBadBytes(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		e.account("acme.example")
		wantStatus(t, e.do(request{method: "POST", path: "/api/v1/catalog/license-types", body: `{"tag":"network-advantage","name":"Network Advantage","term":"perpetual"}`}), http.StatusCreated)
		wantStatus(t, e.do(request{method: "POST", path: "/api/v1/catalog/products", body: `{"pid":"C9300","name":"Catalyst","license_types":["network-advantage"]}`}), http.StatusCreated)
		var tok smartlic.Token
		a := e.do(request{method: "POST", path: "/api/v1/accounts/acme.example/virtual-accounts/DEFAULT/tokens", body: `{"description":"lab","expires_in_days":30}`})
		wantStatus(t, a, http.StatusCreated)
		a.decode(t, &tok)
		d := newDevice(t, "C9300", "FOC1")
		now := e.clock.Now()
		a = e.do(request{method: "POST", path: "/device/v1/register", auth: "-", body: d.registerRequest(t, tok.Secret, now)})
		wantStatus(t, a, http.StatusOK)
		var certEnv smartlic.Envelope
		a.decode(t, &certEnv)
		var cert smartlic.IDCert
		if err := smartlic.DecodePayload(certEnv, &cert); err != nil {
			t.Fatal(err)
		}
		sent := now.Format("2006-01-02T15:04:05Z07:00")
		udi := `{"pid":"C9300","sn":"FOC1"}`
		for _, tc := range []struct{ name, payload, field string }{
			{"usage tag NUL", `{"instance_id":"` + cert.InstanceID + `","udi":` + udi + `,"sent_at":"` + sent + `","usage":[{"tag":"network-advantage\u0000","count":1}]}`, "payload.usage[0].tag"},
			{"usage tag invalid UTF-8", `{"instance_id":"` + cert.InstanceID + `","udi":` + udi + `,"sent_at":"` + sent + `","usage":[{"tag":"network-` + "\xff" + `","count":1}]}`, "payload.usage[0].tag"},
			{"instance id NUL", `{"instance_id":"x\u0000","udi":` + udi + `,"sent_at":"` + sent + `"}`, "payload.instance_id"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				env := smartlic.Envelope{Type: smartlic.TypeAuthRequest, KeyID: cert.InstanceID, Payload: []byte(tc.payload)}
				env.Sig = ed25519.Sign(d.priv, sign.Message(env.Type, env.Payload))
				b, err := json.Marshal(env)
				if err != nil {
					t.Fatal(err)
				}
				wantError(t, e.do(request{method: "POST", path: "/device/v1/authorize", auth: "-", body: string(b)}), http.StatusBadRequest, smartlic.EInvalid, tc.field)
			})
		}
	})
}

// TestUncleanPath: ServeMux answers a path with '..' with a redirect and
// an HTML body; the API answers in its error shape.
func TestUncleanPath(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	e.account("acme.example")
	// As served: the API beside the portal (cli/serve.go).
	front := httptest.NewServer(web.Mux(e.srv, http.NotFoundHandler()))
	t.Cleanup(front.Close)
	for _, p := range []string{
		"/api/v1/accounts/other.example/../acme.example",
		"/api/v1/accounts/./acme.example",
		"/api/v1//accounts",
		"/api/v1/accounts/%2e%2e/accounts",
		"/device/v1/../v1/keys",
		"/x/../api/v1/accounts",
	} {
		for _, base := range []string{e.url, front.URL} {
			t.Run(p, func(t *testing.T) {
				req, err := http.NewRequest("GET", base+p, nil)
				if err != nil {
					t.Fatal(err)
				}
				req.Header.Set("Authorization", "Bearer "+e.key)
				resp, err := http.DefaultTransport.RoundTrip(req) // no redirects followed
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				a := answer{status: resp.StatusCode, header: resp.Header}
				a.body = readAll(t, resp)
				wantError(t, a, http.StatusBadRequest, smartlic.EInvalid, "path")
			})
		}
	}
	// A trailing slash is not unclean: it is a path the API does not have.
	wantError(t, e.do(request{method: "GET", path: "/api/v1/accounts/"}), http.StatusNotFound, smartlic.ENotFound, "")
}

// TestBadCursor: an after cursor the server did not issue used to be
// compared with the ids as it was, which starts a page anywhere (often at
// the beginning); it is refused.
func TestBadCursor(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		for _, d := range []string{"a.example", "b.example", "c.example"} {
			e.account(d)
		}
		wantStatus(t, e.do(request{method: "POST", path: "/api/v1/accounts/a.example/virtual-accounts", body: `{"name":"EMEA"}`}), http.StatusCreated)
		for _, path := range []string{
			"/api/v1/accounts?after=!",
			"/api/v1/accounts?after=0",
			"/api/v1/accounts?after=garbage",
			"/api/v1/accounts/a.example/virtual-accounts?after=-1",
			"/api/v1/catalog/products?after=ZZZ",
			"/api/v1/accounts/a.example/events?after=abc",
			"/api/v1/accounts/a.example/events?after=-1",
			"/api/v1/accounts/a.example/events?after=01",
		} {
			t.Run(path, func(t *testing.T) {
				wantError(t, e.do(request{method: "GET", path: path}), http.StatusBadRequest, smartlic.EInvalid, "after")
			})
		}
		// The cursors the server hands out still work.
		var first struct {
			Items []smartlic.SmartAccount `json:"items"`
			Next  string                  `json:"next"`
		}
		e.do(request{method: "GET", path: "/api/v1/accounts?limit=2"}).decode(t, &first)
		if len(first.Items) != 2 || first.Next == "" {
			t.Fatalf("first page = %+v", first)
		}
		var rest struct {
			Items []smartlic.SmartAccount `json:"items"`
		}
		e.do(request{method: "GET", path: "/api/v1/accounts?limit=2&after=" + first.Next}).decode(t, &rest)
		if len(rest.Items) != 1 || slices.ContainsFunc(first.Items, func(sa smartlic.SmartAccount) bool { return sa.ID == rest.Items[0].ID }) {
			t.Errorf("second page = %+v after %+v", rest.Items, first.Items)
		}
		var events struct {
			Items []smartlic.Event `json:"items"`
			Next  string           `json:"next"`
		}
		e.do(request{method: "GET", path: "/api/v1/accounts/a.example/events?limit=1"}).decode(t, &events)
		if events.Next == "" {
			t.Fatalf("events = %+v", events)
		}
		wantStatus(t, e.do(request{method: "GET", path: "/api/v1/accounts/a.example/events?limit=1&after=" + events.Next}), http.StatusOK)
	})
}

// TestContentType: a body is JSON only when it says so. A body without a
// Content-Type used to be decoded as JSON, which is what a cross-site
// form post or a text/plain fetch looks like.
func TestContentType(t *testing.T) {
	t.Parallel()
	storetest.Each(t, func(t *testing.T, open func(*testing.T) *store.DB) {
		t.Parallel()
		e := newEnvOn(t, open)
		for i, ct := range []string{"application/json", "application/json; charset=utf-8", "application/json; charset=UTF-8"} {
			body := `{"name":"Acme","domain":"a` + string(rune('a'+i)) + `.example.com"}`
			wantStatus(t, e.do(request{method: "POST", path: "/api/v1/accounts", body: body, contentType: ct}), http.StatusCreated)
		}
		for _, ct := range []string{"-", "text/plain", "application/json; charset=latin1", "application/json;;"} {
			body := `{"name":"Beta","domain":"beta.example.com"}`
			for _, path := range []string{"/api/v1/accounts", "/device/v1/register"} {
				a := e.do(request{method: "POST", path: path, body: body, contentType: ct})
				wantError(t, a, http.StatusUnsupportedMediaType, smartlic.EUnsupportedMT, "Content-Type")
			}
		}
		// A form is what the OAuth token endpoint takes, and it too must
		// say so.
		a := e.do(request{method: "POST", path: "/api/v1/oauth/token", auth: "-", body: "grant_type=client_credentials&client_id=nobody", contentType: "-"})
		wantError(t, a, http.StatusUnsupportedMediaType, smartlic.EUnsupportedMT, "Content-Type")
		wantError(t, e.do(request{method: "GET", path: "/api/v1/accounts/beta.example.com"}), http.StatusNotFound, smartlic.ENotFound, "sa")
	})
}

func readAll(t *testing.T, resp *http.Response) []byte {
	t.Helper()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// probeDoc is the part of the OpenAPI document the probes walk.
type probeDoc struct {
	Paths      map[string]map[string]*probeOp `json:"paths"`
	Components struct {
		Schemas map[string]*probeSchema `json:"schemas"`
	} `json:"components"`
}

type probeOp struct {
	Parameters []struct {
		Name string `json:"name"`
		In   string `json:"in"`
	} `json:"parameters"`
	RequestBody *struct {
		Content map[string]struct {
			Schema *probeSchema `json:"schema"`
		} `json:"content"`
	} `json:"requestBody"`
}

type probeSchema struct {
	Ref        string                  `json:"$ref"`
	Type       json.RawMessage         `json:"type"` // "string" or ["string","null"]
	Properties map[string]*probeSchema `json:"properties"`
	Items      *probeSchema            `json:"items"`
}

func (s *probeSchema) is(typ string) bool {
	var one string
	if json.Unmarshal(s.Type, &one) == nil {
		return one == typ
	}
	var many []string
	return json.Unmarshal(s.Type, &many) == nil && slices.Contains(many, typ)
}

func (e *env) probeDoc() probeDoc {
	e.t.Helper()
	b, err := e.srv.OpenAPI()
	if err != nil {
		e.t.Fatal(err)
	}
	var doc probeDoc
	if err := json.Unmarshal(b, &doc); err != nil {
		e.t.Fatal(err)
	}
	return doc
}

type probeRoute struct {
	method, path string
	op           *probeOp
}

// operations lists every documented operation, in a stable order.
func (d probeDoc) operations() []probeRoute {
	var out []probeRoute
	for path, item := range d.Paths {
		for method, op := range item {
			out = append(out, probeRoute{method: strings.ToUpper(method), path: path, op: op})
		}
	}
	slices.SortFunc(out, func(a, b probeRoute) int { return strings.Compare(a.path+" "+a.method, b.path+" "+b.method) })
	return out
}

func (d probeDoc) resolve(s *probeSchema) *probeSchema {
	if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
		if r := d.Components.Schemas[name]; r != nil {
			return r
		}
	}
	return s
}

// bodyField is one string somewhere in a request body: its name as the
// API reports it (lines[0].license) and the JSON value of the schema with
// a literal put there.
type bodyField struct {
	field string
	body  func(literal string) string
}

// stringFields lists every string a value of schema s can hold.
func (d probeDoc) stringFields(s *probeSchema, field string, depth int) []bodyField {
	if depth > 6 {
		return nil
	}
	s = d.resolve(s)
	var out []bodyField
	switch {
	case s.is("string"):
		out = append(out, bodyField{field, func(l string) string { return l }})
	case s.is("array") && s.Items != nil:
		for _, f := range d.stringFields(s.Items, field+"[0]", depth+1) {
			out = append(out, bodyField{f.field, func(l string) string { return "[" + f.body(l) + "]" }})
		}
	case s.is("object"):
		for _, name := range slices.Sorted(maps.Keys(s.Properties)) {
			child := name
			if field != "" {
				child = field + "." + name
			}
			key, _ := json.Marshal(name)
			for _, f := range d.stringFields(s.Properties[name], child, depth+1) {
				out = append(out, bodyField{f.field, func(l string) string { return "{" + string(key) + ":" + f.body(l) + "}" }})
			}
		}
	}
	return out
}

// TestCheckJSON names the field the way huma's validation does, at any
// depth, and leaves syntax errors to the decoder.
func TestCheckJSON(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ doc, field string }{
		{`{"name":"Acme","n":1,"ok":true,"x":null}`, ""},
		{`{"name":"a\u0000"}`, "name"},
		{"{\"name\":\"a\xff\"}", "name"},
		{`{"name":"a\ud800"}`, "name"},
		{`{"name":"a\ud83d\ude00"}`, ""}, // a surrogate pair is fine
		{`{"lines":[{"license":"ok"},{"license":"a\u0000"}]}`, "lines[1].license"},
		{`{"a":{"b":["x","\u0000"]}}`, "a.b[1]"},
		{`["\u0000"]`, "[0]"},
		{`"\u0000"`, "body"},
		{`{"a\u0000":1}`, "body"},
		{`{"a":{"b\u0000":1}}`, "a"},
		{`{"name":`, ""},        // truncated: the decoder's to report
		{`{"name":"a"} {}`, ""}, // trailing data: likewise
	} {
		err := httpapi.CheckJSON([]byte(tc.doc))
		switch {
		case tc.field == "" && err != nil:
			t.Errorf("CheckJSON(%q) = %v, want nil", tc.doc, err)
		case tc.field != "" && (smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != tc.field):
			t.Errorf("CheckJSON(%q) = %v, want invalid %s", tc.doc, err, tc.field)
		}
	}
}
