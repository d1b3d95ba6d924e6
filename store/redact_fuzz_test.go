package store_test

import (
	"context"
	"errors"
	"net/url"
	"strings"
	"testing"

	"github.com/tickflow/tickflow/store"
)

// FuzzRedact: whatever the password, neither Redact nor an Open error shows it.
func FuzzRedact(f *testing.F) {
	for _, pw := range []string{"hunter2", "p@ss:word/#?", "   ", "%41%42", "xxxxx-not"} {
		f.Add(pw)
	}
	f.Fuzz(func(t *testing.T, pw string) {
		if len(pw) < 4 {
			t.Skip("too short to tell from the rest of the URL")
		}
		u := url.URL{Scheme: "postgres", User: url.UserPassword("ann", pw), Host: "127.0.0.1:1", Path: "/db", RawQuery: "connect_timeout=1"}
		raw := u.String()
		escaped := strings.TrimPrefix(strings.Split(raw, "@")[0], "postgres://ann:")
		masked := "postgres://ann:xxxxx@127.0.0.1:1/db?connect_timeout=1"
		if strings.Contains(masked, escaped) || strings.Contains(masked, pw) {
			t.Skip("the password is part of the masked URL")
		}
		if r := store.Redact(raw); r != masked {
			t.Fatalf("Redact(%q) = %q, want %q", raw, r, masked)
		}
		_, err := store.Open(context.Background(), raw)
		if err == nil || !errors.Is(err, store.ErrUnavailable) && !errors.Is(err, store.ErrURL) {
			t.Fatalf("Open: %v", err)
		}
		if msg := err.Error(); strings.Contains(msg, pw) || strings.Contains(msg, escaped) || strings.Contains(msg, "\n") {
			t.Fatalf("Open error shows the password or spans lines: %q", msg)
		}
	})
}
