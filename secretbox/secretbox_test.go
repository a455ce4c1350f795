package secretbox_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/smartlic/smartlic/secretbox"
)

func mustParse(t *testing.T, text string) *secretbox.Keyring {
	t.Helper()
	r, err := secretbox.Parse([]byte(text))
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestSealOpen(t *testing.T) {
	t.Parallel()
	k1, k2 := secretbox.NewKeyText(), secretbox.NewKeyText()
	r1 := mustParse(t, "# the key\n\n"+k1)
	sealed := r1.Seal([]byte("whsec_abc"), "webhooks.secret:1")
	if !secretbox.IsSealed(sealed) || secretbox.SealedWith(sealed) != r1.ID() || strings.Contains(sealed, "whsec_abc") {
		t.Fatalf("sealed = %q", sealed)
	}
	if again := r1.Seal([]byte("whsec_abc"), "webhooks.secret:1"); again == sealed {
		t.Error("two seals of one value are equal: the nonce is not fresh")
	}
	if p, err := r1.Open(sealed, "webhooks.secret:1"); err != nil || string(p) != "whsec_abc" {
		t.Fatalf("Open = %q, %v", p, err)
	}
	if _, err := r1.Open(sealed, "webhooks.secret:2"); err == nil {
		t.Error("opened under another row's context")
	}
	tampered := sealed[:len(sealed)-2] + "AA"
	if tampered == sealed {
		tampered = sealed[:len(sealed)-2] + "BB"
	}
	if _, err := r1.Open(tampered, "webhooks.secret:1"); err == nil {
		t.Error("opened an altered value")
	}
	r2 := mustParse(t, k2)
	if _, err := r2.Open(sealed, "webhooks.secret:1"); !errors.Is(err, secretbox.ErrUnknownKey) {
		t.Errorf("another key: %v", err)
	}
	// A ring of new then old seals with the new and opens both.
	ring := mustParse(t, k2+k1)
	if ring.ID() != r2.ID() || len(ring.IDs()) != 2 {
		t.Fatalf("ring ids %v", ring.IDs())
	}
	if p, err := ring.Open(sealed, "webhooks.secret:1"); err != nil || string(p) != "whsec_abc" {
		t.Fatalf("ring Open = %q, %v", p, err)
	}
	if secretbox.SealedWith(ring.Seal([]byte("x"), "c")) != r2.ID() {
		t.Error("the ring does not seal with its first key")
	}
	for _, s := range []string{"whsec_abc", "sbx1:", "sbx1:zz:abc", "sbx1:0123456789ABCDEF:abc"} {
		if secretbox.IsSealed(s) {
			t.Errorf("IsSealed(%q)", s)
		}
	}
}

func TestKeyFiles(t *testing.T) {
	t.Parallel()
	for _, bad := range []string{"", "# only a comment\n", "not base64!\n", "c2hvcnQ=\n"} {
		if _, err := secretbox.Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
	path := filepath.Join(t.TempDir(), "k")
	r, err := secretbox.Generate(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("generated key file: %v %v", fi.Mode(), err)
	}
	if _, err := secretbox.Generate(path); err == nil {
		t.Fatal("Generate overwrote an existing key file")
	}
	loaded, err := secretbox.Load(path)
	if err != nil || loaded.ID() != r.ID() {
		t.Fatalf("Load = %v, %v", loaded, err)
	}
	b, _ := os.ReadFile(path)
	if _, err := secretbox.Load(filepath.Join(t.TempDir(), "missing")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	os.WriteFile(path, append([]byte("garbage "), b...), 0o600)
	if _, err := secretbox.Load(path); err == nil || strings.Contains(err.Error(), strings.TrimSpace(string(b))) {
		t.Errorf("a bad key file: %v (must not show the key)", err)
	}
}
