package web

import (
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
)

// maxFormBytes bounds a posted form; the portal's forms are a few fields.
const maxFormBytes = 64 << 10

// Form is what a user typed and what was wrong with it. Input names are
// the API's JSON field names (description, expires_in_days, …), so the
// Field of a service's error names the input it belongs beside.
type Form struct {
	Values url.Values
	Errors map[string]string // input name → message; "" for the form as a whole
}

func newForm(v url.Values) *Form {
	if v == nil {
		v = url.Values{}
	}
	return &Form{Values: v, Errors: map[string]string{}}
}

// Get returns what the user typed in name.
func (f *Form) Get(name string) string { return f.Values.Get(name) }

// Bind puts an invalid-input error from a service beside its field (or
// above the form when it names none) and reports whether it did; any
// other error is the caller's to return.
//
//	if _, err := h.svc.CreateToken(ctx, sa, va, in); f.Bind(err) {
//		return h.render(w, r, http.StatusBadRequest, "general", view)
//	} else if err != nil {
//		return err
//	}
func (f *Form) Bind(err error) bool {
	var e *smartlic.Error
	if !errors.As(err, &e) || e.Code != smartlic.EInvalid {
		return false
	}
	field := e.Field
	if _, typed := f.Values[field]; !typed {
		field = "" // a field this form does not have: say it above the form
	}
	msg := e.Message
	if field == "" && e.Field != "" {
		msg = e.Field + ": " + msg
	}
	f.Errors[field] = msg
	return true
}

// Int reads an integer input; empty is 0. A malformed number becomes an
// error beside the field, in the API's words.
func (f *Form) Int(name string) int64 {
	s := strings.TrimSpace(f.Get(name))
	if s == "" {
		return 0
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		f.Errors[name] = "must be a whole number (got " + strconv.Quote(s) + ")"
	}
	return n
}

// OptionalInt reads an integer input that may be left empty (nil).
func (f *Form) OptionalInt(name string) *int64 {
	if strings.TrimSpace(f.Get(name)) == "" {
		return nil
	}
	n := f.Int(name)
	return &n
}

// Bool reads a checkbox.
func (f *Form) Bool(name string) bool { return f.Get(name) != "" }

// parseForm reads a posted form, at most maxFormBytes, and applies the
// API's edge check (httpapi.CheckValues): names are identifiers, values
// valid UTF-8 text without NUL, so both stores see the same input. Names
// and descriptions have stricter rules in the services.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return smartlic.Errorf(smartlic.ETooLarge, "", "the form is larger than %d bytes", maxFormBytes)
		}
		return smartlic.Invalid("", "the form could not be read: %v", err)
	}
	return httpapi.CheckValues(r.PostForm, smartlic.ValidateText)
}
