package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// eventsPerPage is the length of the event list; maxCSVEvents bounds one
// download (narrow a larger one by time).
const (
	eventsPerPage = 50
	maxCSVEvents  = 100_000
)

// eventsView is Inventory › Event Log: the Smart Account's hash-chained
// log, narrowed to the VA (or the whole account), a time range, a type and
// an actor; the CSV of the same; and the verdict of "Verify chain".
type eventsView struct {
	Shell
	Filter   *Form
	Account  bool // the whole Smart Account, not only this VA
	Events   []smartlic.Event
	Pager    Pager
	CSV      string
	Verify   string // link that verifies
	Verdicts []smartlic.ChainVerdict
	Verified bool
	Hidden   string // why the log is not shown
}

func (h *Handler) eventsPage(w http.ResponseWriter, r *http.Request, s *Session) error {
	sa, va := r.PathValue("sa"), r.PathValue("va")
	q := r.URL.Query()
	if q.Get("format") == "csv" {
		return h.eventsCSV(w, r, sa, va)
	}
	sh, err := h.vaShell(w, r, s, sa, va, "events")
	if err != nil {
		return err
	}
	sh.Title = sh.VA.Name + " · Event Log"
	v := &eventsView{Shell: sh, Filter: newForm(q), Account: q.Get("scope") == "account",
		CSV: queryWith(r, "format", "csv", "after", "", "verify", ""), Verify: queryWith(r, "verify", "1", "after", "")}
	f, ferr := eventFilter(v.Filter, sh.VA.ID)
	if ferr != nil {
		return ferr
	}
	if len(v.Filter.Errors) == 0 {
		after := q.Get("after")
		evs, next, err := h.svc.ListEvents(r.Context(), sh.SA.ID, f, smartlic.Page{Limit: eventsPerPage, After: after})
		switch {
		case smartlic.ErrorCode(err) == smartlic.EForbidden:
			v.Hidden = smartlic.ErrorMessage(err)
			return h.render(w, r, http.StatusOK, "events", v)
		case v.Filter.Bind(err):
		case err != nil:
			return err
		default:
			v.Events, v.Pager = evs, pager(r, after, next)
		}
	}
	if q.Get("verify") == "1" {
		if v.Verdicts, err = h.svc.VerifyEvents(r.Context(), sh.SA.ID); err != nil {
			return err
		}
		v.Verified = true
	}
	status := http.StatusOK
	if len(v.Filter.Errors) > 0 {
		status = http.StatusBadRequest
	}
	return h.render(w, r, status, "events", v)
}

// eventFilter reads the filter form: dates are whole days in UTC, and
// "to" includes its day. A malformed date is an error beside its field.
func eventFilter(f *Form, vaID string) (smartlic.EventFilter, error) {
	out := smartlic.EventFilter{Actor: strings.TrimSpace(f.Get("actor")), Type: strings.TrimSpace(f.Get("type"))}
	if f.Get("scope") != "account" {
		out.VirtualAccountID = vaID
	}
	for _, d := range []struct {
		name string
		out  *time.Time
		add  int
	}{{"from", &out.From, 0}, {"to", &out.To, 1}} {
		in := strings.TrimSpace(f.Get(d.name))
		if in == "" {
			continue
		}
		t, err := time.Parse(time.DateOnly, in)
		if err != nil {
			f.Errors[d.name] = "must be a date such as 2026-11-23 (got " + strconv.Quote(in) + ")"
			continue
		}
		*d.out = t.AddDate(0, 0, d.add)
	}
	if !out.From.IsZero() && !out.To.IsZero() && !out.To.After(out.From) {
		f.Errors["to"] = "must be on or after the first day"
	}
	return out, nil
}

// eventsCSV downloads the filtered log, every page of it, with the API
// export's columns.
func (h *Handler) eventsCSV(w http.ResponseWriter, r *http.Request, sa, va string) error {
	v, err := h.svc.GetVirtualAccount(r.Context(), sa, va)
	if err != nil {
		return err
	}
	form := newForm(r.URL.Query())
	f, _ := eventFilter(form, v.ID)
	for name, msg := range form.Errors {
		return smartlic.Invalid(name, "%s", msg)
	}
	t := smartlic.Table{Header: []string{"seq", "at", "type", "virtual_account_id", "subject", "message", "actor_email", "actor_id", "actor_role", "request_id", "prev_hash", "hash"}}
	for after := ""; ; {
		evs, next, err := h.svc.ListEvents(r.Context(), sa, f, smartlic.Page{Limit: smartlic.MaxPageLimit, After: after})
		if err != nil {
			return err
		}
		for _, e := range evs {
			t.Rows = append(t.Rows, []string{itoa(e.Seq), e.At.UTC().Format(time.RFC3339Nano), e.Type, e.VirtualAccountID, e.Subject, e.Message,
				e.ActorEmail, e.ActorID, e.ActorRole, e.RequestID, e.PrevHash, e.Hash})
		}
		if len(t.Rows) > maxCSVEvents {
			return smartlic.Invalid("to", "the download would exceed %d events; narrow it by date", maxCSVEvents)
		}
		if next == "" {
			break
		}
		after = next
	}
	return writeCSV(w, "events-"+url.PathEscape(v.Name)+".csv", t)
}
