package web

import (
	"errors"
	"net/http"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi"
)

// errorView is the page of an error: 403, 404, 400, 409, 500.
type errorView struct {
	Shell
	Status  int
	Heading string
	Message string
	Code    string
}

// fail answers a page handler's error, the one place where codes become
// pages: unauthorized signs in again, not_found is the 404 page,
// forbidden the 403 page, and every other code takes the API's status
// (httpapi.StatusOf) with the service's message. Internal errors say
// nothing of their cause; the log has it, under the request id the page
// shows. Invalid input a form could not show beside a field lands here
// too, as a 400 page.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, s *Session, err error) {
	var e *smartlic.Error
	code := smartlic.ErrorCode(err)
	if code == smartlic.EUnauthorized {
		clearCookie(w, r, sessionCookie)
		h.toLogin(w, r)
		return
	}
	status := httpapi.StatusOf(code)
	v := &errorView{Status: status, Code: code, Message: smartlic.ErrorMessage(err)}
	switch {
	case status == http.StatusInternalServerError:
		h.log.ErrorContext(r.Context(), "internal error", "request_id", smartlic.RequestIDFrom(r.Context()), "code", code, "err", err)
		v.Heading = "Something went wrong"
		v.Message = "The server could not show this page. If it keeps happening, give your administrator this request id: " + smartlic.RequestIDFrom(r.Context())
	case code == smartlic.ENotFound:
		v.Heading = "Not found"
	case status == http.StatusForbidden:
		v.Heading = "Not allowed"
	case errors.As(err, &e) && e.Field != "":
		v.Heading = "That did not work"
		v.Message = e.Field + ": " + e.Message
	default:
		v.Heading = "That did not work"
	}
	v.Shell = h.errorShell(w, r, s, v.Heading)
	if rerr := h.render(w, r, status, "error", v); rerr != nil {
		h.log.ErrorContext(r.Context(), "render error page", "err", rerr)
		http.Error(w, v.Message, status)
	}
}

// notFound is the 404 page of a path no handler serves.
func (h *Handler) notFound(w http.ResponseWriter, r *http.Request) error {
	s, _ := h.session(w, r)
	h.fail(w, r, s, smartlic.NotFound("there is no page at %s", r.URL.Path))
	return nil
}

// errorShell is the header of an error page: the signed-in user's, when
// there is one, so they can navigate away.
func (h *Handler) errorShell(w http.ResponseWriter, r *http.Request, s *Session, title string) Shell {
	if s == nil {
		return Shell{Title: title}
	}
	sh, err := h.baseShell(w, r.WithContext(s.ctx(r.Context())), s)
	if err != nil {
		return Shell{Title: title}
	}
	sh.Title = title
	return sh
}
