package export

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/tracemdc/tracemdc/trace"
)

// send encodes a batch, posts it (retrying what can be retried) and counts its spans as exported
// or failed. It runs on the sender goroutine.
func (e *Exporter) send(spans []*trace.FinishedSpan) {
	n := len(spans)
	e.batches.Add(1)
	body, err := e.encode(spans)
	if err != nil {
		e.failed.Add(uint64(n))
		e.report(&Error{Op: "encode", Endpoint: e.cfg.shown, Spans: n, Msg: err.Error()})
		return
	}
	e.post(body, n)
}

// encode runs the encoder, compressing its output if asked; a panic of the encoder is an error.
func (e *Exporter) encode(spans []*trace.FinishedSpan) (body []byte, err error) {
	defer func() {
		if v := recover(); v != nil {
			body, err = nil, fmt.Errorf("encoder panicked: %v", v)
		}
	}()
	e.body, err = e.enc.Encode(e.body[:0], spans)
	if err != nil {
		return nil, err
	}
	if e.cfg.compression == Gzip {
		return e.zip.compress(e.body)
	}
	return e.body, nil
}

// post sends body, retrying with backoff, and counts the n spans it carries.
func (e *Exporter) post(body []byte, n int) {
	start := time.Now()
	wait := e.cfg.retryInitial
	for attempt := 1; ; attempt++ {
		if attempt > 1 {
			e.retries.Add(1)
		}
		res := e.do(body)
		if res.err == nil && res.status/100 == 2 {
			rejected := 0
			if e.partial != nil && len(res.body) > 0 {
				var msg string
				rejected, msg = e.partial.Rejected(res.body)
				rejected = min(max(rejected, 0), n)
				if rejected > 0 || msg != "" {
					e.report(&Error{Op: "deliver", Endpoint: e.cfg.shown, Spans: rejected, Status: res.status,
						Attempts: attempt, Msg: "partial success: " + clean(msg)})
				}
			}
			e.exported.Add(uint64(n - rejected))
			e.failed.Add(uint64(rejected))
			return
		}
		if e.abandon.Load() {
			e.fail(n, attempt, res, "cut off by Close")
			return
		}
		if !res.retryable() {
			e.fail(n, attempt, res, "")
			return
		}
		d := wait/2 + rand.N(wait/2+1) // half fixed, half random
		if res.retryAfter > 0 {
			d = min(res.retryAfter, e.cfg.retryMax)
		}
		if time.Since(start)+d > e.cfg.retryTotal {
			e.fail(n, attempt, res, "retries used up")
			return
		}
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-e.sendCtx.Done():
			t.Stop()
			e.fail(n, attempt, res, "cut off by Close")
			return
		}
		wait = min(2*wait, e.cfg.retryMax)
	}
}

func (e *Exporter) fail(n, attempts int, res result, why string) {
	e.failed.Add(uint64(n))
	msg := ""
	if e.errBody != nil && len(res.body) > 0 {
		msg = clean(e.errBody.ErrorMessage(res.body))
	}
	if msg == "" {
		msg = clean(string(res.body))
	}
	if why != "" {
		if msg != "" {
			msg = why + ": " + msg
		} else {
			msg = why
		}
	}
	e.report(&Error{Op: "deliver", Endpoint: e.cfg.shown, Spans: n, Status: res.status, Attempts: attempts, Msg: msg, Err: res.err})
}

// result is the outcome of one request.
type result struct {
	status     int // 0 when no answer came
	body       []byte
	retryAfter time.Duration
	err        error
}

// retryable reports whether the request may succeed later: no answer (connection refused or
// reset, a timeout), or 429, 502, 503, 504.
func (r result) retryable() bool {
	if r.err != nil {
		return true
	}
	switch r.status {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return true
	}
	return false
}

// do makes one request.
func (e *Exporter) do(body []byte) result {
	e.requests.Add(1)
	ctx, cancel := context.WithTimeout(e.sendCtx, e.cfg.timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, e.cfg.endpoint, bytes.NewReader(body))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Content-Type", e.enc.ContentType())
	req.Header.Set("User-Agent", "tracemdc-export")
	if e.cfg.compression == Gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	for k, v := range e.cfg.headers {
		req.Header.Set(k, v)
	}
	e.bytes.Add(uint64(len(body)))
	resp, err := e.client.Do(req)
	if err != nil {
		if errors.Is(err, context.Canceled) && e.abandon.Load() {
			err = context.Canceled
		}
		return result{err: err}
	}
	defer resp.Body.Close()
	res := result{status: resp.StatusCode}
	e.resp, err = readLimited(e.resp[:0], resp.Body, MaxResponseBytes)
	res.body = e.resp
	if err != nil && resp.StatusCode/100 == 2 {
		// The backend answered 2xx: the batch was taken; only its partial-success message is lost.
		res.body = nil
	}
	_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 1<<20)) // so the connection can be reused
	if ra := resp.Header.Get("Retry-After"); ra != "" {
		if secs, err := strconv.Atoi(strings.TrimSpace(ra)); err == nil && secs >= 0 {
			res.retryAfter = time.Duration(secs) * time.Second
		} else if t, err := http.ParseTime(ra); err == nil {
			res.retryAfter = time.Until(t)
		}
	}
	return res
}

// readLimited appends at most limit bytes of r to dst.
func readLimited(dst []byte, r io.Reader, limit int) ([]byte, error) {
	for len(dst) < limit {
		if cap(dst) == len(dst) {
			dst = append(dst, 0)[:len(dst)]
		}
		m, err := r.Read(dst[len(dst):min(cap(dst), limit)])
		dst = dst[:len(dst)+m]
		if err == io.EOF {
			return dst, nil
		}
		if err != nil {
			return dst, err
		}
	}
	return dst, nil
}

// clean makes an answer's body fit one line of an error message: valid UTF-8, no control
// characters, at most 512 bytes.
func clean(s string) string {
	const maxLen = 512
	s = strings.TrimSpace(s)
	if len(s) > maxLen {
		cut := maxLen
		for cut > maxLen-utf8.UTFMax && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
}

func statusText(code int) string {
	if t := http.StatusText(code); t != "" {
		return t
	}
	return "status"
}

// zipper gzips bodies into a buffer it keeps.
type zipper struct {
	buf bytes.Buffer
	w   *gzip.Writer
}

func (z *zipper) compress(p []byte) ([]byte, error) {
	z.buf.Reset()
	if z.w == nil {
		z.w = gzip.NewWriter(&z.buf)
	} else {
		z.w.Reset(&z.buf)
	}
	if _, err := z.w.Write(p); err != nil {
		return nil, err
	}
	if err := z.w.Close(); err != nil {
		return nil, err
	}
	return z.buf.Bytes(), nil
}
