package server_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tickflow/tickflow/server"
)

const secret = "s3cret-Token_42"

func request(t *testing.T, h http.Handler, r *http.Request) *httptest.ResponseRecorder {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, r)
	if strings.Contains(rec.Body.String(), secret) {
		t.Errorf("%s %s: the token is in the response body", r.Method, r.URL)
	}
	for k, vs := range rec.Header() {
		for _, v := range vs {
			if strings.Contains(v, secret) {
				t.Errorf("%s %s: the token is in header %s", r.Method, r.URL, k)
			}
		}
	}
	return rec
}

// TestHostIsChecked: a page of another site that rebinds its name to the
// server's address sends its own name as Host, and is refused.
func TestHostIsChecked(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := server.New(server.Options{Registerer: reg, Gatherer: reg, Hosts: []string{"tickflow.lan"}})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for _, tc := range []struct {
		host string
		code int
	}{
		{"127.0.0.1:9090", http.StatusOK},
		{"localhost:9090", http.StatusOK},
		{"tickflow.lan", http.StatusOK},
		{"rebind.evil.example:9090", http.StatusMisdirectedRequest},
		{"192.168.1.5", http.StatusMisdirectedRequest},
	} {
		for _, path := range []string{"/", "/api/symbols", "/events", "/metrics"} {
			r := httptest.NewRequest(http.MethodGet, "http://"+tc.host+path, nil)
			if path == "/events" {
				ctx, cancel := context.WithCancel(context.Background())
				cancel() // a stream that is let in ends at once
				r = r.WithContext(ctx)
			}
			if rec := request(t, h, r); rec.Code != tc.code {
				t.Errorf("Host %s %s: %d, want %d", tc.host, path, rec.Code, tc.code)
			}
		}
	}
	if got := rejected(t, reg, "host"); got != 8 {
		t.Errorf(`rejected{reason="host"} = %v, want 8`, got)
	}
	if _, err := server.New(server.Options{Hosts: []string{":80"}}); err == nil {
		t.Error("New accepted a Hosts entry without a name")
	}
}

