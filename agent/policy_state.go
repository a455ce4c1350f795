package agent

import (
	"crypto/ed25519"
	"slices"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// clonePolicy copies a policy state deeply.
func clonePolicy(p *PolicyState) *PolicyState {
	c := *p
	c.PrivateKey = slices.Clone(p.PrivateKey)
	if p.TrustCodeDoc != nil {
		d := *p.TrustCodeDoc
		c.TrustCodeDoc = &d
	}
	if p.TrustCode != nil {
		tc := *p.TrustCode
		tc.PublicKey = slices.Clone(p.TrustCode.PublicKey)
		c.TrustCode = &tc
	}
	if p.Restricted != nil {
		c.Restricted = make(map[string]smartlic.LicenseClass, len(p.Restricted))
		for k, v := range p.Restricted {
			c.Restricted[k] = v
		}
	}
	c.Open = slices.Clone(p.Open)
	if c.Open == nil {
		c.Open = []OpenMeasurement{}
	}
	c.Closed = slices.Clone(p.Closed)
	if c.Closed == nil {
		c.Closed = []smartlic.Measurement{}
	}
	c.Pending = slices.Clone(p.Pending)
	if c.Pending == nil {
		c.Pending = []PendingReport{}
	}
	if p.LastAckDoc != nil {
		d := *p.LastAckDoc
		c.LastAckDoc = &d
	}
	if p.LastAck != nil {
		ack := *p.LastAck
		ack.Accepted = slices.Clone(p.LastAck.Accepted)
		ack.Rejected = slices.Clone(p.LastAck.Rejected)
		ack.Usage = slices.Clone(p.LastAck.Usage)
		c.LastAck = &ack
	}
	c.Rejected = slices.Clone(p.Rejected)
	for _, t := range []**time.Time{&c.TrustedAt, &c.FirstUseAt, &c.LastChangeAt, &c.LastReportAt, &c.LastFileSaveAt} {
		*t = copyTime(*t)
	}
	return &c
}

// reverifyPolicy checks the stored trust code and ACK of a policy-mode
// state and replaces their decoded copies with what the signatures cover.
func (a *Agent) reverifyPolicy(st *State) error {
	p := st.Policy
	if p == nil {
		return nil
	}
	bad := func(what string, err error) error {
		return smartlic.Errorf(smartlic.ESignature, "state", "the stored %s does not verify (%s): the state was altered or the manager's keys changed; set the instance up again with a new state", what, smartlic.ErrorMessage(err))
	}
	if len(p.PrivateKey) != ed25519.PrivateKeySize {
		return bad("instance key", smartlic.Invalid("private_key", "wrong length"))
	}
	if st.Registration != nil {
		return bad("state", smartlic.Invalid("policy", "an instance is either registered or in policy mode, not both"))
	}
	if p.Open == nil {
		p.Open = []OpenMeasurement{}
	}
	if p.Closed == nil {
		p.Closed = []smartlic.Measurement{}
	}
	if p.Pending == nil {
		p.Pending = []PendingReport{}
	}
	keys := a.keysOf(*st)
	p.TrustCode, p.LastAck = nil, nil
	if p.TrustCodeDoc != nil {
		tc, err := checkTrustCode(*p.TrustCodeDoc, keys, st.UDI, nil)
		if err == nil && tc.Bound() && !ed25519.PublicKey(tc.PublicKey).Equal(p.PrivateKey.Public().(ed25519.PublicKey)) {
			err = smartlic.Errorf(smartlic.ESignature, "public_key", "bound to another key")
		}
		if err != nil {
			return bad("trust code", err)
		}
		p.TrustCode = &tc
	}
	if p.LastAckDoc != nil {
		var ack smartlic.UsageAck
		if err := sign.Open(*p.LastAckDoc, smartlic.TypeUsageAck, keys, &ack); err != nil {
			return bad("ACK", err)
		}
		if p.TrustCode == nil || ack.InstanceID != p.TrustCode.InstanceID || ack.UDI != st.UDI {
			return bad("ACK", smartlic.Invalid("instance_id", "about another instance"))
		}
		p.LastAck = &ack
	}
	return nil
}
