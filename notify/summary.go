package notify

import (
	"bytes"
	"fmt"
	"html/template"
	"sort"
	"strings"
	"time"

	"github.com/smartlic/smartlic"
)

// vaGroup is the alerts of one Virtual Account.
type vaGroup struct {
	Name   string
	Alerts []smartlic.Alert
}

// groupByVA orders groups by VA name and keeps each group's alerts in the
// order given (most severe first, as the manager sorts them).
func groupByVA(alerts []smartlic.Alert) []vaGroup {
	idx := map[string]int{}
	var out []vaGroup
	for _, a := range alerts {
		name := a.VirtualAccount
		if name == "" {
			name = a.VirtualAccountID
		}
		i, ok := idx[name]
		if !ok {
			i = len(out)
			idx[name] = i
			out = append(out, vaGroup{Name: name})
		}
		out[i].Alerts = append(out[i].Alerts, a)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

// SummarySubject is the subject line of a digest.
func SummarySubject(d smartlic.Digest) string {
	critical := 0
	for _, a := range d.Alerts {
		if a.Severity == smartlic.SeverityCritical {
			critical++
		}
	}
	kind := map[smartlic.Frequency]string{smartlic.Immediate: "new alerts", smartlic.Daily: "daily alert summary", smartlic.Weekly: "weekly alert summary"}[d.Frequency]
	if kind == "" {
		kind = "alerts"
	}
	s := fmt.Sprintf("[smartlic] %s: %s, %d alert", d.SmartAccount.Domain, kind, len(d.Alerts))
	if len(d.Alerts) != 1 {
		s += "s"
	}
	if critical > 0 {
		s += fmt.Sprintf(" (%d critical)", critical)
	}
	return s
}

// SummaryText renders a digest as plain text: one block per Virtual
// Account, one line per alert.
func SummaryText(d smartlic.Digest, now time.Time) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Smart Account %s (%s)\n", d.SmartAccount.Name, d.SmartAccount.Domain)
	fmt.Fprintf(&b, "%d alert(s) as of %s\n", len(d.Alerts), now.UTC().Format("2006-01-02 15:04 UTC"))
	for _, g := range groupByVA(d.Alerts) {
		fmt.Fprintf(&b, "\nVirtual Account %s\n", g.Name)
		for _, a := range g.Alerts {
			fmt.Fprintf(&b, "  [%s] %s: %s\n", a.Severity, a.Type, a.Message)
		}
	}
	b.WriteString("\nYou receive this because of your notification preferences in this Smart Account.\n")
	return b.String()
}

var summaryHTML = template.Must(template.New("summary").Parse(`<!DOCTYPE html>
<html><body style="font-family: sans-serif">
<h2>Smart Account {{.SA.Name}} ({{.SA.Domain}})</h2>
<p>{{len .Alerts}} alert(s) as of {{.Now}}</p>
{{range .Groups}}<h3>Virtual Account {{.Name}}</h3>
<table cellpadding="4"><tr><th align="left">Severity</th><th align="left">Alert</th><th align="left">Details</th></tr>
{{range .Alerts}}<tr><td>{{.Severity}}</td><td>{{.Type}}</td><td>{{.Message}}</td></tr>
{{end}}</table>
{{end}}<p><small>You receive this because of your notification preferences in this Smart Account.</small></p>
</body></html>
`))

// SummaryHTML renders a digest as HTML.
func SummaryHTML(d smartlic.Digest, now time.Time) (string, error) {
	var b bytes.Buffer
	err := summaryHTML.Execute(&b, map[string]any{
		"SA": d.SmartAccount, "Alerts": d.Alerts, "Groups": groupByVA(d.Alerts), "Now": now.UTC().Format("2006-01-02 15:04 UTC"),
	})
	return b.String(), err
}

// SummaryMessage builds the e-mail of a digest; withHTML adds the HTML
// alternative.
func SummaryMessage(d smartlic.Digest, now time.Time, withHTML bool) (Message, error) {
	m := Message{To: []string{d.Email}, Subject: SummarySubject(d), Text: SummaryText(d, now), Date: now}
	if withHTML {
		h, err := SummaryHTML(d, now)
		if err != nil {
			return m, err
		}
		m.HTML = h
	}
	return m, nil
}
