package web

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
)

// reservationsView is the Reserve licenses page: turn a device's request
// code into an authorization code with quantities from a VA's pool, enter
// the device's return or confirmation codes, and list the reservations.
type reservationsView struct {
	Shell
	VA           selectView // the pool the quantities come from (a GET form)
	VAName       string
	Pools        []reservablePool
	Form         *Form // the reservation form
	CodeForm     *Form // return and confirmation codes
	Reservations []smartlic.Reservation
	Pager        Pager
	UDI, Status  string
	Statuses     []string
	ListNote     string
}

// reservablePool is a row of the quantities table: a license type of the
// chosen VA and the input of its quantity.
type reservablePool struct {
	smartlic.Pool
	Input, Value, Error string
}

// reservationView is one reservation: its authorization code with a Copy
// button, the update form and, for administrators, cancellation.
type reservationView struct {
	Shell
	R          smartlic.Reservation
	Open       bool
	Pools      []reservablePool
	Form       *Form // update
	CancelForm *Form
	// CanCancel: the caller administers the reservation's VA (or the
	// account), who alone may cancel without a return code.
	CanCancel bool
}

const reservationsPerPage = 25

func (h *Handler) reservationRoutes() {
	h.page("GET /sa/{sa}/reservations", func(w http.ResponseWriter, r *http.Request, s *Session) error {
		return h.renderReservations(w, r, s, http.StatusOK, newForm(nil), newForm(nil))
	})
	h.page("POST /sa/{sa}/reservations", h.createReservation)
	h.page("POST /sa/{sa}/reservations/codes", h.enterReservationCode)
	h.page("GET /sa/{sa}/reservations/{id}", func(w http.ResponseWriter, r *http.Request, s *Session) error {
		return h.renderReservation(w, r, s, http.StatusOK, newForm(nil), newForm(nil))
	})
	h.page("POST /sa/{sa}/reservations/{id}/update", h.updateReservation)
	h.page("POST /sa/{sa}/reservations/{id}/cancel", h.cancelReservation)
}

func reservationsPath(sa string) string { return saPath(sa) + "/reservations" }

// quantityInput is the name of the quantity input of license type tag.
func quantityInput(tag string) string { return "qty-" + tag }

// poolsFor lists the VA's pools as rows of the quantities table, with what
// the form holds.
func (h *Handler) poolsFor(r *http.Request, sa, va string, f *Form) ([]reservablePool, error) {
	pools, err := h.svc.ListPools(r.Context(), sa, va, false)
	if err != nil {
		return nil, err
	}
	out := make([]reservablePool, 0, len(pools))
	for _, p := range pools {
		in := quantityInput(p.LicenseTag)
		out = append(out, reservablePool{Pool: p, Input: in, Value: f.Get(in), Error: f.Errors[in]})
	}
	return out, nil
}

func (h *Handler) renderReservations(w http.ResponseWriter, r *http.Request, s *Session, status int, f, codes *Form) error {
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	sh.Title = "Reserve licenses · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Reserve licenses", Current: true})
	q := r.URL.Query()
	v := &reservationsView{Shell: sh, Form: f, CodeForm: codes, UDI: strings.TrimSpace(q.Get("udi")), Status: q.Get("status"),
		Statuses: []string{"open", "closed", "authorized", "updating", "installed", "returned", "cancelled"}}

	vas := vaOptions(sh.Tree, 0)
	va := f.Get("va")
	if va == "" {
		va = q.Get("va")
	}
	if va == "" && len(vas) > 0 {
		va = vas[0].Value
	}
	v.VAName = va
	v.VA = choose(newForm(url.Values{"va": {va}}), "va", "Virtual Account", "The licenses are reserved from this Virtual Account's pool.", vas)
	if va != "" {
		if v.Pools, err = h.poolsFor(r, sh.SA.Domain, va, f); err != nil {
			return err
		}
	}

	after := q.Get("after")
	list, next, err := h.svc.ListReservations(r.Context(), sh.SA.Domain, smartlic.ReservationFilter{UDI: v.UDI, Status: v.Status},
		smartlic.Page{Limit: reservationsPerPage, After: after})
	switch smartlic.ErrorCode(err) {
	case "":
		v.Reservations, v.Pager = list, pager(r, after, next)
	case smartlic.EInvalid:
		v.ListNote = smartlic.ErrorMessage(err)
	default:
		return err
	}
	return h.render(w, r, status, "reservations", v)
}

// bindReservationError shows a service refusal beside the input it is
// about; it reports false for errors that are not about the input.
func bindReservationError(f *Form, err error, pools []reservablePool) bool {
	var e *smartlic.Error
	if err == nil || !errors.As(err, &e) {
		return false
	}
	switch {
	case e.Code == smartlic.EInternal, e.Code == smartlic.EForbidden && e.Field == "", e.Code == smartlic.ENotFound && e.Field == "":
		return false
	case e.Field == "request_code" || e.Field == "code" || e.Field == "permanent" || e.Field == "reason":
		f.Errors[e.Field] = e.Message
	case strings.HasPrefix(e.Field, "licenses"):
		// licenses[i].quantity: beside that row's input when the form
		// named it, else above the table.
		f.Errors["licenses"] = e.Message
	default:
		f.Errors[""] = e.Message
	}
	return true
}

