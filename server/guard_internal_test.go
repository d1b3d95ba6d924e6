package server

import (
	"net"
	"net/netip"
	"testing"
)

func TestHostAllowed(t *testing.T) {
	tcp := func(s string) net.Addr { a, _ := net.ResolveTCPAddr("tcp", s); return a }
	for _, tc := range []struct {
		listen net.Addr
		hosts  []string
		host   string
		ok     bool
	}{
		{nil, nil, "127.0.0.1:9090", true},
		{nil, nil, "localhost:9090", true},
		{nil, nil, "LOCALHOST.", true},
		{nil, nil, "[::1]:9090", true},
		{nil, nil, "app.localhost", true},
		{nil, nil, "127.0.0.2", true},
		{nil, nil, "evil.example", false},           // DNS rebinding: the attacker's name
		{nil, nil, "127.0.0.1.nip.io", false},       // a name that resolves to loopback is still a name
		{nil, nil, "localhost.evil.example", false}, //
		{nil, nil, "", false},
		{nil, nil, "192.168.1.5:9090", false},
		{nil, []string{"tickflow.lan"}, "TickFlow.lan:443", true},
		{nil, []string{"tickflow.lan:8080"}, "tickflow.lan", true},
		{tcp("127.0.0.1:9090"), nil, "localhost", true},
		{tcp("0.0.0.0:9090"), nil, "192.168.1.5:9090", true}, // an IP literal cannot be rebound
		{tcp("0.0.0.0:9090"), nil, "[fe80::1]:9090", true},
		{tcp("0.0.0.0:9090"), nil, "localhost:9090", true},
		{tcp("0.0.0.0:9090"), nil, "evil.example", false},
		{tcp("[::]:9090"), nil, "10.1.2.3", true},
		{tcp("192.168.1.5:9090"), nil, "192.168.1.5:9090", true},
		{tcp("192.168.1.5:9090"), nil, "192.168.1.6:9090", false},
		{tcp("192.168.1.5:9090"), nil, "127.0.0.1:9090", false},
		{tcp("192.168.1.5:9090"), nil, "localhost", false},
		{tcp("192.168.1.5:9090"), []string{"bot.example.com"}, "bot.example.com", true},
	} {
		g := newGuard(&Options{Hosts: tc.hosts}, tc.listen)
		if got := g.hostAllowed(tc.host); got != tc.ok {
			t.Errorf("listening on %v with Hosts %q: Host %q allowed = %v, want %v", tc.listen, tc.hosts, tc.host, got, tc.ok)
		}
	}
}

func hasSuffix(s, suffix string) bool {
	return len(s) >= len(suffix) && s[len(s)-len(suffix):] == suffix
}

func isLoopbackIP(s string) bool {
	ip, err := netip.ParseAddr(s)
	return err == nil && ip.Unmap().IsLoopback()
}
