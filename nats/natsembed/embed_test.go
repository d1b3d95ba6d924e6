package natsembed_test

import (
	"context"
	"testing"
	"time"

	natsclient "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	"go.uber.org/goleak"

	"github.com/tickflow/tickflow/nats/natsembed"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func TestStartRestartKeepsStreams(t *testing.T) {
	dir := t.TempDir()
	srv, err := natsembed.Start(natsembed.Config{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	port := srv.Port()
	publish := func(url string) uint64 {
		t.Helper()
		nc, err := natsclient.Connect(url)
		if err != nil {
			t.Fatal(err)
		}
		defer nc.Close()
		js, _ := jetstream.New(nc)
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: "S", Subjects: []string{"s.>"}}); err != nil {
			t.Fatal(err)
		}
		ack, err := js.Publish(ctx, "s.x", []byte("x"))
		if err != nil {
			t.Fatal(err)
		}
		return ack.Sequence
	}
	if seq := publish(srv.URL()); seq != 1 {
		t.Fatalf("first message at %d", seq)
	}
	srv.Shutdown()

	srv, err = natsembed.Start(natsembed.Config{Dir: dir, Port: port})
	if err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	if srv.Port() != port {
		t.Fatalf("restarted on port %d, want %d", srv.Port(), port)
	}
	if seq := publish(srv.URL()); seq != 2 {
		t.Fatalf("after a restart the message is at %d, want 2: the stream was not kept", seq)
	}
}

func TestStartNeedsDir(t *testing.T) {
	if _, err := natsembed.Start(natsembed.Config{}); err == nil {
		t.Fatal("no error without Dir")
	}
}
