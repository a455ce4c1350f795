package httpapi

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/validation"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

// Codes of errors that only the HTTP layer can make: the router's answers
// to a known path with an unknown method, and a body that did not arrive in
// time. Every other code is one of the root package's.
const (
	CodeMethodNotAllowed = "method_not_allowed"
	CodeRequestTimeout   = "request_timeout"
)

// statusOf is the one table from error code to HTTP status.
var statusOf = map[string]int{
	smartlic.EInvalid:        http.StatusBadRequest,
	smartlic.ESignature:      http.StatusBadRequest,
	smartlic.EUnauthorized:   http.StatusUnauthorized,
	smartlic.EForbidden:      http.StatusForbidden,
	smartlic.ETokenUnknown:   http.StatusForbidden,
	smartlic.ETokenExpired:   http.StatusForbidden,
	smartlic.ETokenRevoked:   http.StatusForbidden,
	smartlic.ETokenExhausted: http.StatusForbidden,
	smartlic.ELimitedUse:     http.StatusForbidden,
	smartlic.EExportControl:  http.StatusForbidden,
	smartlic.ENotRegistered:  http.StatusForbidden,
	smartlic.ENotFound:       http.StatusNotFound,
	CodeMethodNotAllowed:     http.StatusMethodNotAllowed,
	CodeRequestTimeout:       http.StatusRequestTimeout,
	CodeRateLimited:          http.StatusTooManyRequests,
	smartlic.EConflict:       http.StatusConflict,
	smartlic.ENotEmpty:       http.StatusConflict,
	smartlic.ETooLarge:       http.StatusRequestEntityTooLarge,
	smartlic.EUnsupportedMT:  http.StatusUnsupportedMediaType,
	smartlic.EDepthExceeded:  http.StatusUnprocessableEntity,
	smartlic.ECycle:          http.StatusUnprocessableEntity,
	smartlic.EInternal:       http.StatusInternalServerError,
	smartlic.ESchemaTooNew:   http.StatusInternalServerError,

	smartlic.EAlreadyConverted: http.StatusConflict,
	smartlic.EInsufficient:     http.StatusConflict,
	smartlic.ECodeInvalid:      http.StatusBadRequest,
	smartlic.EWrongDevice:      http.StatusConflict,
	smartlic.EReplayed:         http.StatusConflict,
	smartlic.ENotTrusted:       http.StatusForbidden,
	smartlic.EWrongAccount:     http.StatusForbidden,

	smartlic.ECodeOtherDevice:       http.StatusConflict,
	smartlic.ECodeStale:             http.StatusConflict,
	smartlic.EReservationClosed:     http.StatusConflict,
	smartlic.ESLACClosed:            http.StatusConflict,
	smartlic.EReservationNotAllowed: http.StatusForbidden,

	// RFC 8628 §3.5: the token endpoint answers these with 400.
	smartlic.EAuthorizationPending: http.StatusBadRequest,
	smartlic.ESlowDown:             http.StatusBadRequest,
	smartlic.EExpiredToken:         http.StatusBadRequest,
	smartlic.EAccessDenied:         http.StatusBadRequest,
}

// StatusOf returns the HTTP status of an error code; unknown codes are
// internal errors.
func StatusOf(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// ErrorResponse is the body of every error answer, whoever detects the
// error: a service, huma's request validation, the router, a panic. It is
// a huma.StatusError, so handlers return it and huma writes it.
type ErrorResponse struct {
	Detail  wire.ErrorBody `json:"error"`
	status  int
	headers http.Header // e.g. Retry-After; huma writes them with the answer
}

func (e *ErrorResponse) Error() string           { return e.Detail.Code + ": " + e.Detail.Message }
func (e *ErrorResponse) GetStatus() int          { return e.status }
func (e *ErrorResponse) GetHeaders() http.Header { return e.headers }

func newErrorResponse(code, field, message string) *ErrorResponse {
	return &ErrorResponse{status: StatusOf(code), Detail: wire.ErrorBody{Code: code, Field: field, Message: message}}
}

// errorResponse turns a service error into its answer. A 500 says nothing
// about its cause (a DSN, a query, a stack); the cause goes to the log with
// the request id that the client also sees.
func errorResponse(ctx context.Context, log *slog.Logger, err error) *ErrorResponse {
	var e *smartlic.Error
	if !errors.As(err, &e) || StatusOf(e.Code) == http.StatusInternalServerError {
		log.ErrorContext(ctx, "internal error", "request_id", RequestID(ctx), "code", smartlic.ErrorCode(err), "err", err)
		msg := "internal error"
		if e != nil && e.Code == smartlic.EInternal {
			msg = e.Message // smartlic.Internal keeps it generic on purpose
		}
		return newErrorResponse(smartlic.EInternal, "", msg)
	}
	resp := newErrorResponse(e.Code, e.Field, e.Message)
	resp.Detail.Tags = e.Tags
	var limited *retryAfterError
	if errors.As(err, &limited) {
		resp.headers = http.Header{"Retry-After": {limited.seconds()}}
	}
	return resp
}

// writeError writes e outside huma (router fallbacks, panics, auth).
func writeError(w http.ResponseWriter, e *ErrorResponse) {
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	w.WriteHeader(e.status)
	encodeError(w, e)
}

// encodeError writes e as huma's JSON format would (no HTML escaping).
func encodeError(w io.Writer, e *ErrorResponse) {
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(e)
}

// installHumaErrors makes huma build its own errors (schema validation, body
// too large, wrong content type) in our shape. huma.NewError and
// huma.NewErrorWithContext are package variables, not per-API settings, and
// huma reads NewError while registering operations (to document the error
// schema), so they must be set before the first huma.Register. They are set
// from New rather than from an init function so that importing httpapi
// alone changes nothing; the sync.Once makes concurrent New calls (parallel
// tests) safe. Every huma API in the process then answers in this shape,
// which is what we want: there is one error shape.
var installHumaErrors = sync.OnceFunc(func() {
	// JSON property names are matched exactly, as encoding/json with
	// DisallowUnknownFields would in spirit: {"Name":…} is an unknown field.
	huma.ValidateStrictCasing = true
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return humaError(status, msg, errs...)
	}
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		e := humaError(status, msg, errs...)
		if status == http.StatusRequestEntityTooLarge && ctx != nil && ctx.Operation() != nil {
			e.Detail.Message = fmt.Sprintf("request body is larger than %d bytes", bodyLimitOf(ctx.Operation()))
		}
		return e
	}
})

