package mdc

import (
	"context"
	"sync"
	"sync/atomic"
)

// Source supplies pairs that something other than this package keeps in a context: another tracer's
// current span (package otelmdc of this module reads OpenTelemetry's), a framework's request id. The
// adapters ask every registered Source when they write a line, after the level check, so a line shows
// the ids of the span current in the context it is written with, whoever started that span.
//
// Source pairs are rendered exactly as MDC pairs are: the same Naming (presets, renames, allow and
// deny lists, group, vendor formats) and the same collision rules. They come after the context's own
// MDC pairs, so on one field name the MDC's pair wins (see "Collisions"). A source should use the
// well-known keys (KeyTraceID, KeySpanID, KeyParentSpanID, KeySampled) for ids, so that presets apply.
type Source interface {
	// Pairs returns the pairs ctx carries, or nil. It is called from any goroutine, once per line
	// written with a non-nil ctx, and must not block. The caller neither modifies the returned
	// slice nor keeps it after the line is written, so a source may return a slice it shares (a
	// cached or constant one). A panic is recovered and counted (see SourcePanics): the line is
	// written without that source's pairs.
	Pairs(ctx context.Context) []Pair
}

// SourceFunc adapts a function to a Source.
type SourceFunc func(ctx context.Context) []Pair

// Pairs returns f(ctx).
func (f SourceFunc) Pairs(ctx context.Context) []Pair { return f(ctx) }

var (
	sourcesMu    sync.Mutex                // serializes AddSource and the removals
	sources      atomic.Pointer[[]*source] // nil while none is registered
	sourcePanics atomic.Uint64
)

// source is one registration: removing it removes this one, even when the same Source was added twice.
type source struct{ s Source }

// AddSource registers s with every adapter of the process, after the sources registered before it,
// and returns the function that unregisters it (calling it again does nothing). A nil s is ignored.
// Registering is meant for start-up; it is safe at any time, and a line being written while sources
// change sees the old or the new set.
func AddSource(s Source) (remove func()) {
	if s == nil {
		return func() {}
	}
	reg := &source{s: s}
	sourcesMu.Lock()
	defer sourcesMu.Unlock()
	var next []*source
	if old := sources.Load(); old != nil {
		next = append(next, *old...)
	}
	next = append(next, reg)
	sources.Store(&next)
	var once sync.Once
	return func() { once.Do(func() { removeSource(reg) }) }
}

func removeSource(reg *source) {
	sourcesMu.Lock()
	defer sourcesMu.Unlock()
	old := sources.Load()
	if old == nil {
		return
	}
	var next []*source
	for _, r := range *old {
		if r != reg {
			next = append(next, r)
		}
	}
	if len(next) == 0 {
		sources.Store(nil)
		return
	}
	sources.Store(&next)
}

// HasSources reports whether any Source is registered. It costs one atomic load: adapters call it to
// keep a context without MDC pairs on their fastest path when no source is registered.
func HasSources() bool { return sources.Load() != nil }

// SourcePairs appends the pairs of every registered Source for ctx, in the order the sources were
// added, to dst and returns it. A nil ctx, or no source, returns dst as is.
func SourcePairs(ctx context.Context, dst []Pair) []Pair {
	if sources.Load() == nil || ctx == nil {
		return dst // small enough to be inlined: no call at all when no source is registered
	}
	return sourcePairs(ctx, dst)
}

func sourcePairs(ctx context.Context, dst []Pair) []Pair {
	srcs := sources.Load()
	if srcs == nil {
		return dst
	}
	for _, r := range *srcs {
		dst = append(dst, callSource(r.s, ctx)...)
	}
	return dst
}

// callSource returns s.Pairs(ctx), or nil when it panics.
func callSource(s Source, ctx context.Context) (ps []Pair) {
	defer func() {
		if recover() != nil {
			sourcePanics.Add(1)
			ps = nil
		}
	}()
	return s.Pairs(ctx)
}

// SourcePanics returns how many calls of a Source have panicked since the process started; each such
// line was written without that source's pairs.
func SourcePanics() uint64 { return sourcePanics.Load() }

// Pairs appends every pair a log line written with ctx shows, before naming, to dst and returns it:
// the MDC of ctx (From(ctx).Pairs) and then the pairs of the registered sources (SourcePairs).
func Pairs(ctx context.Context, dst []Pair) []Pair {
	return SourcePairs(ctx, From(ctx).Pairs(dst))
}
