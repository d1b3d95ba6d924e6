package webhook

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tickflow/tickflow/market"
)

// Format is the body a [Sink] posts for a signal, so that chat
// services take it without a relay.
type Format string

// The formats of [Config.Format].
const (
	// FormatJSON posts market.Signal's JSON form (the default).
	FormatJSON Format = "json"
	// FormatSlack posts a Slack incoming-webhook message: {"text": ...}.
	FormatSlack Format = "slack"
	// FormatDiscord posts a Discord webhook message: {"content": ...}.
	FormatDiscord Format = "discord"
	// FormatTelegram posts a Telegram Bot API sendMessage request:
	// {"chat_id": ..., "text": ...}, to https://api.telegram.org/bot<token>/sendMessage.
	FormatTelegram Format = "telegram"
)

// Formats lists the formats, for help texts and validation.
var Formats = []Format{FormatJSON, FormatSlack, FormatDiscord, FormatTelegram}

// ParseFormat returns the format named s ("" means FormatJSON).
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(strings.TrimSpace(s)))
	if err := f.check("-"); err != nil {
		return "", err
	}
	if f == "" {
		f = FormatJSON
	}
	return f, nil
}

func (f Format) check(chatID string) error {
	switch f {
	case "", FormatJSON, FormatSlack, FormatDiscord:
		return nil
	case FormatTelegram:
		if strings.TrimSpace(chatID) == "" {
			return fmt.Errorf("format telegram needs a chat id (TelegramChatID)")
		}
		return nil
	}
	return fmt.Errorf("format %q is not json, slack, discord or telegram", string(f))
}

// body encodes sig in format f.
func (f Format) body(sig *market.Signal, chatID string) ([]byte, error) {
	switch f {
	case FormatSlack:
		return json.Marshal(struct {
			Text string `json:"text"`
		}{SignalText(sig)})
	case FormatDiscord:
		return json.Marshal(struct {
			Content string `json:"content"`
		}{SignalText(sig)})
	case FormatTelegram:
		return json.Marshal(struct {
			ChatID string `json:"chat_id"`
			Text   string `json:"text"`
		}{chatID, SignalText(sig)})
	}
	return json.Marshal(sig) // market.Signal's JSON form
}

// SignalText is the one-line message the chat formats send:
//
//	BUY AAPL at 185.1 (2024-01-02T15:10:00Z): cross up
func SignalText(sig *market.Signal) string {
	var b strings.Builder
	b.WriteString(strings.ToUpper(sig.Side.String()))
	b.WriteString(" ")
	b.WriteString(sig.Symbol)
	b.WriteString(" at ")
	b.WriteString(strconv.FormatFloat(sig.Price, 'f', -1, 64))
	b.WriteString(" (")
	b.WriteString(sig.Time.UTC().Format(time.RFC3339))
	b.WriteString(")")
	if sig.Reason != "" {
		b.WriteString(": ")
		b.WriteString(sig.Reason)
	}
	return b.String()
}
