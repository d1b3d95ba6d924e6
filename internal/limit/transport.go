package limit

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
)

// Transport returns an http.RoundTripper that runs every request of next
// under l (next nil means http.DefaultTransport):
//
//	client := &http.Client{Transport: limit.Transport(l, nil)}
//
// A request waits for a slot with its own context. The slot is held until
// the response body is closed (or, when the round trip fails, until it
// returns), since the remote works on the request until then; a caller must
// close every body, as net/http asks anyway, or the slot is never released.
//
// Outcomes: HTTP 429 and 503 and timeouts (the round trip's or a body read's)
// are Overload; any other error and any other 5xx status are Failure;
// everything else is Success. Nothing else of the response is honoured
// (Retry-After is for the retry layer).
func Transport(l *Limiter, next http.RoundTripper) http.RoundTripper {
	if next == nil {
		next = http.DefaultTransport
	}
	return &transport{l: l, next: next}
}

type transport struct {
	l    *Limiter
	next http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	release, err := t.l.Acquire(req.Context())
	if err != nil {
		if req.Body != nil {
			req.Body.Close() // RoundTrip must close the body, even on error
		}
		return nil, err
	}
	resp, err := t.next.RoundTrip(req)
	if err != nil {
		release(classifyErr(err))
		return nil, err
	}
	resp.Body = &limitedBody{ReadCloser: resp.Body, release: release, outcome: classifyStatus(resp.StatusCode)}
	return resp, nil
}

func classifyStatus(code int) Outcome {
	switch {
	case code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable:
		return Overload
	case code >= 500:
		return Failure
	}
	return Success
}

func classifyErr(err error) Outcome {
	if isTimeout(err) {
		return Overload
	}
	return Failure
}

func isTimeout(err error) bool {
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, os.ErrDeadlineExceeded) {
		return true
	}
	var ne net.Error
	return errors.As(err, &ne) && ne.Timeout()
}

// limitedBody releases the slot when the body is closed.
type limitedBody struct {
	io.ReadCloser
	release Release
	once    sync.Once
	mu      sync.Mutex
	outcome Outcome
}

func (b *limitedBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil && err != io.EOF && isTimeout(err) {
		b.mu.Lock()
		b.outcome = Overload
		b.mu.Unlock()
	}
	return n, err
}

func (b *limitedBody) Close() error {
	err := b.ReadCloser.Close()
	b.once.Do(func() {
		b.mu.Lock()
		o := b.outcome
		b.mu.Unlock()
		b.release(o)
	})
	return err
}
