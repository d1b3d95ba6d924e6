package backtest

import (
	"fmt"
	"strconv"
	"strings"
)

// Expr is a compiled --where filter over parameter names: numbers, names,
// + - * /, comparisons (< <= > >= == !=), && || ! and parentheses, e.g.
// "fast < slow && slow <= 4*fast". It evaluates without side effects and
// without reflection; a comparison is 1 or 0, and a value is true when not
// zero.
type Expr struct {
	src  string
	eval func(vals []float64) float64
}

// String returns the source text.
func (e *Expr) String() string { return e.src }

// Eval reports whether the combination vals (in the order of the names
// given to ParseWhere) passes.
func (e *Expr) Eval(vals []float64) bool { return e.eval(vals) != 0 }

// ParseWhere compiles src against the parameter names. An unknown name or a
// syntax error is an ErrUsage error naming the position.
func ParseWhere(src string, names []string) (*Expr, error) {
	p := &whereParser{src: src, names: names}
	if len(src) > maxWhere {
		return nil, usagef("backtest: --where: longer than %d bytes", maxWhere)
	}
	p.next()
	f, err := p.or()
	if err == nil && p.tok.kind != tokEnd {
		err = p.errorf("unexpected %q", p.tok.text)
	}
	if err != nil {
		return nil, err
	}
	return &Expr{src: src, eval: f}, nil
}

type tokKind uint8

const (
	tokEnd tokKind = iota
	tokNum
	tokName
	tokOp
	tokBad
)

type token struct {
	kind tokKind
	text string
	num  float64
	pos  int
}

type whereParser struct {
	src   string
	names []string
	pos   int
	tok   token
	depth int
}

// maxDepth bounds nesting, so a hostile filter cannot exhaust the stack.
const maxDepth = 64

// maxWhere bounds a filter's length, and so the depth of its evaluation.
const maxWhere = 1024

func (p *whereParser) errorf(format string, args ...any) error {
	return usagef("backtest: --where %q: at %d: %s", p.src, p.tok.pos+1, fmt.Sprintf(format, args...))
}

func isNameByte(c byte, first bool) bool {
	return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (!first && c >= '0' && c <= '9')
}

func (p *whereParser) next() {
	for p.pos < len(p.src) && (p.src[p.pos] == ' ' || p.src[p.pos] == '\t') {
		p.pos++
	}
	start := p.pos
	if p.pos == len(p.src) {
		p.tok = token{kind: tokEnd, pos: start}
		return
	}
	c := p.src[p.pos]
	switch {
	case c >= '0' && c <= '9' || c == '.':
		for p.pos < len(p.src) && (p.src[p.pos] >= '0' && p.src[p.pos] <= '9' || p.src[p.pos] == '.' ||
			p.src[p.pos] == 'e' || p.src[p.pos] == 'E' ||
			(p.src[p.pos] == '-' || p.src[p.pos] == '+') && (p.src[p.pos-1] == 'e' || p.src[p.pos-1] == 'E')) {
			p.pos++
		}
		text := p.src[start:p.pos]
		v, err := strconv.ParseFloat(text, 64)
		if err != nil {
			p.tok = token{kind: tokBad, text: text, pos: start}
			return
		}
		p.tok = token{kind: tokNum, text: text, num: v, pos: start}
	case isNameByte(c, true):
		for p.pos < len(p.src) && isNameByte(p.src[p.pos], false) {
			p.pos++
		}
		p.tok = token{kind: tokName, text: p.src[start:p.pos], pos: start}
	default:
		for _, op := range []string{"&&", "||", "<=", ">=", "==", "!=", "<", ">", "!", "+", "-", "*", "/", "(", ")"} {
			if strings.HasPrefix(p.src[p.pos:], op) {
				p.pos += len(op)
				p.tok = token{kind: tokOp, text: op, pos: start}
				return
			}
		}
		p.pos++
		p.tok = token{kind: tokBad, text: p.src[start:p.pos], pos: start}
	}
}

type evalFunc = func([]float64) float64

func truth(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

func (p *whereParser) binary(sub func() (evalFunc, error), ops ...string) (evalFunc, error) {
	l, err := sub()
	if err != nil {
		return nil, err
	}
	for p.tok.kind == tokOp {
		op := p.tok.text
		found := false
		for _, o := range ops {
			found = found || o == op
		}
		if !found {
			return l, nil
		}
		p.next()
		r, err := sub()
		if err != nil {
			return nil, err
		}
		a, b := l, r
		switch op {
		case "||":
			l = func(v []float64) float64 { return truth(a(v) != 0 || b(v) != 0) }
		case "&&":
			l = func(v []float64) float64 { return truth(a(v) != 0 && b(v) != 0) }
		case "<":
			l = func(v []float64) float64 { return truth(a(v) < b(v)) }
		case "<=":
			l = func(v []float64) float64 { return truth(a(v) <= b(v)) }
		case ">":
			l = func(v []float64) float64 { return truth(a(v) > b(v)) }
		case ">=":
			l = func(v []float64) float64 { return truth(a(v) >= b(v)) }
		case "==":
			l = func(v []float64) float64 { return truth(a(v) == b(v)) }
		case "!=":
			l = func(v []float64) float64 { return truth(a(v) != b(v)) }
		case "+":
			l = func(v []float64) float64 { return a(v) + b(v) }
		case "-":
			l = func(v []float64) float64 { return a(v) - b(v) }
		case "*":
			l = func(v []float64) float64 { return a(v) * b(v) }
		case "/":
			l = func(v []float64) float64 { return a(v) / b(v) }
		}
	}
	return l, nil
}

func (p *whereParser) or() (evalFunc, error)  { return p.binary(p.and, "||") }
func (p *whereParser) and() (evalFunc, error) { return p.binary(p.cmp, "&&") }
func (p *whereParser) cmp() (evalFunc, error) {
	return p.binary(p.sum, "<", "<=", ">", ">=", "==", "!=")
}
func (p *whereParser) sum() (evalFunc, error)     { return p.binary(p.product, "+", "-") }
func (p *whereParser) product() (evalFunc, error) { return p.binary(p.unary, "*", "/") }

func (p *whereParser) unary() (evalFunc, error) {
	if p.depth++; p.depth > maxDepth {
		return nil, p.errorf("nested more than %d deep", maxDepth)
	}
	defer func() { p.depth-- }()
	t := p.tok
	switch {
	case t.kind == tokOp && (t.text == "!" || t.text == "-"):
		p.next()
		x, err := p.unary()
		if err != nil {
			return nil, err
		}
		if t.text == "!" {
			return func(v []float64) float64 { return truth(x(v) == 0) }, nil
		}
		return func(v []float64) float64 { return -x(v) }, nil
	case t.kind == tokOp && t.text == "(":
		p.next()
		x, err := p.or()
		if err != nil {
			return nil, err
		}
		if p.tok.kind != tokOp || p.tok.text != ")" {
			return nil, p.errorf("missing )")
		}
		p.next()
		return x, nil
	case t.kind == tokNum:
		p.next()
		c := t.num
		return func([]float64) float64 { return c }, nil
	case t.kind == tokName:
		for i, n := range p.names {
			if n == t.text {
				p.next()
				return func(v []float64) float64 { return v[i] }, nil
			}
		}
		return nil, p.errorf("unknown parameter %q (one of %s)", t.text, strings.Join(p.names, ", "))
	case t.kind == tokEnd:
		return nil, p.errorf("unexpected end")
	}
	return nil, p.errorf("unexpected %q", t.text)
}
