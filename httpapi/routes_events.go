package httpapi

import (
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"strconv"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/httpapi/wire"
)

// The event inputs spell their filters out: huma reads parameters from
// exported fields only, and an embedded unexported struct is not one.
type eventPage struct {
	SA      string `path:"sa" doc:"Smart Account id or domain, or \"vendor\" for the vendor's own log"`
	VA      string `query:"va" maxLength:"100" doc:"Only events of this Virtual Account (id or name)"`
	Actor   string `query:"actor" maxLength:"320" doc:"Only events by this actor (e-mail or id)"`
	Type    string `query:"type" maxLength:"100" doc:"Only events of this type, or of a type prefix ending in '.' (token.)"`
	Subject string `query:"subject" maxLength:"100" doc:"Only events about this subject (an instance's id, say)"`
	From    string `query:"from" maxLength:"40" doc:"Only events at or after this time (RFC 3339)"`
	To      string `query:"to" maxLength:"40" doc:"Only events before this time (RFC 3339)"`
	Limit   int    `query:"limit" minimum:"1" maximum:"1000" default:"100" doc:"Items per page"`
	After   string `query:"after" maxLength:"100" doc:"Cursor: the next value of the previous page"`
}

type eventExport struct {
	SA      string `path:"sa" doc:"Smart Account id or domain, or \"vendor\" for the vendor's own log"`
	VA      string `query:"va" maxLength:"100" doc:"Only events of this Virtual Account (id or name)"`
	Actor   string `query:"actor" maxLength:"320" doc:"Only events by this actor (e-mail or id)"`
	Type    string `query:"type" maxLength:"100" doc:"Only events of this type, or of a type prefix ending in '.' (token.)"`
	Subject string `query:"subject" maxLength:"100" doc:"Only events about this subject (an instance's id, say)"`
	From    string `query:"from" maxLength:"40" doc:"Only events at or after this time (RFC 3339)"`
	To      string `query:"to" maxLength:"40" doc:"Only events before this time (RFC 3339)"`
	Format  string `query:"format" enum:"json,csv" default:"json" doc:"json (an array) or csv (a header row, then one row per event)"`
}

func (q *eventPage) filter() (smartlic.EventFilter, error) {
	return eventFilter(q.VA, q.Actor, q.Type, q.Subject, q.From, q.To)
}

func (q *eventExport) filter() (smartlic.EventFilter, error) {
	return eventFilter(q.VA, q.Actor, q.Type, q.Subject, q.From, q.To)
}

func eventFilter(va, actor, typ, subject, from, to string) (smartlic.EventFilter, error) {
	f := smartlic.EventFilter{VirtualAccountID: va, Actor: actor, Type: typ, Subject: subject}
	for _, t := range []struct {
		name, in string
		out      *time.Time
	}{{"from", from, &f.From}, {"to", to, &f.To}} {
		if t.in == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.in)
		if err != nil {
			return f, smartlic.Invalid(t.name, "must be an RFC 3339 time such as 2026-11-23T00:00:00Z (got %q)", t.in)
		}
		*t.out = v
	}
	return f, nil
}

type exportBody struct {
	ContentType        string `header:"Content-Type"`
	ContentDisposition string `header:"Content-Disposition"`
	Body               []byte
}

// MaxAnchorBodyBytes bounds a signed heads document sent back for
// verification: about 270 bytes a chain, so room for some 100,000 chains.
const MaxAnchorBodyBytes = 32 << 20

// maxExportEvents bounds one export; narrow a larger log with from/to.
const maxExportEvents = 200_000

