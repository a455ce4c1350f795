package main

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"runtime"
	"sync"
	"time"

	"github.com/smartlic/smartlic"
	"github.com/smartlic/smartlic/sign"
)

// device is a product instance speaking the protocol directly: its UDI, its
// own Ed25519 key and, once registered, its instance id.
type device struct {
	udi  smartlic.UDI
	pub  ed25519.PublicKey
	priv ed25519.PrivateKey
	id   string
}

// newDevices makes n devices with distinct serial numbers and keys, on
// every core. The serial numbers carry a random run prefix, so that
// devices of repeated runs against one server never collide.
func newDevices(ctx context.Context, n int) ([]*device, error) {
	b := make([]byte, 4)
	rand.Read(b)
	prefix := "B" + hex.EncodeToString(b) + "-"
	devs := make([]*device, n)
	err := parallel(ctx, n, runtime.NumCPU(), func(i int) error {
		pub, priv, err := ed25519.GenerateKey(rand.Reader)
		if err != nil {
			return err
		}
		devs[i] = &device{udi: smartlic.UDI{PID: productPID, SN: fmt.Sprintf("%s%07d", prefix, i)}, pub: pub, priv: priv}
		return nil
	})
	return devs, err
}

// registerRequest is the device's signed registration request: kid is its
// public key, unpadded base64url, as docs/protocols.md says.
func (d *device) registerRequest(token string, now time.Time) (smartlic.Envelope, error) {
	return sign.Seal(smartlic.TypeRegisterRequest, base64.RawURLEncoding.EncodeToString(d.pub), d.priv, smartlic.RegisterRequest{
		Token: token, UDI: d.udi, Hostname: "sw-" + d.udi.SN, PublicKey: d.pub, SentAt: now,
	})
}

// authRequest is the registered device's signed authorization request.
func (d *device) authRequest(now time.Time, usage []smartlic.Usage) (smartlic.Envelope, error) {
	return sign.Seal(smartlic.TypeAuthRequest, d.id, d.priv, smartlic.DeviceRequest{
		InstanceID: d.id, UDI: d.udi, SentAt: now, Usage: usage,
	})
}

// encodeAll turns every device's request into the JSON body the wire
// carries, on every core, before any clock starts.
func encodeAll(ctx context.Context, devs []*device, build func(*device) (smartlic.Envelope, error)) ([][]byte, error) {
	bodies := make([][]byte, len(devs))
	err := parallel(ctx, len(devs), runtime.NumCPU(), func(i int) error {
		env, err := build(devs[i])
		if err != nil {
			return err
		}
		bodies[i], err = json.Marshal(env)
		return err
	})
	return bodies, err
}

// checkIDCert opens a register answer: it must be an ID certificate signed
// by one of the manager's keys, about this device and its key. It sets the
// device's instance id.
func (d *device) checkIDCert(body []byte, keys sign.KeySet) error {
	env, err := sign.Parse(body)
	if err != nil {
		return err
	}
	return d.openIDCert(env, keys)
}

func (d *device) openIDCert(env smartlic.Envelope, keys sign.KeySet) error {
	var cert smartlic.IDCert
	if err := sign.Open(env, smartlic.TypeIDCert, keys, &cert); err != nil {
		return err
	}
	switch {
	case cert.UDI != d.udi:
		return fmt.Errorf("ID certificate is for %s, not %s", cert.UDI, d.udi)
	case !d.pub.Equal(ed25519.PublicKey(cert.PublicKey)):
		return fmt.Errorf("ID certificate of %s carries another public key", d.udi)
	case cert.InstanceID == "":
		return fmt.Errorf("ID certificate of %s has no instance id", d.udi)
	}
	d.id = cert.InstanceID
	return nil
}

// parallel runs fn(0) … fn(n-1) on at most workers goroutines. The first
// error stops the handing out of further work and is returned.
func parallel(ctx context.Context, n, workers int, fn func(i int) error) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	jobs := make(chan int)
	var wg sync.WaitGroup
	for range max(1, min(workers, n)) {
		wg.Go(func() {
			for i := range jobs {
				if err := fn(i); err != nil {
					cancel(err)
					return
				}
			}
		})
	}
feed:
	for i := range n {
		select {
		case jobs <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	return nil
}
