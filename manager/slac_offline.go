package manager

import (
	"context"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/rescode"
)

// IssueSLAC is the offline path of export control: a user who may manage
// licenses in the Virtual Account pastes the device's request code and
// gets the SLAC, whose AuthorizationCode the device installs. The code is
// checked (its check characters, then its shape) before anything is looked
// up; every rule of the online path applies (the Smart Account allowed
// export control, the license held by the VA, one SLAC per device and
// license, a request answered once), and a refusal writes nothing.
func (m *Manager) IssueSLAC(ctx context.Context, saKey string, in smartlic.SLACIssueInput) (smartlic.SLAC, error) {
	req, err := rescode.DecodeSLACRequest("request_code", in.RequestCode)
	if err != nil {
		return smartlic.SLAC{}, err
	}
	if in.LicenseTag != "" && in.LicenseTag != req.LicenseTag {
		return smartlic.SLAC{}, smartlic.Invalid("license", "the request code asks for %q, not %q: check the code is the one the device printed for this license",
			req.LicenseTag, in.LicenseTag)
	}
	now := m.clock.Now()
	var s smartlic.SLAC
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		vaKey := in.VirtualAccount
		if vaKey == "" {
			// A registered device takes its SLAC from its own VA, as it
			// would online; an air-gapped one from DEFAULT.
			vaKey = smartlic.DefaultVAName
			sa, err := m.getSAAs(ctx, tx, PermAccountView, saKey)
			if err != nil {
				return err
			}
			if inst, err := tx.GetInstanceByUDI(ctx, req.UDI); err == nil && inst.SmartAccountID == sa.ID {
				vaKey = inst.VirtualAccountID
			} else if err != nil && smartlic.ErrorCode(err) != smartlic.ENotFound {
				return err
			}
		}
		sa, va, err := m.getVAAs(ctx, tx, PermLicenseManage, saKey, vaKey)
		if err != nil {
			return err
		}
		s, err = m.issueSLAC(ctx, tx, slacIssue{
			sa: sa, va: va, udi: req.UDI, tag: req.LicenseTag, nonce: req.NonceString(), returnHash: hex.EncodeToString(req.ReturnHash),
			how: smartlic.SLACOffline, now: now,
		})
		return err
	})
	if err != nil {
		return smartlic.SLAC{}, err
	}
	s.AuthorizationCode, err = rescode.EncodeSLAC(s.Document)
	return s, err
}

// ReturnSLAC is the offline return: the device's return code carries the
// secret whose hash its request carried, so only the device that holds the
// SLAC can make it. The license goes back to the VA's pool; a second
// return of the same SLAC is refused as a replay and changes nothing.
func (m *Manager) ReturnSLAC(ctx context.Context, saKey, code string) (smartlic.SLAC, error) {
	ret, err := rescode.DecodeSLACReturn("code", code)
	if err != nil {
		return smartlic.SLAC{}, err
	}
	now := m.clock.Now()
	var s smartlic.SLAC
	err = m.st.Write(ctx, func(tx smartlic.Tx) error {
		// Only a member of the account learns anything from a code; the
		// VA's own permission is checked once the SLAC is found.
		sa, err := m.getSAAs(ctx, tx, PermAccountView, saKey)
		if err != nil {
			return err
		}
		s, err = tx.GetSLAC(ctx, ret.SLACID)
		if smartlic.ErrorCode(err) == smartlic.ENotFound {
			return smartlic.Errorf(smartlic.ENotFound, "code", "the return code names SLAC %q, which Smart Account %s does not have", ret.SLACID, sa.Domain)
		} else if err != nil {
			return err
		}
		if s.SmartAccountID != sa.ID {
			// Only a code that carries the SLAC's secret learns that the
			// SLAC is elsewhere; a guessed id reads as not found.
			if !secretMatches(s, ret.Secret) {
				return smartlic.Errorf(smartlic.ENotFound, "code", "the return code names SLAC %q, which Smart Account %s does not have", ret.SLACID, sa.Domain)
			}
			return smartlic.Errorf(smartlic.EWrongAccount, "code", "this return code is for a SLAC of another Smart Account; enter it in the Smart Account that issued it")
		}
		if s, err = m.getSLACAs(ctx, tx, PermLicenseManage, saKey, ret.SLACID); err != nil {
			return err
		}
		if ret.UDI != s.UDI {
			return smartlic.Errorf(smartlic.EWrongDevice, "code", "the return code is from %s, but SLAC %s is bound to %s", ret.UDI, s.ID, s.UDI)
		}
		if err := m.returnSLAC(ctx, tx, s, ret.Secret, smartlic.SLACOffline, now); err != nil {
			return err
		}
		s, err = tx.GetSLAC(ctx, s.ID)
		return err
	})
	return s, err
}

// secretMatches reports whether secret is the return secret of s.
func secretMatches(s smartlic.SLAC, secret []byte) bool {
	want, err := hex.DecodeString(s.ReturnHash)
	got := sha256.Sum256(secret)
	return err == nil && subtle.ConstantTimeCompare(want, got[:]) == 1
}
