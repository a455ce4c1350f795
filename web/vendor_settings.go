package web

import (
	"net/http"
	"net/url"

	"github.com/smartlic/smartlic"
)

// The vendor's per-account and per-product settings of reservation and
// export control: Allow/Forbid buttons on Vendor › Smart Accounts, and
// the PLR setting on a product's page. Each button posts one setting and
// comes back to the page it was on; the service records the change in the
// account's (or the vendor's) event log.

func (h *Handler) vendorSettingRoutes() {
	h.page("POST /vendor/accounts/{sa}/export-control", h.setAccountExportControl)
	h.page("POST /vendor/accounts/{sa}/permanent-reservation", h.setAccountPLR)
	h.page("POST /vendor/catalog/products/{pid}/permanent-reservation", h.setProductPLR)
}

// accountSettings is what the accounts table shows of one Smart Account.
type accountSettings struct {
	ExportControl bool
	Permanent     bool
}

// accountSettingsOf reads the settings of the accounts a page lists: the
// accounts allowed export control in one call, PLR per account (a page
// lists at most accountsPerPage).
func (h *Handler) accountSettingsOf(r *http.Request, accounts []smartlic.SmartAccount) (map[string]accountSettings, error) {
	allowed, err := h.svc.ListExportControls(r.Context())
	if err != nil {
		return nil, err
	}
	out := make(map[string]accountSettings, len(accounts))
	for _, e := range allowed {
		if e.Allowed {
			out[e.SmartAccountID] = accountSettings{ExportControl: true}
		}
	}
	for _, sa := range accounts {
		rs, err := h.svc.ReservationSettingsOfAccount(r.Context(), sa.ID)
		if err != nil {
			return nil, err
		}
		s := out[sa.ID]
		s.Permanent = rs.Permanent
		out[sa.ID] = s
	}
	return out, nil
}

// back is the page a setting's button was on: the accounts page keeps its
// place in the list.
func back(r *http.Request, base string) string {
	if after := r.PostForm.Get("after"); after != "" {
		return base + "?after=" + url.QueryEscape(after)
	}
	return base
}

func (h *Handler) setAccountExportControl(w http.ResponseWriter, r *http.Request, s *Session) error {
	allowed, err := onOffValue(r, "allowed")
	if err != nil {
		return err
	}
	e, err := h.svc.SetExportControl(r.Context(), r.PathValue("sa"), allowed)
	if err != nil {
		return err
	}
	msg := "Export-controlled functionality allowed for " + e.SmartAccount + ": SLACs can be issued to its devices."
	if !allowed {
		msg = "Export-controlled functionality forbidden for " + e.SmartAccount + ": no more SLACs are issued; those issued stay until returned."
	}
	return redirectWithFlash(w, r, back(r, "/vendor/accounts"), msg)
}

func (h *Handler) setAccountPLR(w http.ResponseWriter, r *http.Request, s *Session) error {
	on, err := onOffValue(r, "permanent")
	if err != nil {
		return err
	}
	sa := r.PathValue("sa")
	if _, err := h.svc.SetReservationSettingsOfAccount(r.Context(), sa, smartlic.ReservationSettings{Permanent: on}); err != nil {
		return err
	}
	msg := "Permanent License Reservation enabled for " + sa + "."
	if !on {
		msg = "Permanent License Reservation disabled for " + sa + "; existing permanent reservations stay."
	}
	return redirectWithFlash(w, r, back(r, "/vendor/accounts"), msg)
}

func (h *Handler) setProductPLR(w http.ResponseWriter, r *http.Request, s *Session) error {
	on, err := onOffValue(r, "permanent")
	if err != nil {
		return err
	}
	pid := r.PathValue("pid")
	if _, err := h.svc.SetReservationSettingsOfProduct(r.Context(), pid, smartlic.ReservationSettings{Permanent: on}); err != nil {
		return err
	}
	msg := "Permanent License Reservation enabled for product " + pid + "."
	if !on {
		msg = "Permanent License Reservation disabled for product " + pid + "; existing permanent reservations stay."
	}
	return redirectWithFlash(w, r, "/vendor/catalog/products/"+url.PathEscape(pid), msg)
}

// onOffValue reads a button's value: "1" or "0", nothing else.
func onOffValue(r *http.Request, name string) (bool, error) {
	switch r.PostForm.Get(name) {
	case "1":
		return true, nil
	case "0":
		return false, nil
	}
	return false, smartlic.Invalid(name, "must be 1 or 0 (got %q)", r.PostForm.Get(name))
}
