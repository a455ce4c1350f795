// Package secretbox encrypts the secrets smartlic must keep in a form it
// can use again — the manager's private signing keys and the webhook
// signing secrets — so that a copy of the database (a backup, a dump, a
// stolen file) does not give them away without the key file as well.
//
// A key file holds one or more keys, one per line, each 32 random bytes in
// base64; blank lines and lines starting with # are ignored. The first key
// encrypts; every key decrypts. Each sealed value names the key that sealed
// it, so during a rotation old and new keys coexist:
//
//	sbx1:<key id>:<base64url(nonce ‖ AES-256-GCM ciphertext)>
//
// The key id is derived from the key itself (the first 8 bytes of a
// SHA-256 of it, in hex), so a key file needs no bookkeeping.
package secretbox

import (
	"bufio"
	"bytes"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"os"
	"strings"
)

// KeySize is the length of a key in bytes (AES-256).
const KeySize = 32

// prefix marks a sealed value and its format version.
const prefix = "sbx1:"

// Keyring holds the keys of a key file.
type Keyring struct {
	keys []key // keys[0] seals
}

type key struct {
	id   string
	aead cipher.AEAD
}

// New returns a keyring of raw keys; the first seals.
func New(keys ...[]byte) (*Keyring, error) {
	if len(keys) == 0 {
		return nil, errors.New("secretbox: no key")
	}
	r := &Keyring{}
	for i, k := range keys {
		if len(k) != KeySize {
			return nil, fmt.Errorf("secretbox: key %d is %d bytes, want %d", i+1, len(k), KeySize)
		}
		block, err := aes.NewCipher(k)
		if err != nil {
			return nil, fmt.Errorf("secretbox: %w", err)
		}
		aead, err := cipher.NewGCM(block)
		if err != nil {
			return nil, fmt.Errorf("secretbox: %w", err)
		}
		r.keys = append(r.keys, key{id: keyID(k), aead: aead})
	}
	return r, nil
}

func keyID(k []byte) string {
	h := sha256.Sum256(append([]byte("smartlic secretbox key id\x00"), k...))
	return hex.EncodeToString(h[:8])
}

// Parse reads the text of a key file.
func Parse(text []byte) (*Keyring, error) {
	var keys [][]byte
	sc := bufio.NewScanner(bytes.NewReader(text))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		k, err := base64.StdEncoding.DecodeString(line)
		if err != nil {
			if k, err = base64.RawURLEncoding.DecodeString(line); err != nil {
				return nil, fmt.Errorf("secretbox: line %d is not base64", n)
			}
		}
		if len(k) != KeySize {
			return nil, fmt.Errorf("secretbox: line %d holds %d bytes, want %d", n, len(k), KeySize)
		}
		keys = append(keys, k)
	}
	if len(keys) == 0 {
		return nil, errors.New("secretbox: the key file holds no key")
	}
	return New(keys...)
}

// Load reads a key file. Its content never appears in an error.
func Load(path string) (*Keyring, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	r, err := Parse(b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return r, nil
}

// NewKeyText returns a fresh key as a key file line.
func NewKeyText() string {
	k := make([]byte, KeySize)
	rand.Read(k) // never fails since Go 1.24
	return base64.StdEncoding.EncodeToString(k) + "\n"
}

// Generate creates a key file with one fresh key, readable by its owner
// only. It fails if the file exists: overwriting a key would make every
// secret sealed with it unreadable.
func Generate(path string) (*Keyring, error) {
	text := NewKeyText()
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, err
	}
	if _, err := f.WriteString(text); err != nil {
		f.Close()
		os.Remove(path)
		return nil, err
	}
	if err := f.Close(); err != nil {
		os.Remove(path)
		return nil, err
	}
	return Parse([]byte(text))
}

// Join returns a keyring of the keys of rings, in order: the first
// ring's first key seals. A rotation joins the new ring before the old.
func Join(rings ...*Keyring) (*Keyring, error) {
	out := &Keyring{}
	for _, r := range rings {
		out.keys = append(out.keys, r.keys...)
	}
	if len(out.keys) == 0 {
		return nil, errors.New("secretbox: no key")
	}
	return out, nil
}

// ID is the id of the key that seals.
func (r *Keyring) ID() string { return r.keys[0].id }

// IDs are the ids of every key, the sealing one first.
func (r *Keyring) IDs() []string {
	out := make([]string, len(r.keys))
	for i, k := range r.keys {
		out[i] = k.id
	}
	return out
}

// Seal encrypts plaintext with the first key. context binds the result to
// where it is stored (e.g. "webhooks.secret:<id>"): a sealed value copied
// into another row does not open there.
func (r *Keyring) Seal(plaintext []byte, context string) string {
	k := r.keys[0]
	nonce := make([]byte, k.aead.NonceSize(), k.aead.NonceSize()+len(plaintext)+k.aead.Overhead())
	rand.Read(nonce)
	sealed := k.aead.Seal(nonce, nonce, plaintext, []byte(context))
	return prefix + k.id + ":" + base64.RawURLEncoding.EncodeToString(sealed)
}

// ErrUnknownKey is the error of opening a value sealed with a key that is
// not in the keyring.
var ErrUnknownKey = errors.New("secretbox: sealed with a key that is not in the key file")

// Open decrypts a value Seal returned, with the key it names.
func (r *Keyring) Open(sealed, context string) ([]byte, error) {
	id, body, ok := split(sealed)
	if !ok {
		return nil, errors.New("secretbox: not a sealed value")
	}
	for _, k := range r.keys {
		if k.id != id {
			continue
		}
		b, err := base64.RawURLEncoding.DecodeString(body)
		if err != nil || len(b) < k.aead.NonceSize() {
			return nil, errors.New("secretbox: sealed value is malformed")
		}
		n := k.aead.NonceSize()
		p, err := k.aead.Open(nil, b[:n], b[n:], []byte(context))
		if err != nil {
			return nil, errors.New("secretbox: sealed value does not authenticate (altered, or moved from another row)")
		}
		return p, nil
	}
	return nil, fmt.Errorf("%w (key id %s)", ErrUnknownKey, id)
}

// IsSealed reports whether s has the form of a sealed value.
func IsSealed(s string) bool {
	_, _, ok := split(s)
	return ok
}

// SealedWith returns the id of the key that sealed s, "" when s is not
// sealed.
func SealedWith(s string) string {
	id, _, _ := split(s)
	return id
}

func split(s string) (id, body string, ok bool) {
	rest, ok := strings.CutPrefix(s, prefix)
	if !ok {
		return "", "", false
	}
	id, body, ok = strings.Cut(rest, ":")
	if _, err := hex.DecodeString(id); err != nil || len(id) != 16 || id != strings.ToLower(id) {
		return "", "", false
	}
	return id, body, ok
}
