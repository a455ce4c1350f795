package agent

import (
	"bytes"
	"crypto/ed25519"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// StateVersion is the layout of State this package writes. A state written
// by a newer agent is refused rather than half understood.
const StateVersion = 2

// ErrNoState is wrapped by the error a StateStore's Load returns when no
// state was ever saved: the instance has not been set up yet.
var ErrNoState = errors.New("no saved device state")

// StateStore keeps an instance's licensing state between runs. Load returns
// an error wrapping ErrNoState when nothing was saved. Save must replace
// the previous state atomically: after a crash, Load returns either the old
// or the new state, never a mixture, because the state holds the instance's
// private key and signed documents that are worthless when torn.
type StateStore interface {
	Load() (State, error)
	Save(State) error
}

// State is everything an instance remembers about its licensing. The
// decoded documents (IDCert, Authorization) are kept for people reading the
// file; the agent re-verifies the signed originals when it loads a state
// and trusts only what they say.
type State struct {
	Version   int          `json:"version"`
	UDI       smartlic.UDI `json:"udi"`
	Hostname  string       `json:"hostname,omitempty"`
	CreatedAt time.Time    `json:"created_at"`
	// ManagerKeys are the manager's verification keys, pinned at the first
	// successful registration when none were configured (trust on first
	// use). Answers signed by any other key are refused.
	ManagerKeys sign.KeySet `json:"manager_keys,omitempty"`
	// Usage is what the instance consumes: tag and count, sorted by tag,
	// counts above zero. It is what the next authorization request sends.
	Usage        []smartlic.Usage `json:"usage"`
	Evaluation   Evaluation       `json:"evaluation"`
	Registration *Registration    `json:"registration,omitempty"`
	// Policy is set while the instance runs under Smart Licensing Using
	// Policy (see policy.go); it then has no registration and no
	// evaluation period.
	Policy *PolicyState `json:"policy,omitempty"`
	// Reservation is the license reservation (SLR/PLR), when enabled.
	Reservation *Reservation `json:"reservation,omitempty"`
	// LastAttempt is the last exchange with the manager, whatever it was.
	LastAttempt *Attempt `json:"last_attempt,omitempty"`

	// Product is how the product enforces its licenses (enforce.go).
	Product ProductConfig `json:"product,omitzero"`
	// SLACs are the export-control authorizations installed, and
	// PendingSLACs the offline requests waiting for their code (slac.go).
	SLACs        []InstalledSLAC `json:"slacs,omitempty"`
	PendingSLACs []PendingSLAC   `json:"pending_slacs,omitempty"`
	// SLACReturns are the return codes of the SLACs last removed offline,
	// newest last: the code is the only proof of the return, so the device
	// shows it again until a person has entered it in the manager.
	SLACReturns []SLACReturnCode `json:"slac_returns,omitempty"`
	// CancelledSLACs are the SLACs the manager said an administrator
	// cancelled (their authorization named them), newest last: removed
	// from SLACs, kept here so the summary says why the license stopped.
	CancelledSLACs []CancelledSLAC `json:"cancelled_slacs,omitempty"`
	// Checkpoint is the latest time the agent has seen. Every timer reads
	// the later of the clock and the checkpoint, so setting the clock
	// back extends nothing; the status reports the rollback.
	Checkpoint time.Time `json:"checkpoint,omitzero"`
	// DroppedUsage are the usage lines the latest authorization request
	// dropped because the manager refused them (usage_refused.go).
	DroppedUsage []DroppedUsage `json:"dropped_usage,omitempty"`
}

// Evaluation is the 90-day evaluation clock. It starts at the first use of
// a license while unregistered, stops while the instance is registered and
// runs again after deregistration: it is never reset, so deregistering
// cannot buy a fresh evaluation period.
type Evaluation struct {
	StartedAt *time.Time `json:"started_at,omitempty"`
	// UsedSeconds is the evaluation time consumed before RunningSince.
	UsedSeconds int64 `json:"used_seconds"`
	// RunningSince is set while the clock runs (the instance is not registered).
	RunningSince *time.Time `json:"running_since,omitempty"`
}

// Registration is what an instance holds while registered.
type Registration struct {
	// PrivateKey is the instance's Ed25519 key, made for this registration.
	PrivateKey   ed25519.PrivateKey `json:"private_key"`
	RegisteredAt time.Time          `json:"registered_at"`
	// IDCertDoc is the ID certificate as the manager signed it; IDCert is
	// its verified payload.
	IDCertDoc smartlic.Envelope `json:"id_cert_doc"`
	IDCert    smartlic.IDCert   `json:"id_cert"`
	// AuthorizationDoc is the last authorization as signed; Authorization
	// its verified payload. Both are nil until the first authorization.
	AuthorizationDoc *smartlic.Envelope      `json:"authorization_doc,omitempty"`
	Authorization    *smartlic.Authorization `json:"authorization,omitempty"`
	// LastRenewal and LastAuthorization are the last attempts of each kind,
	// shown by the status as IOS-XE shows its renewal and communication
	// attempts.
	LastRenewal       *Attempt `json:"last_renewal,omitempty"`
	LastAuthorization *Attempt `json:"last_authorization,omitempty"`
}

// Operations an Attempt records.
const (
	OpRegister   = "register"
	OpAuthorize  = "authorize"
	OpRenewID    = "renew_id_cert"
	OpDeregister = "deregister"
)

// Attempt is one exchange with the manager and how it ended.
type Attempt struct {
	Operation string    `json:"operation"`
	At        time.Time `json:"at"`
	// Code is "" when the attempt succeeded, else the error code
	// (token_expired, signature_invalid, internal for an unreachable server…).
	Code    string `json:"code,omitempty"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message,omitempty"`
}

// Succeeded reports whether the attempt worked.
func (a Attempt) Succeeded() bool { return a.Code == "" }

func attempt(op string, at time.Time, err error) *Attempt {
	a := &Attempt{Operation: op, At: at}
	if err != nil {
		a.Code, a.Field = smartlic.ErrorCode(err), smartlic.ErrorField(err)
		var e *smartlic.Error
		if errors.As(err, &e) {
			a.Message = e.Message
		} else {
			// A transport error: local, so its detail (the address that
			// did not answer) is what the operator needs.
			a.Message = err.Error()
		}
	}
	return a
}

// FileState keeps the state in dir/state.json, one directory per instance.
// Saves write a temporary file, sync it and rename it over the old one, so
// a crash leaves the old state or the new one. The file is 0600 and the
// directory 0700: the state holds the instance's private key.
//
// One process at a time should use a directory; two agents saving the same
// directory concurrently each write a whole state, and the last one wins.
func FileState(dir string) StateStore { return &fileState{dir: dir} }

type fileState struct{ dir string }

// StateFileName is the name of the state file inside a FileState directory.
const StateFileName = "state.json"

func (f *fileState) path() string { return filepath.Join(f.dir, StateFileName) }

func (f *fileState) Load() (State, error) {
	b, err := os.ReadFile(f.path())
	if errors.Is(err, fs.ErrNotExist) {
		return State{}, &smartlic.Error{Code: smartlic.ENotFound, Field: "state", Message: "no device state in " + f.dir, Err: ErrNoState}
	}
	if err != nil {
		return State{}, smartlic.Internal(err, "reading the device state")
	}
	return decodeState(b, f.path())
}

func decodeState(b []byte, where string) (State, error) {
	var st State
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&st); err != nil {
		return State{}, smartlic.Invalid("state", "%s is not a device state file: %v", where, err)
	}
	if st.Version > StateVersion {
		return State{}, smartlic.Invalid("state", "%s was written by a newer smartlic (state version %d, this one reads up to %d)", where, st.Version, StateVersion)
	}
	if st.Version < 1 {
		return State{}, smartlic.Invalid("state", "%s has no state version", where)
	}
	return st, nil
}

