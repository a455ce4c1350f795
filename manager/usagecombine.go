package manager

import (
	"context"
	"fmt"
	"sync"

	"github.com/smartlic/smartlic"
)

// maxCombinedReports bounds the reports one combined ingestion takes, so
// that one round's write stays short and its callers' latency bounded.
const maxCombinedReports = 2000

// maxRounds is how many rounds run at once: two, so that one round's
// signatures are checked on the cores while the other's write holds the
// database, rather than each waiting for the other.
const maxRounds = 2

// usageCombiner folds the online usage reports of concurrent requests into
// one ingestion. Each report must still have its signature checked, but
// what an ingestion costs beyond that — reading the instances, the
// catalogue and the policies, claiming report ids, moving pools,
// appending to the event log, committing — is shared by every request of
// a round instead of paid by each: a fleet reporting at once is ingested
// like one usage file.
//
// A caller that finds fewer than maxRounds rounds running leads one: it
// takes every request waiting, runs them as one ingestion, answers each,
// and hands the lead to the next waiting caller, so no caller serves
// others for longer than its own round. A round that
// fails as a whole is run again one request at a time, so that one
// request cannot fail another's.
type usageCombiner struct {
	mu      sync.Mutex
	pending []*usageJob
	rounds  int // running
}

// usageJob is one ReportUsage call waiting in a combiner.
type usageJob struct {
	ctx   context.Context
	file  smartlic.UsageFile
	ack   smartlic.AckFile
	err   error
	done  chan struct{} // closed when ack and err are set
	lead  chan struct{} // closed when this call is to lead round
	round []*usageJob   // the round handed to this call to run
	// instances are the kids its file names, set by ingestCombined.
	instances map[string]bool
}

// submit ingests f with whatever other requests are waiting, through run,
// and returns f's own ACK file.
func (c *usageCombiner) submit(ctx context.Context, f smartlic.UsageFile, run func(context.Context, []*usageJob)) (smartlic.AckFile, error) {
	j := &usageJob{ctx: ctx, file: f, done: make(chan struct{}), lead: make(chan struct{})}
	c.mu.Lock()
	c.pending = append(c.pending, j)
	if c.rounds == maxRounds {
		c.mu.Unlock()
		// A waiting caller does not leave when its context ends: its
		// report is in the queue, and a round may be handed to it.
		select {
		case <-j.done:
			return j.ack, j.err
		case <-j.lead:
		}
		c.lead(ctx, j.round, run)
		return j.ack, j.err
	}
	c.rounds++
	round := c.take()
	c.mu.Unlock()
	c.lead(ctx, round, run)
	return j.ack, j.err
}

// take removes the next round from the queue (the caller holds mu): the
// waiting requests in arrival order, up to maxCombinedReports reports but
// at least one request.
func (c *usageCombiner) take() []*usageJob {
	n, reports := 0, 0
	for n < len(c.pending) && (n == 0 || reports+len(c.pending[n].file.Reports) <= maxCombinedReports) {
		reports += len(c.pending[n].file.Reports)
		n++
	}
	round := c.pending[:n:n]
	c.pending = c.pending[n:]
	return round
}

// lead runs a round and hands the lead on, whatever happens in run: a
// panic fails the round's requests instead of leaving them, and every
// later one, waiting forever.
func (c *usageCombiner) lead(ctx context.Context, round []*usageJob, run func(context.Context, []*usageJob)) {
	defer func() {
		if p := recover(); p != nil {
			for _, j := range round {
				if !closed(j.done) {
					j.err = smartlic.Internal(fmt.Errorf("panic: %v", p), "ingesting usage reports")
					close(j.done)
				}
			}
		}
		// The next round is taken here, under the lock, and handed to
		// the first of its callers to run: two rounds ending at once
		// hand on two different rounds.
		c.mu.Lock()
		if len(c.pending) > 0 {
			next := c.take()
			next[0].round = next
			close(next[0].lead)
		} else {
			c.rounds--
		}
		c.mu.Unlock()
	}()
	run(ctx, round)
}

