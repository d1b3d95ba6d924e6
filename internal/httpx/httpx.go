package httpx

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"time"

	"github.com/tickflow/tickflow/internal/limit"
	"github.com/tickflow/tickflow/internal/observe"
	"github.com/tickflow/tickflow/internal/retry"
)

// DefaultMaxBody bounds the body read into memory per response: an Alpaca
// page of 10,000 bars is about 1.5 MB.
const DefaultMaxBody = 64 << 20

// StatusError is an answer 429 or 5xx (retried) or, from Do with
// FailOn4xx, another non-2xx answer (not retried).
type StatusError struct {
	Code    int
	Message string        // the API's "message" field, if any
	After   time.Duration // the Retry-After header, if any
}

func (e *StatusError) Error() string {
	if e.Message == "" {
		return fmt.Sprintf("HTTP %d", e.Code)
	}
	return fmt.Sprintf("HTTP %d: %s", e.Code, e.Message)
}

// RetryAfter is the server's Retry-After, for retry.Policy.Do.
func (e *StatusError) RetryAfter() time.Duration { return e.After }

// ErrorType classifies the answer for the error class of an operation.
func (e *StatusError) ErrorType() string {
	if e.Code == http.StatusTooManyRequests {
		return "status_429"
	}
	return "status_" + strconv.Itoa(e.Code/100) + "xx"
}

// Retryable tells whether a status is worth retrying: 408, 429 and 5xx.
func Retryable(code int) bool {
	return code == http.StatusRequestTimeout || code == http.StatusTooManyRequests || code >= 500
}

var apiMessageRE = regexp.MustCompile(`"message"\s*:\s*"([^"]*)"`)

// Client sends requests. Its zero value uses http.DefaultTransport and the
// default retry policy; set the fields before the first request.
type Client struct {
	// Transport sends one attempt (default http.DefaultTransport).
	Transport http.RoundTripper
	// Policy retries network errors, timeouts (the body included), 408,
	// 429 and 5xx.
	Policy retry.Policy
	// Observer is told of every attempt as an operation of type Op.
	Observer observe.Observer
	Op       string
	// MaxBody bounds the body read (default DefaultMaxBody).
	MaxBody int64
	// Wait, if set, runs before each attempt (a rate limiter); its error
	// ends the request.
	Wait func(ctx context.Context) error
	// Guard, if set, runs each attempt (a circuit breaker); its error for
	// an attempt it refuses should be Permanent.
	Guard func(attempt func() error) error
	// Limit, if set, bounds the attempts in flight at once, across every
	// Client sharing it, adaptively: each attempt's outcome (429 or 503
	// and timeouts are overload) moves the limit. A request backing off
	// between attempts holds no slot.
	Limit *limit.Limiter
	// FailOn4xx makes other non-2xx answers a Permanent *StatusError;
	// otherwise they are returned as responses for the caller to read.
	FailOn4xx bool
}

// Do sends r (whose body, if any, must be replayable: r.GetBody set, as
// http.NewRequest does for in-memory bodies) under ctx and returns the
// response with its body read whole into memory (Body reads from it; no
// need to close). The per-attempt timeout covers headers and body.
func (c *Client) Do(ctx context.Context, r *http.Request) (*http.Response, error) {
	var resp *http.Response
	// The policy does not observe: an operation is the attempt itself, not
	// its wait for the rate limit or a slot.
	err := c.Policy.Do(ctx, nil, c.Op, func(actx context.Context) error {
		if c.Wait != nil {
			if err := c.Wait(actx); err != nil {
				if ctx.Err() != nil {
					return ctx.Err()
				}
				return retry.Permanent(err)
			}
		}
		release := func(error) {}
		if c.Limit != nil {
			r, err := c.Limit.Acquire(actx)
			if err != nil {
				return err
			}
			release = func(err error) { r(outcome(ctx, err)) }
		}
		end := observe.Start(c.Observer, c.Op)
		attempt := func() error {
			var err error
			resp, err = c.attempt(actx, r)
			return err
		}
		var err error
		if c.Guard != nil {
			err = c.Guard(attempt)
		} else {
			err = attempt()
		}
		err = retry.AttemptError(ctx, actx, err)
		end(err)
		release(err)
		return err
	})
	if err != nil {
		return nil, err
	}
	return resp, nil
}

// outcome is what an attempt's error says of the remote's load, as
// limit.Transport judges it: 429, 503 and timeouts are overload; other
// 5xx, network errors and the caller's cancellation say nothing of it.
func outcome(ctx context.Context, err error) limit.Outcome {
	var se *StatusError
	switch {
	case err == nil:
		return limit.Success
	case ctx.Err() != nil:
		return limit.Failure
	case errors.As(err, &se):
		switch {
		case se.Code == http.StatusTooManyRequests || se.Code == http.StatusServiceUnavailable:
			return limit.Overload
		case se.Code >= 500:
			return limit.Failure
		}
		return limit.Success // the remote answered: it is not overloaded
	case observe.Class(err) == observe.ClassTimeout:
		return limit.Overload
	}
	return limit.Failure
}

func (c *Client) attempt(ctx context.Context, r *http.Request) (*http.Response, error) {
	req := r.Clone(ctx)
	if r.Body != nil && r.Body != http.NoBody {
		if r.GetBody == nil {
			return nil, retry.Permanent(errors.New("httpx: a request body that cannot be replayed"))
		}
		body, err := r.GetBody()
		if err != nil {
			return nil, retry.Permanent(err)
		}
		req.Body = body
	}
	rt := c.Transport
	if rt == nil {
		rt = http.DefaultTransport
	}
	resp, err := rt.RoundTrip(req)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // *url.Error quotes the URL, which may hold secrets
		}
		return nil, err
	}
	limit := c.MaxBody
	if limit <= 0 {
		limit = DefaultMaxBody
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, limit+1))
	resp.Body.Close()
	if err != nil {
		return nil, fmt.Errorf("reading the body of HTTP %d after %d bytes: %w", resp.StatusCode, len(body), err)
	}
	if int64(len(body)) > limit {
		return nil, retry.Permanent(fmt.Errorf("HTTP %d: body over %d bytes", resp.StatusCode, limit))
	}
	resp.Body = io.NopCloser(bytes.NewReader(body))
	resp.ContentLength = int64(len(body))
	if resp.StatusCode/100 == 2 {
		return resp, nil
	}
	se := &StatusError{Code: resp.StatusCode}
	if m := apiMessageRE.FindSubmatch(body); m != nil {
		se.Message = string(m[1])
	}
	se.After = retryAfter(resp.Header.Get("Retry-After"), time.Now())
	switch {
	case Retryable(resp.StatusCode):
		return nil, se
	case c.FailOn4xx:
		return nil, retry.Permanent(se)
	}
	return resp, nil
}

// Bind returns a RoundTripper that sends every request through c under
// ctx, for an SDK whose requests carry no context of their own.
func (c *Client) Bind(ctx context.Context) http.RoundTripper {
	return bound{ctx, c}
}

type bound struct {
	ctx context.Context
	c   *Client
}

func (b bound) RoundTrip(r *http.Request) (*http.Response, error) { return b.c.Do(b.ctx, r) }

// retryAfter reads a Retry-After header: seconds, or an HTTP date.
func retryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	if s, err := strconv.Atoi(v); err == nil {
		return max(time.Duration(s)*time.Second, 0)
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0)
	}
	return 0
}
