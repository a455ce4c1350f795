package httpapi

import (
	"bytes"
	"context"
	"errors"
	"io"
	"testing"
	"testing/iotest"
)

// TestReadBody: whatever the announced length, whoever the caller and
// however the bytes arrive, the body read is the body sent (up to the
// limit), and an error of the connection is passed on.
func TestReadBody(t *testing.T) {
	const limit = 3<<20 + 1
	for _, size := range []int{0, 1, 511, 512, 513, trustedLength, trustedLength + 1, 200_000, 3 << 20, 3<<20 + 5} {
		sent := bytes.Repeat([]byte("0123456789abcdef"), size/16+1)[:size]
		want := sent[:min(size, limit)]
		for _, trusted := range []bool{true, false} {
			for _, length := range []int64{int64(size), -1} {
				readers := map[string]io.Reader{
					"whole":      bytes.NewReader(sent),
					"half reads": iotest.HalfReader(bytes.NewReader(sent)),
					"data+EOF":   iotest.DataErrReader(bytes.NewReader(sent)),
				}
				for name, r := range readers {
					got, err := readBody(r, length, limit, trusted)
					if err != nil || !bytes.Equal(got, want) {
						t.Errorf("size %d, length %d, trusted %v, %s: got %d bytes (equal %v), %v; want %d bytes", size, length, trusted, name, len(got), bytes.Equal(got, want), err, len(want))
					}
				}
			}
		}
	}

	broken := errors.New("connection reset")
	for _, trusted := range []bool{true, false} {
		body := io.MultiReader(bytes.NewReader(make([]byte, 100_000)), iotest.ErrReader(broken))
		if _, err := readBody(body, 200_000, limit, trusted); !errors.Is(err, broken) {
			t.Errorf("trusted %v: a connection broken mid-body: %v, want %v", trusted, err, broken)
		}
	}
	// A body that ends before its Content-Length.
	if _, err := readBody(bytes.NewReader(make([]byte, 10)), 20, limit, true); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a body shorter than announced: %v, want unexpected EOF", err)
	}
}

// TestTakeOwnBody: the operation that takes its body is its only holder
// afterwards, so that a large file is garbage once parsed; a second take,
// or a context without a body, gets nothing.
func TestTakeOwnBody(t *testing.T) {
	body := []byte(`{"type":"smartlic.usage-file/v1"}`)
	held := &ownedBody{b: body}
	ctx := context.WithValue(t.Context(), ownBodyKey{}, held)
	if got := takeOwnBody(ctx); string(got) != string(body) {
		t.Fatalf("takeOwnBody = %q, want %q", got, body)
	}
	if held.b != nil {
		t.Fatalf("the context still holds the body after it was taken")
	}
	if got := takeOwnBody(ctx); got != nil {
		t.Fatalf("a second take = %q, want nothing", got)
	}
	if got := takeOwnBody(t.Context()); got != nil {
		t.Fatalf("take without a body = %q, want nothing", got)
	}
	in := &rawJSONBody{}
	in.setBody(body)
	if got := in.take(); string(got) != string(body) || in.raw != nil {
		t.Fatalf("take = %q and left %q in the input, want the body and nothing", got, in.raw)
	}
}