func closed(ch chan struct{}) bool {
	select {
	case <-ch:
		return true
	default:
		return false
	}
}

// ingestCombined ingests a round of online requests as one usage file and
// gives each request the part of the ACK file that is its own: the ACKs
// of its instances, its rejections (indexed in its own file) and its
// summary. Requests that share an instance go to separate ingestions, so
// that no ACK answers two requests.
func (m *Manager) ingestCombined(ctx context.Context, round []*usageJob) {
	for len(round) > 0 {
		var now, later []*usageJob
		seen := map[string]bool{}
		for _, j := range round {
			j.instances = jobInstances(j.file)
			ids := j.instances
			clash := false
			for id := range ids {
				clash = clash || seen[id]
			}
			if clash {
				later = append(later, j)
				continue
			}
			for id := range ids {
				seen[id] = true
			}
			now = append(now, j)
		}
		m.ingestJobs(ctx, now)
		round = later
	}
}

// jobInstances names the instances a request's reports and trust
// requests claim to come from (their kids, checked later).
func jobInstances(f smartlic.UsageFile) map[string]bool {
	ids := map[string]bool{}
	for _, env := range f.Reports {
		ids[env.KeyID] = true
	}
	for _, env := range f.TrustRequests {
		ids[env.KeyID] = true
	}
	return ids
}

// ingestJobs ingests jobs that share no instance as one file and answers
// each; when that fails as a whole, each runs alone.
func (m *Manager) ingestJobs(ctx context.Context, jobs []*usageJob) {
	answer := func(j *usageJob, ack smartlic.AckFile, err error) {
		j.ack, j.err = ack, err
		close(j.done)
	}
	if len(jobs) == 1 {
		res, err := m.ingest(jobs[0].ctx, jobs[0].file, nil, nil)
		answer(jobs[0], res.file, err)
		return
	}
	merged := smartlic.UsageFile{Type: smartlic.FileTypeUsage}
	var from origins
	for _, j := range jobs {
		merged.Reports = append(merged.Reports, j.file.Reports...)
		merged.TrustRequests = append(merged.TrustRequests, j.file.TrustRequests...)
		for range j.file.Reports {
			from.reports = append(from.reports, j.ctx)
		}
		for range j.file.TrustRequests {
			from.trust = append(from.trust, j.ctx)
		}
	}
	// The round outlives a leader whose client went away: the other
	// requests in it are still waiting for their answers.
	res, err := m.ingest(context.WithoutCancel(ctx), merged, nil, &from)
	if err != nil {
		for _, j := range jobs {
			res, err := m.ingest(j.ctx, j.file, nil, nil)
			answer(j, res.file, err)
		}
		return
	}
	ackOf := map[string]smartlic.Envelope{}
	for i, id := range res.ackOf {
		ackOf[id] = res.file.Acks[i]
	}
	reportAt, trustAt := 0, 0
	for _, j := range jobs {
		nr, nt := len(j.file.Reports), len(j.file.TrustRequests)
		ack := smartlic.AckFile{Type: res.file.Type, IssuedAt: res.file.IssuedAt, Acks: []smartlic.Envelope{}, Rejections: []smartlic.FileRejected{}}
		ack.Summary.Reports = nr
		for _, r := range res.file.Rejections {
			lo, n := reportAt, nr
			if r.Kind == "trust_request" {
				lo, n = trustAt, nt
			}
			if r.Index >= lo && r.Index < lo+n {
				r.Index -= lo
				ack.Rejections = append(ack.Rejections, r)
				if r.Kind == "report" {
					ack.Summary.Rejected++
				}
			}
		}
		ack.Summary.Accepted = nr - ack.Summary.Rejected
		for i := range nr {
			if res.dup[reportAt+i] {
				ack.Summary.Duplicates++
			}
		}
		mine := j.instances
		for _, id := range res.ackOf {
			if mine[id] {
				ack.Acks = append(ack.Acks, ackOf[id])
				ack.Summary.Instances++
			}
		}
		reportAt += nr
		trustAt += nt
		answer(j, ack, nil)
	}
}
