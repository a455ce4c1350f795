package cli

import (
	"net"
	"path/filepath"
	"strings"
	"testing"
)

// TestReservationEnableUnreachable: an air-gapped instance enabling
// reservation without --keys meets a server it cannot reach; the error
// says how to enable it offline (--keys FILE), not only to fix --server.
func TestReservationEnableUnreachable(t *testing.T) {
	t.Parallel()
	h := newHarness(t)
	// A port nothing listens on: bound, then closed.
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	gone := "http://" + l.Addr().String()
	l.Close()
	sw := filepath.Join(t.TempDir(), "sw1")
	h.ok("device", "--state-dir", sw, "init", "--pid", "C9300-24T", "--sn", "AIR0001")
	_, _, err = h.run("device", "--state-dir", sw, "--server", gone, "license", "smart", "reservation", "enable")
	if err == nil {
		t.Fatal("reservation enable against a closed port succeeded")
	}
	for _, want := range []string{"cannot reach the smartlic server at " + gone, "--keys FILE", gone + "/device/v1/keys"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}
