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

// Sign-in and token requests are limited per client IP and per account
// (e-mail or client id): a burst of authBurst, then one every authRefill.
// That is ample for people and integrations, and turns a password guesser
// into a few guesses a minute.
const (
	authBurst   = 10
	authRefill  = 6 * time.Second
	maxBuckets  = 100000 // beyond this, full buckets are forgotten
	retryAtMost = time.Hour
)

// rateLimiter is a set of token buckets, in process: each replica limits
// on its own, which bounds an attacker by the number of replicas.
type rateLimiter struct {
	mu      sync.Mutex
	now     func() time.Time
	buckets map[string]*bucket
}

type bucket struct {
	tokens float64
	at     time.Time
}

func newRateLimiter(now func() time.Time) *rateLimiter {
	return &rateLimiter{now: now, buckets: map[string]*bucket{}}
}

// take removes one token from every key's bucket, or none if any is empty,
// and then says how long until one would be.
func (l *rateLimiter) take(keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	if len(l.buckets) > maxBuckets {
		for k, b := range l.buckets {
			if l.level(b, now) >= authBurst {
				delete(l.buckets, k)
			}
		}
	}
	var wait time.Duration
	for _, k := range keys {
		b := l.buckets[k]
		if b == nil {
			continue
		}
		if lv := l.level(b, now); lv < 1 {
			if w := time.Duration((1 - lv) * float64(authRefill)); w > wait {
				wait = w
			}
		}
	}
	if wait > 0 {
		return false, min(wait, retryAtMost)
	}
	for _, k := range keys {
		b := l.buckets[k]
		if b == nil {
			b = &bucket{tokens: authBurst, at: now}
			l.buckets[k] = b
		}
		b.tokens, b.at = l.level(b, now)-1, now
	}
	return true, 0
}

func (l *rateLimiter) level(b *bucket, now time.Time) float64 {
	return math.Min(authBurst, b.tokens+float64(now.Sub(b.at))/float64(authRefill))
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

// limit refuses the request when the caller's IP or the named account has
// used up its attempts.
func (s *Server) limit(ctx context.Context, what, account string) error {
	ok, wait := s.limits.take(what+"|ip|"+clientIP(ctx), what+"|account|"+account)
	if ok {
		return nil
	}
	return &retryAfterError{
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