// TestTokenIsRequiredOnEveryRoute, with the ways to give it.
func TestTokenIsRequiredOnEveryRoute(t *testing.T) {
	reg := prometheus.NewRegistry()
	s, err := server.New(server.Options{Registerer: reg, Gatherer: reg, Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	req := func(path string, set func(*http.Request)) *httptest.ResponseRecorder {
		r := httptest.NewRequest(http.MethodGet, "http://127.0.0.1"+path, nil)
		if set != nil {
			set(r)
		}
		return request(t, h, r)
	}
	bearer := func(tok string) func(*http.Request) {
		return func(r *http.Request) { r.Header.Set("Authorization", "Bearer "+tok) }
	}
	routes := []string{"/", "/static/app.js", "/favicon.ico", "/events", "/api/signals", "/api/symbols", "/api/stats", "/metrics", "/healthz", "/readyz"}
	for _, path := range routes {
		for name, set := range map[string]func(*http.Request){
			"no token":        nil,
			"a wrong token":   bearer(secret + "x"),
			"a prefix":        bearer(secret[:5]),
			"empty":           bearer(""),
			"basic auth":      func(r *http.Request) { r.SetBasicAuth("u", secret) },
			"the raw cookie":  func(r *http.Request) { r.AddCookie(&http.Cookie{Name: server.SessionCookie, Value: secret}) },
			"a wrong ?token=": nil,
		} {
			p := path
			if name == "a wrong ?token=" {
				p += "?token=nope"
			}
			rec := req(p, set)
			if rec.Code != http.StatusUnauthorized || !strings.HasPrefix(rec.Header().Get("WWW-Authenticate"), "Bearer") {
				t.Errorf("%s with %s: %d %q", path, name, rec.Code, rec.Header().Get("WWW-Authenticate"))
			}
		}
	}
	if st := s.Feed().Stats(); st.Clients != 0 {
		t.Errorf("an unauthorized /events subscribed: %+v", st)
	}
	for _, path := range []string{"/", "/api/symbols", "/healthz"} {
		if rec := req(path, bearer(secret)); rec.Code == http.StatusUnauthorized {
			t.Errorf("%s with the bearer token: %d", path, rec.Code)
		}
	}
	if rec := req("/api/stats", func(r *http.Request) { r.Header.Set("Authorization", "bearer "+secret) }); rec.Code != http.StatusOK {
		t.Errorf("lower-case scheme: %d", rec.Code)
	}

	// The dashboard: ?token= once sets the session cookie and leaves the URL.
	rec := req("/?token="+secret+"&symbol=SYM1", nil)
	if rec.Code != http.StatusSeeOther || rec.Header().Get("Location") != "/?symbol=SYM1" {
		t.Fatalf("?token=: %d, Location %q", rec.Code, rec.Header().Get("Location"))
	}
	if rec := req("//evil.example/x?token="+secret, nil); rec.Header().Get("Location") != "/evil.example/x" {
		t.Errorf("?token= on //evil.example/x redirects to %q: want a path of this site", rec.Header().Get("Location"))
	}
	cookies := rec.Result().Cookies()
	if len(cookies) != 1 || cookies[0].Name != server.SessionCookie || !cookies[0].HttpOnly ||
		cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/" || cookies[0].Value == "" {
		t.Fatalf("cookies %+v: want one HttpOnly SameSite=Strict session cookie", cookies)
	}
	for _, path := range routes[:3] {
		if rec := req(path, func(r *http.Request) { r.AddCookie(cookies[0]) }); rec.Code != http.StatusOK {
			t.Errorf("%s with the session cookie: %d", path, rec.Code)
		}
	}
	if got := rejected(t, reg, "unauthorized"); got != float64(7*len(routes)) {
		t.Errorf(`rejected{reason="unauthorized"} = %v, want %d`, got, 7*len(routes))
	}
}

// TestServeRefusesBeyondLoopbackWithoutToken, and serves there with one.
func TestServeRefusesBeyondLoopbackWithoutToken(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	s, err := server.New(server.Options{Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Skipf("cannot listen on every interface: %v", err)
	}
	err = s.Serve(context.Background(), ln)
	if !errors.Is(err, server.ErrNoToken) || !strings.Contains(err.Error(), ln.Addr().String()) {
		t.Errorf("Serve on %s without a token = %v, want ErrNoToken naming the address", ln.Addr(), err)
	}
	if _, err := ln.Accept(); err == nil {
		t.Error("the refused listener is still open")
	}

	s, err = server.New(server.Options{Logger: logger, Token: secret})
	if err != nil {
		t.Fatal(err)
	}
	ln, err = net.Listen("tcp", "0.0.0.0:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- s.Serve(ctx, ln) }()
	get := func(host, auth string) int {
		r, err := http.NewRequest(http.MethodGet, "http://127.0.0.1:"+port+"/api/stats", nil)
		if err != nil {
			t.Fatal(err)
		}
		r.Host = host
		if auth != "" {
			r.Header.Set("Authorization", "Bearer "+auth)
		}
		resp, err := http.DefaultClient.Do(r)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if code := get("10.0.0.7:"+port, secret); code != http.StatusOK {
		t.Errorf("with the token, by IP: %d", code)
	}
	if code := get("10.0.0.7:"+port, ""); code != http.StatusUnauthorized {
		t.Errorf("without the token: %d", code)
	}
	if code := get("evil.example", secret); code != http.StatusMisdirectedRequest {
		t.Errorf("another Host: %d", code)
	}
	cancel()
	if err := <-served; err != nil {
		t.Errorf("Serve: %v", err)
	}
	if strings.Contains(logs.String(), secret) {
		t.Errorf("the token is in the logs:\n%s", logs.String())
	}
}

// TestNoCORS: the API is for the page it serves, not for other origins.
func TestNoCORS(t *testing.T) {
	s, err := server.New(server.Options{})
	if err != nil {
		t.Fatal(err)
	}
	h := s.Handler()
	for _, method := range []string{http.MethodGet, http.MethodOptions} {
		r := httptest.NewRequest(method, "http://127.0.0.1/api/symbols", nil)
		r.Header.Set("Origin", "https://evil.example")
		r.Header.Set("Access-Control-Request-Method", "GET")
		rec := request(t, h, r)
		for k := range rec.Header() {
			if strings.HasPrefix(k, "Access-Control-") {
				t.Errorf("%s: header %s: %q", method, k, rec.Header().Get(k))
			}
		}
		if method == http.MethodOptions && rec.Code < 400 {
			t.Errorf("preflight answered %d", rec.Code)
		}
	}
}
