package web

import (
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// notifyView is Administration › Notifications: who receives the
// account's alerts by e-mail, how often and which, and the form that sets
// a recipient's preference (the signed-in user's own by default).
type notifyView struct {
	Shell
	Prefs          []prefRow
	Form           *Form
	FreqSelect     selectView
	AlertTypes     []checkView
	VAs            []checkView
	TypesError     string
	VAsError       string
	EditingAddress string
}

type prefRow struct {
	Email, Frequency, Types, VAs string
	LastSentAt                   *time.Time
}

// checkView is one checkbox of a group (alert types, Virtual Accounts).
type checkView struct {
	ID, Name, Value, Label string
	Checked                bool
}

var frequencies = []option{
	{Value: string(smartlic.Immediate), Label: "Immediately, one e-mail per new alert"},
	{Value: string(smartlic.Daily), Label: "Daily summary"},
	{Value: string(smartlic.Weekly), Label: "Weekly summary"},
}

func (h *Handler) notificationsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	return h.renderNotifications(w, r, s, http.StatusOK, nil)
}

func (h *Handler) renderNotifications(w http.ResponseWriter, r *http.Request, s *Session, status int, f *Form) error {
	sh, err := h.adminShell(w, r, s, r.PathValue("sa"), "Notifications")
	if err != nil {
		return err
	}
	prefs, err := h.svc.ListNotificationPreferences(r.Context(), sh.SA.ID)
	if err != nil {
		return err
	}
	names := vaNames(sh)
	if f == nil {
		// The form starts with the preference of the address asked for
		// (Edit), else the signed-in user's, else a daily summary of all.
		email := r.URL.Query().Get("email")
		if email == "" {
			email = s.Actor.Email
		}
		f = newForm(url.Values{"email": {email}, "frequency": {string(smartlic.Daily)}})
		for _, p := range prefs {
			if strings.EqualFold(p.Email, email) {
				f.Values["frequency"] = []string{string(p.Frequency)}
				for _, t := range p.AlertTypes {
					f.Values.Add("alert_types", string(t))
				}
				for _, id := range p.VirtualAccounts {
					f.Values.Add("virtual_accounts", names[id])
				}
			}
		}
	}
	v := &notifyView{Shell: sh, Form: f, FreqSelect: choose(f, "frequency", "How often", "", frequencies),
		TypesError: f.Errors["alert_types"], VAsError: f.Errors["virtual_accounts"]}
	for _, t := range smartlic.AlertTypes {
		v.AlertTypes = append(v.AlertTypes, checkView{ID: "f-type-" + strings.ReplaceAll(string(t), ".", "-"), Name: "alert_types", Value: string(t),
			Label: alertTypeLabel(t), Checked: slices.Contains(f.Values["alert_types"], string(t))})
	}
	for i, o := range vaOptions(sh.Tree, 0) {
		v.VAs = append(v.VAs, checkView{ID: "f-va-" + strconv.Itoa(i), Name: "virtual_accounts", Value: o.Value, Label: o.Value,
			Checked: slices.Contains(f.Values["virtual_accounts"], o.Value)})
	}
	for _, p := range prefs {
		row := prefRow{Email: p.Email, Frequency: string(p.Frequency), Types: "All alerts", VAs: "The whole account", LastSentAt: p.LastSentAt}
		if len(p.AlertTypes) > 0 {
			var ts []string
			for _, t := range p.AlertTypes {
				ts = append(ts, alertTypeLabel(t))
			}
			row.Types = strings.Join(ts, ", ")
		}
		if len(p.VirtualAccounts) > 0 {
			var vs []string
			for _, id := range p.VirtualAccounts {
				vs = append(vs, names[id])
			}
			row.VAs = strings.Join(vs, ", ")
		}
		v.Prefs = append(v.Prefs, row)
	}
	return h.render(w, r, status, "admin-notifications", v)
}

// alertTypeLabels say what each alert type is about.
var alertTypeLabels = map[smartlic.AlertType]string{
	smartlic.AlertInsufficient:         "Licenses insufficient",
	smartlic.AlertExpired:              "Licenses expired",
	smartlic.AlertExpiring30:           "Licenses expiring within 30 days",
	smartlic.AlertExpiring60:           "Licenses expiring within 60 days",
	smartlic.AlertExpiring90:           "Licenses expiring within 90 days",
	smartlic.AlertReportOverdue:        "Product instance has not reported",
	smartlic.AlertRenewalFailing:       "Product instance fails to renew",
	smartlic.AlertIDCertExpired:        "Product instance ID certificate expired",
	smartlic.AlertReservationPending:   "Reservation pending",
	smartlic.AlertSatelliteSyncOverdue: "Satellite synchronisation overdue",
}

func alertTypeLabel(t smartlic.AlertType) string {
	if l, ok := alertTypeLabels[t]; ok {
		return l
	}
	return string(t)
}

// setNotificationPreference creates or replaces a recipient's preference.
func (h *Handler) setNotificationPreference(w http.ResponseWriter, r *http.Request, s *Session) error {
	f := newForm(r.PostForm)
	in := smartlic.NotificationPreferenceInput{Email: strings.TrimSpace(f.Get("email")), Frequency: smartlic.Frequency(f.Get("frequency")),
		VirtualAccounts: f.Values["virtual_accounts"]}
	for _, t := range f.Values["alert_types"] {
		in.AlertTypes = append(in.AlertTypes, smartlic.AlertType(t))
	}
	p, err := h.svc.SetNotificationPreference(r.Context(), r.PathValue("sa"), in)
	if bindAll(f, err) {
		return h.renderNotifications(w, r, s, http.StatusBadRequest, f)
	}
	if err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(r.PathValue("sa"))+"/admin/notifications", "Notifications to "+p.Email+" saved.")
}

// deleteNotificationPreference stops notifications to one address.
func (h *Handler) deleteNotificationPreference(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, email := r.PathValue("sa"), r.PostFormValue("email")
	if err := h.svc.DeleteNotificationPreference(r.Context(), sa, email); err != nil {
		return err
	}
	return redirectWithFlash(w, r, saPath(sa)+"/admin/notifications", "No more notifications to "+email+".")
}