func (f *fileState) Save(st State) error {
	b, err := json.MarshalIndent(st, "", "  ")
	if err != nil {
		return smartlic.Internal(err, "encoding the device state")
	}
	if err := os.MkdirAll(f.dir, 0o700); err != nil {
		return smartlic.Internal(err, "creating the device state directory")
	}
	if err := writeAtomic(f.dir, f.path(), append(b, '\n')); err != nil {
		return smartlic.Internal(err, "saving the device state")
	}
	return nil
}

// writeAtomic replaces path with data: temporary file in the same
// directory (so rename stays on one file system), fsync, rename, then an
// fsync of the directory so the rename itself survives a power cut.
func writeAtomic(dir, path string, data []byte) (err error) {
	tmp, err := os.CreateTemp(dir, "."+StateFileName+"-*.tmp")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync() // not supported everywhere (Windows); the rename is done either way
		d.Close()
	}
	return nil
}

// MemoryState keeps the state in memory: for tests, and for programs that
// simulate many short-lived instances. It round-trips through JSON on every
// save and load, so it behaves like the file and shares nothing with the
// agent.
func MemoryState() StateStore { return &memoryState{} }

type memoryState struct {
	mu sync.Mutex
	b  []byte
}

func (m *memoryState) Load() (State, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.b == nil {
		return State{}, &smartlic.Error{Code: smartlic.ENotFound, Field: "state", Message: "no device state in memory", Err: ErrNoState}
	}
	return decodeState(m.b, "memory state")
}

func (m *memoryState) Save(st State) error {
	b, err := json.Marshal(st)
	if err != nil {
		return smartlic.Internal(err, "encoding the device state")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.b = b
	return nil
}
