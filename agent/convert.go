package agent

import (
	"context"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// OpConvert is the operation of a device-led conversion in LastAttempt.
const OpConvert = "convert_classic"

// classicConverter is the part of the manager's device protocol that
// converts classic licenses; the HTTP client and the manager implement it.
type classicConverter interface {
	ConvertClassic(ctx context.Context, req smartlic.Envelope) (smartlic.Envelope, error)
}

// ConvertClassic reports the classic (PAK) licenses installed on this
// instance and asks the manager to convert them into smart licenses in the
// instance's Virtual Account. Only units the vendor recorded as fulfilled
// on this device convert; reporting the same licenses again converts
// nothing more (already_converted). The answer is verified like every
// other: signed by a trusted manager key, about this instance, issued
// during this request, and naming only the licenses that were reported.
func (a *Agent) ConvertClassic(ctx context.Context, lines []smartlic.ClassicLicense) (smartlic.ConversionAnswer, error) {
	a.op.Lock()
	defer a.op.Unlock()
	var ans smartlic.ConversionAnswer
	snap := a.State()
	if snap.Registration == nil {
		return ans, notRegistered()
	}
	if len(lines) == 0 {
		return ans, smartlic.Invalid("classic", "report at least one classic license")
	}
	if len(lines) > smartlic.MaxClassicLines {
		return ans, smartlic.Invalid("classic", "at most %d classic licenses per request (got %d)", smartlic.MaxClassicLines, len(lines))
	}
	for _, l := range lines {
		if err := smartlic.ValidateSKU("classic.sku", l.SKU); err != nil {
			return ans, err
		}
		if l.Count < 1 || l.Count > smartlic.MaxClassicQuantity {
			return ans, smartlic.Invalid("classic.count", "must be between 1 and %d (got %d for %q)", smartlic.MaxClassicQuantity, l.Count, l.SKU)
		}
	}
	now := a.now()
	ans, err := a.exchangeConversion(ctx, snap, lines, now)
	return ans, a.finish(OpConvert, now, err, func(*State) {})
}

func (a *Agent) exchangeConversion(ctx context.Context, snap State, lines []smartlic.ClassicLicense, now time.Time) (smartlic.ConversionAnswer, error) {
	var ans smartlic.ConversionAnswer
	conv, ok := a.svc.(classicConverter)
	if !ok {
		return ans, smartlic.Invalid("service", "the configured device service cannot convert classic licenses")
	}
	r := snap.Registration
	req, err := sign.Seal(smartlic.TypeConvertRequest, r.IDCert.InstanceID, r.PrivateKey, smartlic.ConvertRequest{
		InstanceID: r.IDCert.InstanceID, UDI: snap.UDI, SentAt: now, Nonce: newNonce(), Classic: lines,
	})
	if err != nil {
		return ans, smartlic.Internal(err, "signing the request")
	}
	env, err := conv.ConvertClassic(ctx, req)
	if err != nil {
		return ans, err
	}
	a.follow(ctx, env, snap)
	if err := sign.Open(env, smartlic.TypeConversion, a.keysOf(snap), &ans); err != nil {
		return ans, err
	}
	if err := checkAbout(ans.InstanceID, ans.UDI, snap); err != nil {
		return ans, err
	}
	if err := checkFresh("issued_at", ans.IssuedAt, now); err != nil {
		return ans, err
	}
	type key struct{ sku, pak string }
	asked := map[key]bool{}
	for _, l := range lines {
		asked[key{l.SKU, l.PAK}] = true
	}
	for _, l := range ans.Lines {
		if !asked[key{l.SKU, l.PAK}] {
			return ans, smartlic.Errorf(smartlic.ESignature, "lines", "the conversion names classic license %q, which this instance did not report", l.SKU)
		}
	}
	return ans, nil
}