// licenseLines reads the quantities table: every row with a quantity.
func licenseLines(f *Form, pools []reservablePool) []smartlic.LicenseRequest {
	var out []smartlic.LicenseRequest
	for _, p := range pools {
		if strings.TrimSpace(f.Get(p.Input)) == "" {
			continue
		}
		if n := f.Int(p.Input); n != 0 {
			out = append(out, smartlic.LicenseRequest{Tag: p.LicenseTag, Quantity: n})
		}
	}
	return out
}

func (h *Handler) createReservation(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	f := newForm(r.PostForm)
	pools, err := h.poolsFor(r, sa, f.Get("va"), f)
	if err != nil {
		return err
	}
	in := smartlic.ReservationInput{VirtualAccount: f.Get("va"), RequestCode: f.Get("request_code"), Permanent: f.Bool("permanent"), Licenses: licenseLines(f, pools)}
	if len(f.Errors) > 0 {
		return h.renderReservations(w, r, s, http.StatusBadRequest, f, newForm(nil))
	}
	res, err := h.svc.CreateReservation(r.Context(), sa, in)
	if bindReservationError(f, err, pools) {
		return h.renderReservations(w, r, s, http.StatusBadRequest, f, newForm(nil))
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, reservationsPath(sa)+"/"+url.PathEscape(res.ID),
		fmt.Sprintf("Licenses reserved for %s. Enter the authorization code on the device.", res.UDI))
}

// enterReservationCode takes a device's return or confirmation code; its
// kind prefix says which.
func (h *Handler) enterReservationCode(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa := r.PathValue("sa")
	f := newForm(r.PostForm)
	code := f.Get("code")
	var (
		res  smartlic.Reservation
		err  error
		done string
	)
	switch rescode.KindOf(code) {
	case rescode.KindConfirmation:
		res, err = h.svc.ConfirmReservation(r.Context(), sa, code)
		done = "the device confirmed authorization %d"
	default: // a return code, or whatever the service says this is
		res, err = h.svc.ReturnReservation(r.Context(), sa, code)
		done = "returned: its licenses are back in the pool (it had authorization %d)"
	}
	if bindReservationError(f, err, nil) {
		return h.renderReservations(w, r, s, http.StatusBadRequest, newForm(nil), f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, reservationsPath(sa)+"/"+url.PathEscape(res.ID),
		fmt.Sprintf("Reservation for %s: "+done+".", res.UDI, max(res.Confirmed, res.Sequence)))
}

func (h *Handler) renderReservation(w http.ResponseWriter, r *http.Request, s *Session, status int, f, cancel *Form) error {
	sh, err := h.accountShell(w, r, s, r.PathValue("sa"))
	if err != nil {
		return err
	}
	res, err := h.svc.GetReservation(r.Context(), sh.SA.Domain, r.PathValue("id"))
	if err != nil {
		return err
	}
	sh.Title = "Reservation " + res.UDI.String() + " · " + sh.SA.Name
	sh.Crumbs = append(sh.Crumbs, NavLink{Label: "Reserve licenses", Path: reservationsPath(sh.SA.Domain)}, NavLink{Label: res.UDI.String(), Current: true})
	v := &reservationView{Shell: sh, R: res, Open: res.Status.Open(), Form: f, CancelForm: cancel, CanCancel: administers(sh, res.VirtualAccountID)}
	if v.Open && res.Kind == smartlic.ReservationSpecific {
		if len(f.Values) == 0 {
			for _, l := range res.Licenses {
				f.Values.Set(quantityInput(l.LicenseTag), itoa(l.Quantity))
			}
		}
		if v.Pools, err = h.poolsFor(r, sh.SA.Domain, res.VirtualAccountID, f); err != nil {
			return err
		}
	}
	return h.render(w, r, status, "reservation", v)
}

func (h *Handler) updateReservation(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, id := r.PathValue("sa"), r.PathValue("id")
	f := newForm(r.PostForm)
	cur, err := h.svc.GetReservation(r.Context(), sa, id)
	if err != nil {
		return err
	}
	pools, err := h.poolsFor(r, sa, cur.VirtualAccountID, f)
	if err != nil {
		return err
	}
	lines := licenseLines(f, pools)
	if len(f.Errors) > 0 {
		return h.renderReservation(w, r, s, http.StatusBadRequest, f, newForm(nil))
	}
	res, err := h.svc.UpdateReservation(r.Context(), sa, id, lines)
	if bindReservationError(f, err, pools) {
		return h.renderReservation(w, r, s, http.StatusBadRequest, f, newForm(nil))
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, reservationsPath(sa)+"/"+url.PathEscape(res.ID),
		fmt.Sprintf("Authorization code %d issued: install it on the device, then enter its confirmation code.", res.Sequence))
}

func (h *Handler) cancelReservation(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, id := r.PathValue("sa"), r.PathValue("id")
	f := newForm(r.PostForm)
	res, err := h.svc.CancelReservation(r.Context(), sa, id, f.Get("reason"))
	if bindReservationError(f, err, nil) {
		return h.renderReservation(w, r, s, http.StatusBadRequest, newForm(nil), f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, reservationsPath(sa)+"/"+url.PathEscape(res.ID),
		fmt.Sprintf("Reservation for %s cancelled; its licenses are back in the pool.", res.UDI))
}
