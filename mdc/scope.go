package mdc

import (
	"context"
	"sync"
	"sync/atomic"
)

// Scope is a mutable, goroutine-safe bag of MDC values shared by every context derived from the one
// WithScope returned: the Go form of Java's MDC.put for a request. A value set deep in a call (say the
// user id, once authentication has run) then shows in every later log line of that request.
//
// Reads take no lock and allocate nothing: Set replaces the whole (small) slice, which readers load
// atomically. The zero Scope is not usable; create one with WithScope.
type Scope struct {
	mu    sync.Mutex // serializes writers
	pairs atomic.Pointer[[]Pair]
}

// WithScope returns a context carrying a new, empty request scope. Values set with Set on that
// context, or on any context derived from it, render with the context's own MDC pairs; on the same
// key the context's own pair wins. A scope installed inside another one shadows it: Set writes into
// the nearest.
func WithScope(ctx context.Context) context.Context {
	ctx = background(ctx)
	pairs, _ := lookup(ctx).parts()
	nd := newNode(ctx, pairs, 0, &Scope{})
	return nd.seal()
}

// Set writes key=value into the nearest request scope of ctx and reports whether there was one.
// Without a scope nothing is written and Set returns false: derive a context with With instead.
// An empty key is ignored (and reported as not written).
func Set(ctx context.Context, key, value string) bool {
	s := ScopeFrom(ctx)
	if s == nil || key == "" {
		return false
	}
	s.Set(key, value)
	return true
}

// ScopeFrom returns the nearest request scope of ctx, or nil.
func ScopeFrom(ctx context.Context) *Scope {
	_, s := lookup(ctx).parts()
	return s
}

// Set writes key=value into the scope. An existing key keeps its position. An empty key is ignored.
func (s *Scope) Set(key, value string) {
	if s == nil || key == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.load()
	next := make([]Pair, len(old), len(old)+1)
	copy(next, old)
	for i := range next {
		if next[i].Key == key {
			next[i].Value = value
			s.pairs.Store(&next)
			return
		}
	}
	next = append(next, Pair{Key: key, Value: value})
	s.pairs.Store(&next)
}

// Delete removes key from the scope.
func (s *Scope) Delete(key string) {
	if s == nil {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	old := s.load()
	for i := range old {
		if old[i].Key == key {
			next := make([]Pair, 0, len(old)-1)
			next = append(next, old[:i]...)
			next = append(next, old[i+1:]...)
			s.pairs.Store(&next)
			return
		}
	}
}

// load returns the current pairs; the slice must not be modified.
func (s *Scope) load() []Pair {
	if p := s.pairs.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *Scope) get(key string) (string, bool) {
	for _, p := range s.load() {
		if p.Key == key {
			return p.Value, true
		}
	}
	return "", false
}
