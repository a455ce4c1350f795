package httpapi

import (
	"context"
	"fmt"
	"math"
	"net"
	"sync"
	"time"

	"github.com/smartlic/smartlic"
)

// CodeRateLimited answers a caller that tried to sign in or get a token
// too often; Retry-After says when to try again.
const CodeRateLimited = "rate_limited"

// Sign-in and token attempts are limited twice, and never per account
// alone: a limit on the account would let anyone who knows an e-mail keep
// its owner out by failing on purpose.
//
//   - Per (client address, account): backoffFree failures, then each further
//     failure doubles the wait (1 s, 2 s, 4 s … backoffMax). A success clears
//     it; so does backoffForget without an attempt.
//   - Per client address, whatever the account: a bucket of addrBurst
//     failures refilled one every addrRefill, looser, so that one address
//     cannot guess at many accounts either.
//
// Only failures count: a reserved attempt is given back when it succeeds,
// so an office behind one address signing in every morning is not limited.
const (
	backoffFree   = 5
	backoffBase   = time.Second
	backoffMax    = 15 * time.Minute
	backoffForget = time.Hour
	addrBurst     = 30
	addrRefill    = 2 * time.Second
	maxEntries    = 100000 // beyond this, forgotten entries are dropped
	retryAtMost   = time.Hour
)

// rateLimiter holds the attempts, in process: each replica limits on its
// own, which bounds an attacker by the number of replicas.
type rateLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	pairs   map[string]*backoff // what|address|account
	buckets map[string]*bucket  // what|address
}

// backoff is the failures of one address at one account.
type backoff struct {
	failures int
	last     time.Time // last attempt
	until    time.Time // no attempt before this
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(now func() time.Time) *rateLimiter {
	return &rateLimiter{now: now, pairs: map[string]*backoff{}, buckets: map[string]*bucket{}}
}

// begin reserves one attempt of address at account, counted as a failure
// until done(true) says it succeeded. When the attempt is refused, ok is
// false and wait says how long until one would be allowed.
func (l *rateLimiter) begin(what, address, account string) (done func(success bool), wait time.Duration, ok bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	l.forget(now)
	pairKey, addrKey := what+"|"+address+"|"+account, what+"|"+address
	p := l.pairs[pairKey]
	if p != nil && now.Sub(p.last) >= backoffForget {
		p = nil
	}
	if p != nil && now.Before(p.until) {
		return nil, min(p.until.Sub(now), retryAtMost), false
	}
	b := l.buckets[addrKey]
	if b == nil {
		b = &bucket{tokens: addrBurst, at: now}
	}
	if lv := level(b, now); lv < 1 {
		return nil, min(time.Duration((1-lv)*float64(addrRefill)), retryAtMost), false
	}
	if p == nil {
		p = &backoff{}
	}
	p.failures++
	p.last = now
	if p.failures >= backoffFree {
		p.until = now.Add(min(backoffBase<<min(p.failures-backoffFree, 30), backoffMax))
	}
	b.tokens, b.at = level(b, now)-1, now
	l.pairs[pairKey], l.buckets[addrKey] = p, b
	return func(success bool) {
		if !success {
			return
		}
		l.mu.Lock()
		defer l.mu.Unlock()
		delete(l.pairs, pairKey)
		if b := l.buckets[addrKey]; b != nil {
			b.tokens = math.Min(addrBurst, b.tokens+1)
		}
	}, 0, true
}

// forget drops entries that no longer hold anything back, once there are
// too many to keep: an attacker cycling through accounts must not grow the
// maps without bound.
func (l *rateLimiter) forget(now time.Time) {
	if len(l.pairs)+len(l.buckets) <= maxEntries {
		return
	}
	for k, p := range l.pairs {
		if !now.Before(p.until) && now.Sub(p.last) >= backoffForget {
			delete(l.pairs, k)
		}
	}
	for k, b := range l.buckets {
		if level(b, now) >= addrBurst {
			delete(l.buckets, k)
		}
	}
}

func level(b *bucket, now time.Time) float64 {
	return math.Min(addrBurst, b.tokens+float64(now.Sub(b.at))/float64(addrRefill))
}

// retryAfterError is a refusal with the time to wait, which the answer
// carries in Retry-After.
type retryAfterError struct {
	err   *smartlic.Error
	after time.Duration
}

func (e *retryAfterError) Error() string { return e.err.Error() }
func (e *retryAfterError) Unwrap() error { return e.err }

func (e *retryAfterError) seconds() string {
	return fmt.Sprint(int64(math.Ceil(e.after.Seconds())))
}

// limit reserves an attempt of the caller's address at the named account
// (e-mail or client id), or refuses it when that pair is backing off or
// the address has used up its attempts. The caller reports the outcome
// with done.
func (s *Server) limit(ctx context.Context, what, account string) (done func(success bool), err error) {
	done, wait, ok := s.limits.begin(what, clientIP(ctx), account)
	if ok {
		return done, nil
	}
	return nil, &retryAfterError{
		err:   smartlic.Errorf(CodeRateLimited, "", "too many attempts; try again in %d seconds", int64(math.Ceil(wait.Seconds()))),
		after: wait,
	}
}

type clientIPKey struct{}

// withClientIP remembers the peer's address for rate limiting. The
// connection's address, not X-Forwarded-For: a header is the caller's to
// choose, and limiting by it would let anyone pick a fresh bucket.
func withClientIP(ctx context.Context, remoteAddr string) context.Context {
	host, _, err := net.SplitHostPort(remoteAddr)
	if err != nil {
		host = remoteAddr
	}
	return context.WithValue(ctx, clientIPKey{}, host)
}

func clientIP(ctx context.Context) string {
	ip, _ := ctx.Value(clientIPKey{}).(string)
	return ip
}
