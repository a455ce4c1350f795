package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/client"
	"github.com/smartlic/smartlic/manager"
	"github.com/smartlic/smartlic/secretbox"
	"github.com/smartlic/smartlic/sign"
	"github.com/smartlic/smartlic/store"
)

// asSmartlic makes the test binary act as the smartlic binary: the tests
// here start it as a child process (a replica, a server to kill), which is
// the real program — the same main, flags and signal handling — without a
// separate build step.
const asSmartlic = "SMARTLIC_TEST_AS_SMARTLIC"

func TestMain(m *testing.M) {
	if os.Getenv(asSmartlic) == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// logBuffer collects a child's stderr (its log) while the test reads it.
type logBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *logBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *logBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// child is `smartlic serve` running as a process of its own.
type child struct {
	name   string
	url    string
	cmd    *exec.Cmd
	logs   *logBuffer
	exited chan struct{} // closed once the process has been waited for
}

// startServe starts `smartlic serve --addr 127.0.0.1:0 args…` and returns
// once it has printed the address it listens on. The child is stopped
// (SIGTERM, then SIGKILL) when the test ends, if it is still running.
func startServe(t *testing.T, name string, args ...string) *child {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve", "--addr", "127.0.0.1:0"}, args...)...)
	cmd.Env = append(os.Environ(), asSmartlic+"=1")
	c := &child{name: name, cmd: cmd, logs: &logBuffer{}, exited: make(chan struct{})}
	cmd.Stderr = c.logs
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("starting %s: %v", name, err)
	}
	listening := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if _, rest, ok := strings.Cut(sc.Text(), " listening on "); ok {
				u, _, _ := strings.Cut(rest, " ")
				select {
				case listening <- u:
				default:
				}
			}
		}
		io.Copy(io.Discard, out)
		cmd.Wait()
		close(c.exited)
	}()
	t.Cleanup(func() {
		c.stop(t)
		if t.Failed() {
			t.Logf("%s's log:\n%s", name, c.logs)
		}
	})
	select {
	case c.url = <-listening:
		return c
	case <-c.exited:
		t.Fatalf("%s exited before it listened:\n%s", name, c.logs)
	case <-time.After(2 * time.Minute):
		t.Fatalf("%s printed no address within 2 minutes:\n%s", name, c.logs)
	}
	return nil
}

// kill ends the child at once, as a crash or an OOM killer would: no
// deferred cleanup, no graceful shutdown, connections cut by the kernel.
func (c *child) kill(t *testing.T) {
	t.Helper()
	if err := c.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Errorf("killing %s: %v", c.name, err) // Errorf: kill runs on other goroutines too
	}
	<-c.exited
}

func (c *child) stop(t *testing.T) {
	select {
	case <-c.exited:
		return
	default:
	}
	c.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-c.exited:
	case <-time.After(30 * time.Second):
		c.cmd.Process.Kill()
		<-c.exited
		t.Errorf("%s did not stop within 30s of SIGTERM", c.name)
	}
}

