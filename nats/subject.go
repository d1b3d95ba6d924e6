package nats

import (
	"errors"
	"fmt"
	"hash/fnv"
	"strconv"
	"strings"
)

// Namespace names the streams, subjects and bucket of one tickflow
// deployment, so that several share a NATS system (and tests do not meet).
// Its zero value is "tickflow": bars travel on stream TICKFLOW_BARS under
//
//	tickflow.bars.<partition>.<symbol>
//
// signals on TICKFLOW_SIGNALS under
//
//	tickflow.signals.<symbol>
//
// where <partition> is [Partition] of the symbol in decimal and <symbol> is
// [EscapeSymbol] of it; each partition's committed position is key
// p<partition> of bucket tickflow_positions. A namespace is letters, digits,
// '-' and '_'.
type Namespace string

// DefaultNamespace is the zero Namespace's name.
const DefaultNamespace Namespace = "tickflow"

func (ns Namespace) name() string {
	if ns == "" {
		return string(DefaultNamespace)
	}
	return string(ns)
}

func (ns Namespace) validate() error {
	n := ns.name()
	for i := 0; i < len(n); i++ {
		if !tokenByte(n[i]) {
			return fmt.Errorf("nats: namespace %q: byte %q at %d is not a letter, digit, '-' or '_'", n, n[i], i)
		}
	}
	return nil
}

// BarsStream is the name of the stream of bars.
func (ns Namespace) BarsStream() string { return strings.ToUpper(ns.name()) + "_BARS" }

// SignalsStream is the name of the stream of signals.
func (ns Namespace) SignalsStream() string { return strings.ToUpper(ns.name()) + "_SIGNALS" }

// PositionsBucket is the name of the key-value bucket of committed
// positions.
func (ns Namespace) PositionsBucket() string { return ns.name() + "_positions" }

func (ns Namespace) barsPrefix() string    { return ns.name() + ".bars." }
func (ns Namespace) signalsPrefix() string { return ns.name() + ".signals." }

// Partition returns the partition of symbol among n: the 32-bit FNV-1a hash
// of the symbol's bytes, modulo n. It is the only partition function
// tickflow uses (the ingest side writes it into the subject; JetStream's own
// subject-mapping partitions are not used), so it never changes: a stream
// written by one version is read by the next.
func Partition(symbol string, n int) int {
	if n <= 1 {
		return 0
	}
	h := fnv.New32a()
	h.Write([]byte(symbol))
	return int(h.Sum32() % uint32(n))
}

// BarsSubject returns the subject of symbol's bars in partition p.
func (ns Namespace) BarsSubject(p int, symbol string) string {
	return ns.barsPrefix() + strconv.Itoa(p) + "." + EscapeSymbol(symbol)
}

// PartitionFilter returns the subject filter of every bar of partition p.
func (ns Namespace) PartitionFilter(p int) string { return ns.barsPrefix() + strconv.Itoa(p) + ".>" }

// SignalSubject returns the subject of symbol's signals.
func (ns Namespace) SignalSubject(symbol string) string {
	return ns.signalsPrefix() + EscapeSymbol(symbol)
}

// ParseBarsSubject is the inverse of [BarsSubject].
func (ns Namespace) ParseBarsSubject(subject string) (partition int, symbol string, err error) {
	rest, ok := strings.CutPrefix(subject, ns.barsPrefix())
	ptok, stok, ok2 := strings.Cut(rest, ".")
	if !ok || !ok2 || strings.Contains(stok, ".") {
		return 0, "", fmt.Errorf("subject %q is not %s<partition>.<symbol>", subject, ns.barsPrefix())
	}
	partition, err = strconv.Atoi(ptok)
	if err != nil || partition < 0 || strconv.Itoa(partition) != ptok {
		return 0, "", fmt.Errorf("subject %q: partition %q is not a number", subject, ptok)
	}
	symbol, err = UnescapeSymbol(stok)
	if err != nil {
		return 0, "", fmt.Errorf("subject %q: %w", subject, err)
	}
	return partition, symbol, nil
}

// EscapeSymbol turns a symbol into one valid subject token, reversibly
// ([UnescapeSymbol]): ASCII letters, digits, '-' and '_' stay; every other
// byte (the '.', '*' and '>' that subjects reserve, spaces, '~', non-ASCII)
// becomes '~' and two upper-case hex digits, so BRK.B is BRK~2EB. The empty
// symbol is "~", which no other symbol's escape is.
func EscapeSymbol(symbol string) string {
	if symbol == "" {
		return "~"
	}
	plain := true
	for i := 0; i < len(symbol); i++ {
		if !tokenByte(symbol[i]) {
			plain = false
			break
		}
	}
	if plain {
		return symbol
	}
	const hex = "0123456789ABCDEF"
	var b strings.Builder
	b.Grow(len(symbol) + 8)
	for i := 0; i < len(symbol); i++ {
		c := symbol[i]
		if tokenByte(c) {
			b.WriteByte(c)
			continue
		}
		b.WriteByte('~')
		b.WriteByte(hex[c>>4])
		b.WriteByte(hex[c&15])
	}
	return b.String()
}

// UnescapeSymbol is the inverse of [EscapeSymbol]; it rejects a token that
// EscapeSymbol cannot have written, so every symbol has one token.
func UnescapeSymbol(token string) (string, error) {
	if token == "~" {
		return "", nil
	}
	if token == "" {
		return "", errors.New("empty symbol token")
	}
	if !strings.Contains(token, "~") {
		for i := 0; i < len(token); i++ {
			if !tokenByte(token[i]) {
				return "", fmt.Errorf("symbol token %q: byte %q at %d is not escaped", token, token[i], i)
			}
		}
		return token, nil
	}
	b := make([]byte, 0, len(token))
	for i := 0; i < len(token); i++ {
		c := token[i]
		switch {
		case tokenByte(c):
			b = append(b, c)
		case c == '~' && i+2 < len(token) && upperHex(token[i+1]) >= 0 && upperHex(token[i+2]) >= 0:
			v := byte(upperHex(token[i+1])<<4 | upperHex(token[i+2]))
			if tokenByte(v) {
				return "", fmt.Errorf("symbol token %q: ~%c%c at %d escapes a byte that needs none", token, token[i+1], token[i+2], i)
			}
			b = append(b, v)
			i += 2
		default:
			return "", fmt.Errorf("symbol token %q: bad escape at %d", token, i)
		}
	}
	return string(b), nil
}

func tokenByte(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_'
}

func upperHex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