// humaError converts one of huma's errors. Schema violations are 422 in
// huma and "invalid" (400) here, like the same rule broken in the domain;
// Field is the failing location without its "body."/"query."/"path."
// prefix, so {"quantity": 0} and quantity 0 rejected by the manager read
// the same.
func humaError(status int, msg string, errs ...error) *ErrorResponse {
	var code string
	switch status {
	case 0: // huma's example instance, used only for its type
		return &ErrorResponse{}
	case http.StatusBadRequest, http.StatusUnprocessableEntity:
		code = smartlic.EInvalid
	case http.StatusUnauthorized:
		code = smartlic.EUnauthorized
	case http.StatusForbidden:
		code = smartlic.EForbidden
	case http.StatusNotFound:
		code = smartlic.ENotFound
	case http.StatusMethodNotAllowed:
		code = CodeMethodNotAllowed
	case http.StatusRequestTimeout:
		code = CodeRequestTimeout
	case http.StatusConflict:
		code = smartlic.EConflict
	case http.StatusRequestEntityTooLarge:
		code = smartlic.ETooLarge
	case http.StatusUnsupportedMediaType:
		code = smartlic.EUnsupportedMT
	default:
		if status >= 500 {
			return newErrorResponse(smartlic.EInternal, "", "internal error")
		}
		code = smartlic.EInvalid
	}
	e := newErrorResponse(code, "", msg)
	var details []*huma.ErrorDetail
	for _, err := range errs {
		if d, ok := err.(huma.ErrorDetailer); ok {
			details = append(details, d.ErrorDetail())
		} else if err != nil {
			details = append(details, &huma.ErrorDetail{Message: err.Error()})
		}
	}
	switch code {
	case smartlic.EUnsupportedMT:
		e.Detail.Message = "request body must be application/json"
		if len(details) > 0 {
			e.Detail.Message += " (" + details[0].Message + ")"
		}
		return e
	case smartlic.EInvalid:
		if len(details) == 0 {
			return e
		}
		var more []string
		for i, d := range details {
			field, message := fieldOf(d)
			if i == 0 {
				e.Detail.Field, e.Detail.Message = field, message
				continue
			}
			more = append(more, field+": "+message)
		}
		if len(more) > 0 {
			e.Detail.Message += "; also " + strings.Join(more, "; ")
		}
	}
	return e
}

// fieldOf names the input a huma validation detail is about. A missing
// property is reported at its parent object, so the name comes from the
// message.
func fieldOf(d *huma.ErrorDetail) (field, message string) {
	field, message = d.Location, plainNumbers(d.Message)
	if name, ok := requiredProperty(message); ok {
		if field == "body" || field == "" {
			field = name
		} else {
			field += "." + name
		}
		message = "is required"
	}
	for _, prefix := range []string{"body.", "query.", "path.", "header."} {
		if rest, ok := strings.CutPrefix(field, prefix); ok {
			return rest, message
		}
	}
	return field, message
}

// exponentNumber is a number as huma's messages print a float64 limit
// ("expected number <= 1e+09").
var exponentNumber = regexp.MustCompile(`\b\d+(?:\.\d+)?e[+-]?\d+\b`)

// plainNumbers writes whole numbers in exponent form out in digits, as a
// person types them: "<= 1e+09" becomes "<= 1000000000".
func plainNumbers(msg string) string {
	return exponentNumber.ReplaceAllStringFunc(msg, func(n string) string {
		f, err := strconv.ParseFloat(n, 64)
		if err != nil || f != math.Trunc(f) || math.Abs(f) > 1<<53 {
			return n
		}
		return strconv.FormatInt(int64(f), 10)
	})
}

var requiredPrefix, requiredSuffix, _ = strings.Cut(validation.MsgExpectedRequiredProperty, "%s")

func requiredProperty(msg string) (string, bool) {
	rest, ok := strings.CutPrefix(msg, requiredPrefix)
	if !ok {
		return "", false
	}
	name, ok := strings.CutSuffix(rest, requiredSuffix)
	return name, ok && name != ""
}
