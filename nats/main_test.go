package nats_test

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	natsclient "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/nats"
	"github.com/tickflow/tickflow/nats/natsembed"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// bus is one server to test on, with a namespace of the test's own.
type bus struct {
	js  jetstream.JetStream
	nc  *natsclient.Conn
	ns  nats.Namespace
	url string
	srv *natsembed.Server // nil on the real server
	dir string
}

// servers runs f on the embedded server and, when TICKFLOW_TEST_NATS is
// set, on the real one.
func servers(t *testing.T, f func(t *testing.T, b *bus)) {
	t.Run("embedded", func(t *testing.T) { f(t, embedded(t)) })
	t.Run("real", func(t *testing.T) {
		url := os.Getenv("TICKFLOW_TEST_NATS")
		if url == "" {
			t.Skip("TICKFLOW_TEST_NATS is not set (e.g. nats://127.0.0.1:4222)")
		}
		f(t, connect(t, url, nil, ""))
	})
}

func embedded(t testing.TB) *bus {
	t.Helper()
	dir := t.TempDir()
	srv, err := natsembed.Start(natsembed.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	return connect(t, srv.URL(), srv, dir)
}

func connect(t testing.TB, url string, srv *natsembed.Server, dir string) *bus {
	t.Helper()
	nc, err := natsclient.Connect(url, natsclient.MaxReconnects(-1), natsclient.ReconnectWait(50*time.Millisecond))
	if err != nil {
		if srv != nil {
			srv.Shutdown()
		}
		t.Fatal(err)
	}
	js, err := jetstream.New(nc)
	if err != nil {
		t.Fatal(err)
	}
	var id [4]byte
	_, _ = rand.Read(id[:])
	b := &bus{js: js, nc: nc, ns: nats.Namespace("t" + hex.EncodeToString(id[:])), url: url, srv: srv, dir: dir}
	t.Cleanup(func() {
		if srv == nil { // the real server outlives the test: remove what it made
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = js.DeleteStream(ctx, b.ns.BarsStream())
			_ = js.DeleteStream(ctx, b.ns.SignalsStream())
			_ = js.DeleteKeyValue(ctx, b.ns.PositionsBucket())
		}
		nc.Close()
		if b.srv != nil {
			b.srv.Shutdown()
		}
	})
	return b
}

func testContext(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	t.Cleanup(cancel)
	return ctx
}
