package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/smartlic/smartlic"
)

// Job periods that would hammer the database or never run stop serve
// before it opens anything, naming the flag.
func TestServeRefusesJobPeriods(t *testing.T) {
	db := filepath.Join(t.TempDir(), "smartlic.db")
	for _, tc := range []struct{ flag, value string }{
		{"--jobs-poll", "1ms"},
		{"--jobs-poll", "0s"},
		{"--alerts-every", "-1m"},
		{"--webhooks-every", "48h"},
	} {
		var out bytes.Buffer
		err := run(context.Background(), []string{"serve", "--addr", "127.0.0.1:0", "--db", db, tc.flag, tc.value},
			&env{stdout: &out, stderr: &out, getenv: func(string) string { return "" }})
		if smartlic.ErrorCode(err) != smartlic.EInvalid || smartlic.ErrorField(err) != tc.flag {
			t.Errorf("serve %s %s: %v (code %q, field %q), want invalid %s", tc.flag, tc.value, err, smartlic.ErrorCode(err), smartlic.ErrorField(err), tc.flag)
		}
	}
	if _, err := os.Stat(db); !os.IsNotExist(err) {
		t.Errorf("serve made %s before refusing its flags (%v)", db, err)
	}
}
