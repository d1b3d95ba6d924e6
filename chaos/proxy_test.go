package chaos_test

import (
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
)

// faultProxy forwards TCP connections to a target and injects the faults
// of the network between tickflow and a dependency: a connection reset
// after so many bytes of the answer, an answer that stops half-way and
// never resumes (a stalled body), or every open connection cut at once (a
// database restarting). It knows nothing of the protocol above TCP.
type faultProxy struct {
	ln     net.Listener
	target string
	// Every faultEvery-th connection (counting from 1), up to faultMax of
	// them, is reset, or with stall held without a byte more, once
	// faultAfter bytes of the target's answer have passed; 0: none.
	faultEvery, faultAfter, faultMax int
	stall                            bool

	mu     sync.Mutex
	open   map[*proxyConn]struct{}
	closed bool
	wg     sync.WaitGroup

	accepted atomic.Int64
	faults   atomic.Int64 // connections reset or stalled by faultEvery
	cutAll   atomic.Int64 // connections cut by CutAll
}

// proxyConn is one forwarded connection: the client's side and the target's.
type proxyConn struct {
	client, server net.Conn
	once           sync.Once
}

// reset closes both sides, the client's with a TCP reset (no FIN), as a
// crashed peer or a middlebox does.
func (c *proxyConn) reset() {
	c.once.Do(func() {
		if tc, ok := c.client.(*net.TCPConn); ok {
			_ = tc.SetLinger(0)
		}
		_ = c.client.Close()
		_ = c.server.Close()
	})
}

// newFaultProxy starts a proxy to target on 127.0.0.1; it is closed, and
// its goroutines waited for, at the end of t.
func newFaultProxy(t testing.TB, target string, faultEvery, faultAfter, faultMax int, stall bool) *faultProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &faultProxy{ln: ln, target: target, faultEvery: faultEvery, faultAfter: faultAfter, faultMax: faultMax, stall: stall,
		open: map[*proxyConn]struct{}{}}
	p.wg.Go(p.accept)
	t.Cleanup(p.Close)
	return p
}

// Addr is the proxy's host:port.
func (p *faultProxy) Addr() string { return p.ln.Addr().String() }

func (p *faultProxy) accept() {
	for {
		client, err := p.ln.Accept()
		if err != nil {
			return // closed
		}
		n := p.accepted.Add(1)
		server, err := net.Dial("tcp", p.target)
		if err != nil {
			_ = client.Close()
			continue
		}
		c := &proxyConn{client: client, server: server}
		p.mu.Lock()
		if p.closed {
			p.mu.Unlock()
			c.reset()
			return
		}
		p.open[c] = struct{}{}
		p.mu.Unlock()
		faulty := p.faultEvery > 0 && n%int64(p.faultEvery) == 0 && n/int64(p.faultEvery) <= int64(p.faultMax)
		asked := make(chan struct{}) // closed when the client has stopped sending
		p.wg.Go(func() {
			defer close(asked)
			_, _ = io.Copy(server, client) // requests pass untouched
			if tc, ok := server.(*net.TCPConn); ok {
				_ = tc.CloseWrite()
			}
		})
		p.wg.Go(func() {
			defer p.forget(c)
			p.answer(c, faulty, asked)
		})
	}
}

// answer copies the target's answer to the client, injecting the fault.
func (p *faultProxy) answer(c *proxyConn, faulty bool, asked <-chan struct{}) {
	defer c.reset()
	if !faulty {
		_, _ = io.Copy(c.client, c.server)
		return
	}
	if _, err := io.CopyN(c.client, c.server, int64(p.faultAfter)); err != nil {
		return // the answer was shorter: no fault injected
	}
	p.faults.Add(1)
	if p.stall {
		// Hold the connection open without a byte more until the client
		// gives up (its attempt timeout) and closes it, or CutAll or Close.
		<-asked
	}
}

func (p *faultProxy) forget(c *proxyConn) {
	p.mu.Lock()
	delete(p.open, c)
	p.mu.Unlock()
}

// CutAll resets every open connection and returns how many it cut.
func (p *faultProxy) CutAll() int {
	p.mu.Lock()
	conns := make([]*proxyConn, 0, len(p.open))
	for c := range p.open {
		conns = append(conns, c)
	}
	p.mu.Unlock()
	for _, c := range conns {
		c.reset()
	}
	p.cutAll.Add(int64(len(conns)))
	return len(conns)
}

// Close stops accepting, cuts every connection and waits for the proxy's
// goroutines.
func (p *faultProxy) Close() {
	p.mu.Lock()
	p.closed = true
	p.mu.Unlock()
	_ = p.ln.Close()
	p.CutAll()
	p.wg.Wait()
}
