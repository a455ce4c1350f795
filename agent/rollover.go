package agent

import (
	"context"
	"maps"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// Signing key rollover. An instance pins the manager's keys at its first
// registration; when the manager rotates its key (smartlic admin
// rotate-key), answers arrive signed by a key the instance has never seen.
// The manager publishes, beside its keys, a KeyRollover document of them
// signed by each key it lists; the instance takes the new key only from a
// document signed by a key it already trusts, so a server without one of
// the pinned keys cannot slip in a key of its own. Keys so learned verify
// at once and are pinned with the state at its next save.

// follow learns env's signing key when no key the instance trusts has its
// kid and a rollover document signed by a trusted key vouches for it. It
// changes nothing otherwise: the caller's verification then fails as it
// would have.
func (a *Agent) follow(ctx context.Context, env smartlic.Envelope, snap State) {
	have := a.keysOf(snap)
	if len(have) == 0 {
		return // nothing pinned yet: registration fetches the keys
	}
	if _, ok := have.Lookup(env.KeyID); ok {
		return
	}
	ks, err := a.svc.PublicKeys(ctx)
	if err != nil {
		return
	}
	for _, doc := range ks.Rollover {
		var r smartlic.KeyRollover
		if sign.Open(doc, smartlic.TypeKeyRollover, have, &r) != nil {
			continue // signed by a key this instance does not trust
		}
		vouched := sign.NewKeySet(r.Keys)
		if _, ok := vouched.Lookup(env.KeyID); !ok {
			continue
		}
		a.km.Lock()
		if a.learned == nil {
			a.learned = sign.KeySet{}
		}
		maps.Copy(a.learned, vouched)
		a.km.Unlock()
		return
	}
}

// withLearned is keys and the keys learned by rollover.
func (a *Agent) withLearned(keys sign.KeySet) sign.KeySet {
	a.km.Lock()
	defer a.km.Unlock()
	if len(a.learned) == 0 {
		return keys
	}
	out := maps.Clone(keys)
	if out == nil {
		out = sign.KeySet{}
	}
	for kid, pub := range a.learned {
		if _, ok := out[kid]; !ok {
			out[kid] = pub
		}
	}
	return out
}
