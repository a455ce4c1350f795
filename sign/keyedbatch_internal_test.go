package sign

import (
	"crypto/ed25519"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/hdevalence/ed25519consensus"
)

// smallOrder are encodings of points of small order, some of them not
// canonical (y at or above p, a sign on x = 0): under ZIP-215 a signature
// whose key and R are such points and whose S is 0 is valid, and a
// verifier that decodes them differently from ed25519consensus answers
// differently on them.
var smallOrder = []string{
	"0100000000000000000000000000000000000000000000000000000000000000",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"0000000000000000000000000000000000000000000000000000000000000000",
	"0000000000000000000000000000000000000000000000000000000000000080",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05",
	"26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc85",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a",
	"c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac03fa",
	"0100000000000000000000000000000000000000000000000000000000000080",
	"ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff",
	"edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
	"eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
}

func smallOrderPoint(t *testing.T, r *rand.Rand) []byte {
	b, err := hex.DecodeString(smallOrder[r.IntN(len(smallOrder))])
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestBatchVerifyMatchesConsensus: on random batches, with keys shared by
// several signatures as a device's reports share its key, and at most one
// entry altered in one of the ways a forger or a broken device would,
// batchVerify answers as ed25519consensus's batch verifier does, entry
// for entry the same inputs.
func TestBatchVerifyMatchesConsensus(t *testing.T) {
	r := rand.New(rand.NewPCG(11, uint64(len(smallOrder))))
	const typ = "smartlic.rum-report/v1"
	accepted, refused := 0, 0
	for round := range 400 {
		nkeys := 1 + r.IntN(5)
		privs := make([]ed25519.PrivateKey, nkeys)
		for i := range privs {
			seed := make([]byte, ed25519.SeedSize)
			for j := range seed {
				seed[j] = byte(r.Uint32())
			}
			privs[i] = ed25519.NewKeyFromSeed(seed)
		}
		n := 1 + r.IntN(70)
		payloads := make([][]byte, n)
		pubs := make([]ed25519.PublicKey, n)
		sigs := make([][]byte, n)
		for i := range n {
			k := privs[r.IntN(nkeys)]
			payloads[i] = fmt.Appendf(nil, `{"report_id":"r%d-%d","n":%d}`, round, i, r.Int64())
			pubs[i] = k.Public().(ed25519.PublicKey)
			sigs[i] = ed25519.Sign(k, Message(typ, payloads[i]))
		}
		how := r.IntN(10)
		i := r.IntN(n)
		switch how {
		case 0: // the payload altered after signing
			payloads[i] = append([]byte(nil), payloads[i]...)
			payloads[i][r.IntN(len(payloads[i]))] ^= 1 << r.IntN(8)
		case 1: // a bit of R or S flipped
			sigs[i] = append([]byte(nil), sigs[i]...)
			sigs[i][r.IntN(64)] ^= 1 << r.IntN(8)
		case 2: // signed by another key than the one it is checked with
			pubs[i] = ed25519.PublicKey(privs[r.IntN(nkeys)].Public().(ed25519.PublicKey))
			other := ed25519.NewKeyFromSeed(make([]byte, ed25519.SeedSize))
			sigs[i] = ed25519.Sign(other, Message(typ, payloads[i]))
		case 3: // S not reduced
			sigs[i] = append([]byte(nil), sigs[i]...)
			addL(sigs[i][32:])
		case 4: // a small-order key and R with S = 0: valid under ZIP-215
			pubs[i] = smallOrderPoint(t, r)
			sigs[i] = append(smallOrderPoint(t, r), make([]byte, 32)...)
		case 5: // a small-order R on a real key's signature
			sigs[i] = append(smallOrderPoint(t, r), sigs[i][32:]...)
		case 6: // a key that does not decode
			pubs[i] = append([]byte(nil), pubs[i]...)
			pubs[i][0] ^= 0x5a
		}
		want := func() bool {
			v := ed25519consensus.NewBatchVerifier()
			for i := range n {
				v.Add(pubs[i], Message(typ, payloads[i]), sigs[i])
			}
			return v.Verify()
		}()
		got := batchVerify(typ, payloads, pubs, sigs)
		if got != want {
			t.Fatalf("round %d (%d signatures, %d keys, alteration %d at %d): batchVerify says %v, ed25519consensus %v", round, n, nkeys, how, i, got, want)
		}
		if got {
			accepted++
		} else {
			refused++
		}
	}
	// Both answers must have come up, or the comparison proved little.
	if accepted < 100 || refused < 100 {
		t.Fatalf("%d batches accepted and %d refused: the cases do not exercise both answers", accepted, refused)
	}
}

// TestBatchVerifyEmpty: an empty batch, or one whose slices disagree in
// length, verifies nothing.
func TestBatchVerifyEmpty(t *testing.T) {
	if batchVerify("t", nil, nil, nil) {
		t.Fatal("an empty batch verified")
	}
	pub, priv, _ := ed25519.GenerateKey(nil)
	sig := ed25519.Sign(priv, Message("t", []byte("x")))
	if batchVerify("t", [][]byte{[]byte("x")}, []ed25519.PublicKey{pub, pub}, [][]byte{sig}) {
		t.Fatal("a batch of mismatched lengths verified")
	}
	if !batchVerify("t", [][]byte{[]byte("x")}, []ed25519.PublicKey{pub}, [][]byte{sig}) {
		t.Fatal("a batch of one good signature did not verify")
	}
}

// addL adds the group order L to a little-endian 32-byte scalar: the same
// scalar, not canonically encoded, which crypto/ed25519 refuses.
func addL(s []byte) {
	l := [32]byte{0xed, 0xd3, 0xf5, 0x5c, 0x1a, 0x63, 0x12, 0x58, 0xd6, 0x9c, 0xf7, 0xa2, 0xde, 0xf9, 0xde, 0x14,
		0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x10}
	carry := 0
	for i := range 32 {
		v := int(s[i]) + int(l[i]) + carry
		s[i], carry = byte(v), v>>8
	}
}

// BenchmarkBatchVerify is a verification run of ingestion: 64 reports,
// ten per device (keyed), against ed25519consensus's batch (consensus),
// which pays for each report's key.
func BenchmarkBatchVerify(b *testing.B) {
	const typ, n, perKey = "smartlic.rum-report/v1", 64, 10
	payloads := make([][]byte, n)
	pubs := make([]ed25519.PublicKey, n)
	sigs := make([][]byte, n)
	var priv ed25519.PrivateKey
	for i := range n {
		if i%perKey == 0 {
			_, priv, _ = ed25519.GenerateKey(nil)
		}
		payloads[i] = make([]byte, 900)
		pubs[i] = priv.Public().(ed25519.PublicKey)
		sigs[i] = ed25519.Sign(priv, Message(typ, payloads[i]))
	}
	b.Run("keyed", func(b *testing.B) {
		for b.Loop() {
			if !batchVerify(typ, payloads, pubs, sigs) {
				b.Fatal("did not verify")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n)/1000, "µs/sig")
	})
	b.Run("consensus", func(b *testing.B) {
		for b.Loop() {
			v := ed25519consensus.NewBatchVerifier()
			for i := range n {
				v.Add(pubs[i], Message(typ, payloads[i]), sigs[i])
			}
			if !v.Verify() {
				b.Fatal("did not verify")
			}
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*n)/1000, "µs/sig")
	})
}