func (s *Server) registerEventRoutes() {
	svc := s.svc
	const events = "/api/v1/accounts/{sa}/events"
	handle(s, route{method: get, path: events, id: "list-events", summary: "List a Smart Account's event log, oldest first", tag: "events"},
		func(ctx context.Context, in *eventPage) (*body[wire.Page[smartlic.Event]], error) {
			f, err := in.filter()
			if err != nil {
				return nil, err
			}
			return page(svc.ListEvents(ctx, in.SA, f, smartlic.Page{Limit: in.Limit, After: in.After}))
		})
	handle(s, route{method: get, path: events + "/export", id: "export-events", summary: "Export a Smart Account's event log as CSV or JSON", tag: "events"},
		func(ctx context.Context, in *eventExport) (*exportBody, error) {
			f, err := in.filter()
			if err != nil {
				return nil, err
			}
			var all []smartlic.Event
			for after := ""; ; {
				items, next, err := svc.ListEvents(ctx, in.SA, f, smartlic.Page{Limit: smartlic.MaxPageLimit, After: after})
				if err != nil {
					return nil, err
				}
				all = append(all, items...)
				if len(all) > maxExportEvents {
					return nil, smartlic.Invalid("to", "the export would exceed %d events; narrow it with from and to", maxExportEvents)
				}
				if next == "" {
					break
				}
				after = next
			}
			if in.Format == "csv" {
				b, err := eventsCSV(all)
				return &exportBody{ContentType: "text/csv; charset=utf-8", ContentDisposition: `attachment; filename="events.csv"`, Body: b}, err
			}
			if all == nil {
				all = []smartlic.Event{}
			}
			b, err := json.Marshal(all)
			return &exportBody{ContentType: "application/json", ContentDisposition: `attachment; filename="events.json"`, Body: b}, err
		})
	handle(s, route{method: get, path: events + "/verify", id: "verify-events", summary: "Verify the hash chain of a Smart Account's event log", tag: "events"},
		func(ctx context.Context, in *saPath) (*body[wire.Items[smartlic.ChainVerdict]], error) {
			return all(svc.VerifyEvents(ctx, in.SA))
		})
	handle(s, route{method: get, path: "/api/v1/events/verify", id: "verify-all-events", summary: "Verify every event chain (vendor operator)", tag: "events"},
		func(ctx context.Context, _ *struct{}) (*body[wire.Items[smartlic.ChainVerdict]], error) {
			return all(svc.VerifyEvents(ctx, ""))
		})

	// The external anchor: signed heads to keep outside the database, and
	// verification against them.
	handle(s, route{method: get, path: events + "/head", id: "event-heads", summary: "The signed head of a Smart Account's event chain, to keep outside the database", tag: "events"},
		func(ctx context.Context, in *saPath) (*body[smartlic.Envelope], error) {
			return one(svc.EventHeads(ctx, in.SA))
		})
	handle(s, route{method: get, path: "/api/v1/events/head", id: "all-event-heads", summary: "The signed heads of every event chain (vendor operator)", tag: "events"},
		func(ctx context.Context, _ *struct{}) (*body[smartlic.Envelope], error) {
			return one(svc.EventHeads(ctx, ""))
		})
	handle(s, route{method: post, path: events + "/verify", id: "verify-events-against", summary: "Verify a Smart Account's event chain against signed heads taken earlier", tag: "events", maxBody: MaxAnchorBodyBytes},
		func(ctx context.Context, in *saBody[smartlic.Envelope]) (*body[wire.Items[smartlic.ChainVerdict]], error) {
			return all(svc.VerifyEventsAgainst(ctx, in.SA, in.Body))
		})
	handle(s, route{method: post, path: "/api/v1/events/verify", id: "verify-all-events-against", summary: "Verify every event chain against signed heads taken earlier (vendor operator)", tag: "events", maxBody: MaxAnchorBodyBytes},
		func(ctx context.Context, in *struct{ Body smartlic.Envelope }) (*body[wire.Items[smartlic.ChainVerdict]], error) {
			return all(svc.VerifyEventsAgainst(ctx, "", in.Body))
		})
}

// eventCSVHeader is the header row of an event export.
var eventCSVHeader = []string{"seq", "at", "type", "virtual_account_id", "subject", "message", "actor_email", "actor_id", "actor_role", "request_id", "before", "after", "prev_hash", "hash"}

func eventsCSV(events []smartlic.Event) ([]byte, error) {
	var buf bytes.Buffer
	w := csv.NewWriter(&buf)
	if err := w.Write(eventCSVHeader); err != nil {
		return nil, err
	}
	for _, e := range events {
		if err := w.Write([]string{strconv.FormatInt(e.Seq, 10), e.At.Format(time.RFC3339Nano), e.Type, e.VirtualAccountID, e.Subject, e.Message,
			e.ActorEmail, e.ActorID, e.ActorRole, e.RequestID, string(e.Before), string(e.After), e.PrevHash, e.Hash}); err != nil {
			return nil, err
		}
	}
	w.Flush()
	return buf.Bytes(), w.Error()
}
