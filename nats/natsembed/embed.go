package natsembed

import (
	"errors"
	"fmt"
	"net"
	"time"

	"github.com/nats-io/nats-server/v2/server"
)

// Config configures a server. Its zero value but Dir is the default: a
// random free port on 127.0.0.1.
type Config struct {
	// Dir is the folder where JetStream keeps its data; required.
	Dir string
	// Port is the client port; 0 picks a free one.
	Port int
	// ReadyTimeout bounds the wait for the server to accept clients
	// (default 10s).
	ReadyTimeout time.Duration
}

// Server is a running embedded server.
type Server struct {
	srv *server.Server
}

// Start starts a server and waits until it accepts clients.
func Start(cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("natsembed: no Dir for JetStream's data")
	}
	port := cfg.Port
	if port == 0 {
		port = server.RANDOM_PORT
	}
	wait := cfg.ReadyTimeout
	if wait <= 0 {
		wait = 10 * time.Second
	}
	srv, err := server.NewServer(&server.Options{
		Host: "127.0.0.1", Port: port, JetStream: true, StoreDir: cfg.Dir,
		NoSigs: true, NoLog: true,
	})
	if err != nil {
		return nil, fmt.Errorf("natsembed: %w", err)
	}
	srv.Start()
	if !srv.ReadyForConnections(wait) {
		srv.Shutdown()
		srv.WaitForShutdown()
		return nil, fmt.Errorf("natsembed: server on port %d with data in %s not ready after %v", cfg.Port, cfg.Dir, wait)
	}
	return &Server{srv: srv}, nil
}

// URL returns the nats:// URL clients connect to.
func (s *Server) URL() string { return s.srv.ClientURL() }

// Port returns the client port (to restart a server on the same one).
func (s *Server) Port() int { return s.srv.Addr().(*net.TCPAddr).Port }

// Shutdown stops the server and waits until it has stopped.
func (s *Server) Shutdown() {
	s.srv.Shutdown()
	s.srv.WaitForShutdown()
}
