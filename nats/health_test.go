package nats_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/tickflow/tickflow/nats"
)

func TestBusHealth(t *testing.T) {
	b := embedded(t)
	h := nats.BusHealth{Conn: b.nc, JS: b.js}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Second)
	defer cancel()
	if st := h.Check(ctx); !st.OK || !strings.Contains(st.Reason, "connected") {
		t.Fatalf("up: %+v", st)
	}
	b.srv.Shutdown()
	b.srv = nil
	waitFor(t, "the client noticed", 10*time.Second, func() bool { return !b.nc.IsConnected() })
	if st := h.Check(ctx); st.OK || !strings.Contains(st.Reason, "bus ") {
		t.Fatalf("down: %+v", st)
	}
}
