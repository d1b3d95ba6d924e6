package nats

import (
	"context"
	"fmt"
	"time"

	natsclient "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
)

// Connect dials url (nats://HOST:PORT, or several separated by commas) and
// checks that JetStream answers, so that an unreachable or JetStream-less
// bus is one clear error at start. The connection reconnects for ever once
// made (a worker outlives a server restart); opts come after tickflow's
// defaults and may override them. The caller closes the connection.
func Connect(ctx context.Context, url string, opts ...natsclient.Option) (*natsclient.Conn, jetstream.JetStream, error) {
	all := append([]natsclient.Option{
		natsclient.Name("tickflow"),
		natsclient.MaxReconnects(-1),
		natsclient.ReconnectWait(250 * time.Millisecond),
		natsclient.Timeout(5 * time.Second),
	}, opts...)
	nc, err := natsclient.Connect(url, all...)
	if err != nil {
		return nil, nil, fmt.Errorf("nats: connect %s: %w", url, err)
	}
	js, err := jetstream.New(nc)
	if err == nil {
		_, err = js.AccountInfo(ctx)
	}
	if err != nil {
		nc.Close()
		return nil, nil, fmt.Errorf("nats: %s: JetStream: %w", url, err)
	}
	return nc, js, nil
}
