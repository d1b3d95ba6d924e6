package webhook_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/tickflow/tickflow/webhook"
)

// chatService is a local fake of a chat service's webhook API: it checks
// the request as the service documents it and answers as the service does.
type chatService struct {
	mu   sync.Mutex
	got  []map[string]any
	path string
}

func (c *chatService) messages() []map[string]any {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.got
}

// fakeSlack answers an incoming webhook: "text" is required; 200 "ok".
func fakeSlack(c *chatService) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m, ok := decodeChat(c, w, r)
		if !ok {
			return
		}
		if s, _ := m["text"].(string); s == "" {
			http.Error(w, "no_text", http.StatusBadRequest)
			return
		}
		_, _ = w.Write([]byte("ok"))
	}
}

// fakeDiscord answers an execute-webhook call: "content" (at most 2000
// characters) is required; 204 No Content.
func fakeDiscord(c *chatService) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m, ok := decodeChat(c, w, r)
		if !ok {
			return
		}
		if s, _ := m["content"].(string); s == "" || len([]rune(s)) > 2000 {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"message": "Cannot send an empty message", "code": 50006}`))
			return
		}
		w.WriteHeader(http.StatusNoContent)
	}
}

// fakeTelegram answers the Bot API's sendMessage: POST
// /bot<token>/sendMessage with "chat_id" and "text"; {"ok":true,...}.
func fakeTelegram(c *chatService) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		m, ok := decodeChat(c, w, r)
		if !ok {
			return
		}
		w.Header().Set("Content-Type", "application/json")
		if r.URL.Path != "/bot123:ABC/sendMessage" {
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte(`{"ok":false,"error_code":404,"description":"Not Found"}`))
			return
		}
		chat, _ := m["chat_id"].(string)
		text, _ := m["text"].(string)
		if chat == "" || text == "" {
			w.WriteHeader(http.StatusBadRequest)
			_, _ = w.Write([]byte(`{"ok":false,"error_code":400,"description":"Bad Request: chat_id and text are required"}`))
			return
		}
		_, _ = w.Write([]byte(`{"ok":true,"result":{"message_id":1,"chat":{"id":-100},"text":` + jsonString(text) + `}}`))
	}
}

func jsonString(s string) string {
	b, _ := json.Marshal(s)
	return string(b)
}

func decodeChat(c *chatService, w http.ResponseWriter, r *http.Request) (map[string]any, bool) {
	var m map[string]any
	if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
		http.Error(w, "want a JSON POST", http.StatusBadRequest)
		return nil, false
	}
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, "invalid_payload", http.StatusBadRequest)
		return nil, false
	}
	c.mu.Lock()
	c.got = append(c.got, m)
	c.path = r.URL.Path
	c.mu.Unlock()
	return m, true
}

func TestFormats(t *testing.T) {
	const text = "BUY SYM1 at 100 (2024-01-02T14:30:00Z): cross up"
	tests := []struct {
		format  webhook.Format
		service func(*chatService) http.HandlerFunc
		path    string
		chatID  string
		want    map[string]any
	}{
		{webhook.FormatSlack, fakeSlack, "/services/T0/B0/X", "", map[string]any{"text": text}},
		{webhook.FormatDiscord, fakeDiscord, "/api/webhooks/1/tok", "", map[string]any{"content": text}},
		{webhook.FormatTelegram, fakeTelegram, "/bot123:ABC/sendMessage", "-100", map[string]any{"chat_id": "-100", "text": text}},
	}
	for _, tt := range tests {
		t.Run(string(tt.format), func(t *testing.T) {
			leakCheck(t)
			svc := &chatService{}
			srv := httptest.NewServer(tt.service(svc))
			defer srv.Close()
			h := &hook{}
			w := mustNew(t, webhook.Config{URL: srv.URL + tt.path, Format: tt.format, TelegramChatID: tt.chatID,
				Hook: h, Observer: h, Rate: 1000, Retry: webhook.RetryPolicy{Attempts: -1}})
			run(t, w, signals(1))
			if w.Delivered() != 1 || w.DiscardedSignals() != 0 {
				t.Fatalf("delivered %d, discarded %d; hook calls %v", w.Delivered(), w.DiscardedSignals(), h.calls)
			}
			got := svc.messages()
			if len(got) != 1 || len(got[0]) != len(tt.want) {
				t.Fatalf("service got %v, want %v", got, tt.want)
			}
			for k, v := range tt.want {
				if got[0][k] != v {
					t.Errorf("%s = %v, want %v", k, got[0][k], v)
				}
			}
		})
	}
}

func TestFormatSettings(t *testing.T) {
	tests := []struct {
		format  string
		chatID  string
		wantErr string
	}{
		{"", "", ""},
		{"json", "", ""},
		{"Slack", "", ""},
		{"discord", "", ""},
		{"telegram", "-100", ""},
		{"telegram", "", "chat id"},
		{"teams", "", `"teams" is not json, slack, discord or telegram`},
	}
	for _, tt := range tests {
		t.Run(tt.format+"/"+tt.chatID, func(t *testing.T) {
			f, err := webhook.ParseFormat(tt.format)
			if err == nil {
				_, err = webhook.New(webhook.Config{URL: "https://example.com/hook", Format: f, TelegramChatID: tt.chatID})
			}
			if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
				t.Errorf("error = %v, want %q", err, tt.wantErr)
			}
		})
	}
}

func TestTelegramRejectionIsCounted(t *testing.T) {
	leakCheck(t)
	svc := &chatService{}
	srv := httptest.NewServer(fakeTelegram(svc))
	defer srv.Close()
	h := &hook{}
	w := mustNew(t, webhook.Config{URL: srv.URL + "/botWRONG/sendMessage", Format: webhook.FormatTelegram, TelegramChatID: "-100",
		Hook: h, Observer: h, Rate: 1000})
	run(t, w, signals(2))
	if w.Delivered() != 0 || h.count("discard webhook rejected") != 2 {
		t.Errorf("delivered %d; hook calls %v", w.Delivered(), h.calls)
	}
	if err := w.Health(context.Background()); err == nil {
		t.Error("healthy after every signal was rejected")
	}
}

func FuzzParseFormat(f *testing.F) {
	for _, s := range []string{"", "json", "Slack", " discord ", "telegram", "teams", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		got, err := webhook.ParseFormat(s)
		if err != nil {
			if !strings.Contains(err.Error(), "is not json, slack, discord or telegram") {
				t.Fatalf("%q: error %v names neither the value nor the choices", s, err)
			}
			return
		}
		if !slices.Contains(webhook.Formats, got) {
			t.Fatalf("%q parsed as %q, not a format", s, got)
		}
	})
}
