package server

import (
	"crypto/hmac"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"net/url"
	"strings"
)

// ErrNoToken is why Serve refuses a listener beyond loopback when
// Options.Token is empty: anyone who can reach the port could read the
// signals.
var ErrNoToken = errors.New("a Token is required to listen beyond loopback")

// SessionCookie is the cookie that carries a dashboard's session once it
// was opened with ?token=.
const SessionCookie = "tickflow_session"

// guard admits a request by its Host header (against DNS rebinding: a page
// of another site that resolves its own name to this address has that name
// as Host) and, when a token is set, by its credentials.
type guard struct {
	listen   netip.Addr // the listener's IP; unspecified: any interface
	loopback bool
	hosts    map[string]bool // configured names, lower case, without port

	token    [sha256.Size]byte // hash of the token: compared in constant time whatever its length
	hasTok   bool
	session  string // the session cookie's value: derived from the token, not the token
	sessHash [sha256.Size]byte
}

func newGuard(o *Options, addr net.Addr) *guard {
	g := &guard{listen: netip.IPv6Loopback(), loopback: true, hosts: map[string]bool{}}
	if ta, ok := addr.(*net.TCPAddr); ok {
		if ip, ok := netip.AddrFromSlice(ta.IP); ok {
			g.listen = ip.Unmap()
			g.loopback = g.listen.IsLoopback()
		}
	}
	for _, h := range o.Hosts {
		g.hosts[hostName(h)] = true
	}
	if o.Token != "" {
		g.hasTok = true
		g.token = sha256.Sum256([]byte(o.Token))
		mac := hmac.New(sha256.New, []byte(o.Token))
		mac.Write([]byte("tickflow dashboard session"))
		g.session = hex.EncodeToString(mac.Sum(nil))
		g.sessHash = sha256.Sum256([]byte(g.session))
	}
	return g
}

// hostName is a Host header's or a configured name's host, lower case,
// without port, brackets or final dot.
func hostName(h string) string {
	if host, _, err := net.SplitHostPort(h); err == nil {
		h = host
	}
	h = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSuffix(h, "]"), "["), ".")
	return strings.ToLower(h)
}

// hostAllowed reports whether a request's Host names this server: a
// configured name; an IP literal of the listener (any, when it listens on
// every interface: an IP literal cannot be rebound); on loopback, any
// loopback IP; on loopback or every interface, localhost or a name under
// .localhost, which browsers resolve to loopback themselves.
func (g *guard) hostAllowed(host string) bool {
	h := hostName(host)
	if h == "" {
		return false
	}
	if g.hosts[h] {
		return true
	}
	if ip, err := netip.ParseAddr(h); err == nil {
		ip = ip.Unmap()
		return g.listen.IsUnspecified() || ip == g.listen || g.loopback && ip.IsLoopback()
	}
	local := g.loopback || g.listen.IsUnspecified()
	return local && (h == "localhost" || strings.HasSuffix(h, ".localhost"))
}

func (g *guard) equal(hash [sha256.Size]byte, s string) bool {
	got := sha256.Sum256([]byte(s))
	return subtle.ConstantTimeCompare(got[:], hash[:]) == 1
}

// authorized reports whether r carries the token: as a bearer token or as
// the session cookie.
func (g *guard) authorized(r *http.Request) bool {
	if !g.hasTok {
		return true
	}
	if h := r.Header.Get("Authorization"); len(h) > 7 && strings.EqualFold(h[:7], "bearer ") {
		if g.equal(g.token, strings.TrimSpace(h[7:])) {
			return true
		}
	}
	if c, err := r.Cookie(SessionCookie); err == nil {
		return g.equal(g.sessHash, c.Value)
	}
	return false
}

// wrap guards next: Host first, then the token; a valid ?token= sets the
// session cookie and redirects to the same URL without it, so the token
// leaves the address bar and the browser's history.
func (g *guard) wrap(next http.Handler, rejected func(reason string)) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.hostAllowed(r.Host) {
			rejected("host")
			http.Error(w, "server: this Host is not served here (set server Hosts to add a name)", http.StatusMisdirectedRequest)
			return
		}
		if q := r.URL.Query(); g.hasTok && q.Has("token") {
			if !g.equal(g.token, q.Get("token")) {
				rejected("unauthorized")
				unauthorized(w)
				return
			}
			http.SetCookie(w, &http.Cookie{
				Name: SessionCookie, Value: g.session, Path: "/",
				HttpOnly: true, SameSite: http.SameSiteStrictMode, Secure: r.TLS != nil,
			})
			q.Del("token")
			u := url.URL{Path: "/" + strings.TrimLeft(r.URL.Path, "/"), RawQuery: q.Encode()} // "//host" would leave the site
			http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
			return
		}
		if !g.authorized(r) {
			rejected("unauthorized")
			unauthorized(w)
			return
		}
		next.ServeHTTP(w, r)
	})
}

func unauthorized(w http.ResponseWriter) {
	w.Header().Set("WWW-Authenticate", `Bearer realm="tickflow"`)
	http.Error(w, "server: unauthorized: send Authorization: Bearer <token>, or open the dashboard once with ?token=<token>", http.StatusUnauthorized)
}