// eventually polls cond until it holds or within has passed; the message
// says what was awaited.
func eventually(t *testing.T, within time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(within)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("%s: not within %s", what, within)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// keyFile writes a fresh secret key file, as an operator makes one for
// every replica, and returns it with the key ring it holds.
func keyFile(t *testing.T) (string, *secretbox.Keyring) {
	t.Helper()
	key := make([]byte, 32)
	rand.Read(key)
	path := filepath.Join(t.TempDir(), "smartlic.key")
	if err := os.WriteFile(path, []byte(base64.StdEncoding.EncodeToString(key)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	kr, err := secretbox.New(key)
	if err != nil {
		t.Fatal(err)
	}
	return path, kr
}

// world is what the tests seed before the servers start, through the
// manager on the same database: a catalogue, an account with one VA and
// pools, and the operator who checks the outcome afterwards.
type world struct {
	mgr *manager.Manager
	st  *store.DB
	op  context.Context
	sa  smartlic.SmartAccount
}

const (
	pid      = "C9300-24T"
	saDomain = "replicas.example.com"
	vaName   = "Campus"
)

var tags = []string{"network-advantage", "dna-advantage"}

func seed(t *testing.T, dsn string, keys *secretbox.Keyring, opts ...manager.Option) *world {
	t.Helper()
	ctx := context.Background()
	st, err := store.Open(ctx, dsn, store.WithSecretKeys(keys))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	mgr, err := manager.New(ctx, st, smartlic.SystemClock{}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := mgr.CreateOperator(ctx, "ops@example.com"); err != nil {
		t.Fatal(err)
	}
	w := &world{mgr: mgr, st: st, op: smartlic.WithActor(ctx, smartlic.Actor{Email: "ops@example.com", Role: smartlic.RoleOperator})}
	for _, tag := range tags {
		if _, err := mgr.CreateLicenseType(w.op, smartlic.LicenseType{Tag: tag, Name: tag, Term: smartlic.TermPerpetual, Enforcement: smartlic.Unenforced}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := mgr.CreateProduct(w.op, smartlic.Product{PID: pid, Name: "Catalyst 9300", LicenseTypes: tags}); err != nil {
		t.Fatal(err)
	}
	if w.sa, err = mgr.CreateSmartAccount(w.op, smartlic.SmartAccount{Name: "Replicas", Domain: saDomain, Status: smartlic.SAActive}); err != nil {
		t.Fatal(err)
	}
	if _, err := mgr.CreateVirtualAccount(w.op, saDomain, smartlic.VirtualAccountInput{Name: vaName}); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) deposit(t *testing.T, tag string, n int64) {
	t.Helper()
	if _, err := w.mgr.CreateDeposit(w.op, saDomain, vaName, smartlic.DepositInput{OrderNumber: "SO-" + tag, License: tag, Quantity: n}); err != nil {
		t.Fatal(err)
	}
}

func (w *world) token(t *testing.T, maxUses int64) smartlic.Token {
	t.Helper()
	in := smartlic.TokenInput{Description: "rollout", ExpiresInDays: 30}
	if maxUses > 0 {
		in.MaxUses = &maxUses
	}
	tok, err := w.mgr.CreateToken(w.op, saDomain, vaName, in)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// verifyEvents checks every chain of the account's event log.
func (w *world) verifyEvents(t *testing.T) {
	t.Helper()
	verdicts, err := w.mgr.VerifyEvents(w.op, saDomain)
	if err != nil {
		t.Fatal(err)
	}
	if len(verdicts) == 0 {
		t.Fatal("no event chain to verify")
	}
	for _, v := range verdicts {
		if !v.OK {
			t.Fatalf("event chain %s does not verify: %+v", v.Chain, v)
		}
	}
}

// device is a product instance speaking the protocol with its own key.
type device struct {
	udi  smartlic.UDI
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	id   string
}

func newDevice(t *testing.T, sn string) *device {
	t.Helper()
	pub, priv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	return &device{udi: smartlic.UDI{PID: pid, SN: sn}, pub: pub, priv: priv}
}

func (d *device) registerRequest(t *testing.T, token string) smartlic.Envelope {
	t.Helper()
	env, err := sign.Seal(smartlic.TypeRegisterRequest, base64.RawURLEncoding.EncodeToString(d.pub), d.priv, smartlic.RegisterRequest{
		Token: token, UDI: d.udi, Hostname: strings.ToLower(d.udi.SN), PublicKey: d.pub, SentAt: time.Now().UTC(),
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

func (d *device) authRequest(t *testing.T, usage ...smartlic.Usage) smartlic.Envelope {
	t.Helper()
	nonce := make([]byte, 16)
	rand.Read(nonce)
	env, err := sign.Seal(smartlic.TypeAuthRequest, d.id, d.priv, smartlic.DeviceRequest{
		InstanceID: d.id, UDI: d.udi, SentAt: time.Now().UTC(), Nonce: base64.RawURLEncoding.EncodeToString(nonce), Usage: usage,
	})
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// register sends req to the server at url and, on success, checks the ID
// certificate against the server's published keys and takes its instance
// id. The error is the server's, for the caller to judge.
func (d *device) register(ctx context.Context, url string, req smartlic.Envelope) error {
	c := client.New(url, "")
	ans, err := c.Register(ctx, req)
	if err != nil {
		return err
	}
	ks, err := c.PublicKeys(ctx)
	if err != nil {
		return err
	}
	var cert smartlic.IDCert
	if err := sign.Open(ans, smartlic.TypeIDCert, sign.NewKeySet(ks.Keys), &cert); err != nil {
		return fmt.Errorf("the ID certificate does not verify: %w", err)
	}
	if cert.UDI != d.udi || !d.pub.Equal(ed25519.PublicKey(cert.PublicKey)) || cert.InstanceID == "" {
		return fmt.Errorf("the ID certificate is not about %s and its key: %+v", d.udi, cert)
	}
	d.id = cert.InstanceID
	return nil
}
