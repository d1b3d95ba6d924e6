package nats

import (
	"context"

	natsclient "github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"

	"github.com/tickflow/tickflow/health"
)

// BusHealth is the health check of the bus connection, for /healthz: it
// passes while the connection is up and JetStream answers.
type BusHealth struct {
	Conn *natsclient.Conn
	JS   jetstream.JetStream
}

var _ health.Checker = BusHealth{}

// Check reports the connection's state and asks JetStream for the account's
// limits, within ctx's deadline.
func (b BusHealth) Check(ctx context.Context) health.Status {
	url := b.Conn.ConnectedUrlRedacted()
	if !b.Conn.IsConnected() {
		return health.Fail("bus %s", b.Conn.Status())
	}
	if _, err := b.JS.AccountInfo(ctx); err != nil {
		return health.Fail("bus %s: JetStream: %v", url, err)
	}
	return health.OK("bus %s connected", url)
}
