package manager

import (
	"context"

	"github.com/smartlic/smartlic"
)

// ArgonRuns is how many password checks m has run, for tests that must
// see a failed sign-in cost the same work whatever its reason.
func ArgonRuns(m *Manager) int64 { return m.argonRuns.Load() }

// KeyReloads is how many times m has read its signing keys from the store
// since New, for tests that must see forged kids cost no more than the
// rate limit allows.
func KeyReloads(m *Manager) int64 { return m.ks.reloads.Load() }

// SignerID is the kid m signs with now.
func SignerID(m *Manager) string { return m.signer().ID }

// ReportUsageTogether ingests online usage files as one round of the
// combiner would when their requests arrive at once (ctxs[i] is file i's
// request), and returns each request's answer.
func ReportUsageTogether(m *Manager, ctxs []context.Context, files []smartlic.UsageFile) ([]smartlic.AckFile, []error) {
	jobs := make([]*usageJob, len(files))
	for i, f := range files {
		jobs[i] = &usageJob{ctx: ctxs[i], file: f, done: make(chan struct{})}
	}
	m.ingestCombined(ctxs[0], jobs)
	acks, errs := make([]smartlic.AckFile, len(jobs)), make([]error, len(jobs))
	for i, j := range jobs {
		<-j.done
		acks[i], errs[i] = j.ack, j.err
	}
	return acks, errs
}
