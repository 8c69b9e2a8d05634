// Package mdc carries a mapped diagnostic context (MDC) in a context.Context: string key/value pairs,
// such as the trace id and span id, that every log line written with that context shows as fields.
//
// The map is immutable: With returns a derived context and never changes one another goroutine can
// see, so "pushing" ids for a child span is deriving a context, and "popping" is the caller going on
// with its own. The adapters slogmdc, zapmdc and logrusmdc render the map of the context they are
// given, with field names chosen by a Naming.
//
//	ctx = mdc.With(ctx, mdc.KeyTraceID, "0ad1348f1403169275002100356696")
//	logger.InfoContext(ctx, "paid") // {"msg":"paid","traceId":"0ad1348f1403169275002100356696"}
//
// # Collisions
//
// The same rule holds in every adapter, so a line never carries one field name twice:
//   - a field given by the caller (at the call site, or bound to the logger with With/WithFields/
//     WithAttrs before the line) wins over an MDC field of the same rendered name, which is left out;
//   - of two MDC keys that a Naming renders under one field name, the first in the map's order wins;
//   - an MDC field named like one of the logger's own keys (its time, level and message keys, zap's
//     configured keys; see OwnKeys) is written as "fields.<name>" (ClashPrefix), the rule logrus
//     applies to every field; when that name is taken too, the field is left out.
//
// With a Group, MDC fields live inside the group object and never collide with the caller's fields
// or the logger's; the group's own name follows the rules above.
//
// # Sources
//
// Pairs another tracer keeps in the context (an OpenTelemetry span's ids, say) reach the same lines
// through a Source registered with AddSource: the adapters ask it at log time, after the level check,
// and render its pairs as MDC pairs. With no source registered this costs one atomic load per line.
//
// # Request scope
//
// WithScope installs a mutable bag for one request; Set writes into it from anywhere below, and every
// later log line of the request shows the value. The context's own pairs win over the scope's.
package mdc

import (
	"context"
	"iter"
	"unsafe"
)

// Well-known keys. The tracer writes the ids under these keys; a Naming maps them to the field names a
// log line shows (for example KeyTraceID is rendered as "SOFA-TraceId" by the SOFA preset).
const (
	KeyTraceID      = "traceId"
	KeySpanID       = "spanId"
	KeyParentSpanID = "parentSpanId"
	KeySampled      = "sampled"
	KeyLoadTest     = "loadTest"
)

// Pair is one key/value entry of an MDC.
type Pair struct {
	Key, Value string
}

// ctxKey is the context key under which the newest *node of a context chain is found.
type ctxKey struct{}

// entry is a stored pair; a gone entry is a tombstone left by Without that hides the key, including
// a value for it in the request scope.
type entry struct {
	Key, Value string
}

// tombstoneByte backs the Value of every tombstone. Marking a tombstone by the address of its value,
// which no string a caller passes can share, keeps an entry at two words (32 bytes instead of 40 with
// a flag), and with it the nodes a size class smaller.
var tombstoneByte = [1]byte{'-'}

// tombstone returns the entry that hides key.
func tombstone(key string) entry {
	return entry{Key: key, Value: unsafe.String(&tombstoneByte[0], 1)}
}

// gone reports whether e is a tombstone.
func (e entry) gone() bool {
	return len(e.Value) == 1 && unsafe.StringData(e.Value) == &tombstoneByte[0]
}

// node is a context carrying a complete, immutable copy of the MDC entries (copy on write) and the
// request scope installed nearest to it, if any. Keeping the whole set in every node makes lookup a
// single ctx.Value call and iteration a plain slice walk, with no allocation.
type node struct {
	context.Context
	pairs []entry // never modified after the node is published
	live  int     // entries that are not tombstones
	scope *Scope
}

// Value returns the node itself for ctxKey and defers to the parent for everything else.
func (n *node) Value(key any) any {
	if _, ok := key.(ctxKey); ok {
		return n
	}
	return n.Context.Value(key)
}

// String describes the node for debugging, as the standard library's context types do.
func (n *node) String() string { return "mdc.WithValues" }

func (n *node) index(key string) int {
	for i := range n.pairs {
		if n.pairs[i].Key == key {
			return i
		}
	}
	return -1
}

func (n *node) get(key string) (string, bool) {
	if i := n.index(key); i >= 0 {
		e := n.pairs[i]
		if e.gone() {
			return "", false // never hand out the tombstone's value: passed back in, it would hide a key
		}
		return e.Value, true
	}
	if n.scope != nil {
		return n.scope.get(key)
	}
	return "", false
}

func lookup(ctx context.Context) *node {
	if ctx == nil {
		return nil
	}
	n, _ := ctx.Value(ctxKey{}).(*node)
	return n
}

// Sized nodes keep the entries array in the same allocation as the node, so deriving a context with a
// small MDC costs one allocation.
type node2 struct {
	node
	arr [2]entry
}

type node4 struct {
	node
	arr [4]entry
}

type node8 struct {
	node
	arr [8]entry
}

// newNode returns a node holding a copy of pairs with room for extra more entries, backed, when
// small, by storage in the same allocation as the node. The caller finishes it with seal.
func newNode(parent context.Context, pairs []entry, extra int, scope *Scope) *node {
	n := len(pairs) + extra
	var nd *node
	switch {
	case n <= 2:
		x := &node2{}
		x.pairs = x.arr[:0]
		nd = &x.node
	case n <= 4:
		x := &node4{}
		x.pairs = x.arr[:0]
		nd = &x.node
	case n <= 8:
		x := &node8{}
		x.pairs = x.arr[:0]
		nd = &x.node
	default:
		nd = &node{pairs: make([]entry, 0, n)}
	}
	nd.pairs = append(nd.pairs, pairs...)
	nd.Context = parent
	nd.scope = scope
	return nd
}

// set replaces or appends key in an unpublished node.
func (n *node) set(key, value string) {
	if i := n.index(key); i >= 0 {
		n.pairs[i] = entry{Key: key, Value: value}
		return
	}
	n.pairs = append(n.pairs, entry{Key: key, Value: value})
}

// seal counts the live entries; it is called once, before the node is published.
func (n *node) seal() *node {
	n.live = 0
	for i := range n.pairs {
		if !n.pairs[i].gone() {
			n.live++
		}
	}
	return n
}

func background(ctx context.Context) context.Context {
	if ctx == nil {
		return context.Background()
	}
	return ctx
}

func (n *node) parts() ([]entry, *Scope) {
	if n == nil {
		return nil, nil
	}
	return n.pairs, n.scope
}

// With returns a context whose MDC is the MDC of ctx with key set to value. Setting a key that is
// present replaces its value and keeps its position. An empty key is ignored (ctx is returned as is).
// Values are stored unchanged, whatever their length or encoding: the logger's encoder escapes them
// (slog and zap replace invalid UTF-8 with U+FFFD; logrus's JSON formatter does too). A nil ctx is
// treated as context.Background().
func With(ctx context.Context, key, value string) context.Context {
	ctx = background(ctx)
	if key == "" {
		return ctx
	}
	old := lookup(ctx)
	pairs, scope := old.parts()
	extra := 1
	if old != nil {
		if i := old.index(key); i >= 0 {
			if e := pairs[i]; !e.gone() && e.Value == value {
				return ctx
			}
			extra = 0
		}
	}
	nd := newNode(ctx, pairs, extra, scope)
	nd.set(key, value)
	return nd.seal()
}

// WithPairs is With for several pairs at once, in one allocation. Pairs with an empty key are
// ignored; when a key repeats, the last value wins.
func WithPairs(ctx context.Context, pairs ...Pair) context.Context {
	ctx = background(ctx)
	if len(pairs) == 0 {
		return ctx
	}
	old, scope := lookup(ctx).parts()
	nd := newNode(ctx, old, len(pairs), scope)
	for _, p := range pairs {
		if p.Key != "" {
			nd.set(p.Key, p.Value)
		}
	}
	return nd.seal()
}

// Without returns a context whose MDC lacks key, whether it was set with With or in a request scope
// (see WithScope): when a scope is present the derived context keeps a tombstone for key that hides
// the scope's value too, now and later, until With sets the key again. An empty key, or a key that is
// not present and no scope could supply, returns ctx as is.
func Without(ctx context.Context, key string) context.Context {
	ctx = background(ctx)
	old := lookup(ctx)
	if old == nil || key == "" {
		return ctx
	}
	i := old.index(key)
	switch {
	case i >= 0 && old.pairs[i].gone():
		return ctx
	case old.scope != nil:
		nd := newNode(ctx, old.pairs, 1, old.scope)
		if i >= 0 {
			nd.pairs[i] = tombstone(key)
		} else {
			nd.pairs = append(nd.pairs, tombstone(key))
		}
		return nd.seal()
	case i < 0:
		return ctx
	}
	nd := newNode(ctx, old.pairs[:i], len(old.pairs)-i-1, nil)
	nd.pairs = append(nd.pairs, old.pairs[i+1:]...)
	return nd.seal()
}

// Get returns the value of key in the MDC of ctx: the context's own pairs first, then the nearest
// request scope. A nil ctx has no MDC.
func Get(ctx context.Context, key string) (string, bool) {
	return From(ctx).Get(key)
}

// Map is a read-only snapshot of the MDC of a context. The zero Map is empty. The context's own pairs
// are fixed when From is called; values set later in a request scope are seen by later reads of the
// same Map, as they are by later log lines.
type Map struct {
	n *node
}

// From returns the MDC of ctx. It does not allocate. A nil ctx gives the empty Map.
func From(ctx context.Context) Map {
	return Map{n: lookup(ctx)}
}

// Len returns the number of keys the map yields, scope values included.
func (m Map) Len() int {
	if m.n == nil {
		return 0
	}
	l := m.n.live
	if m.n.scope != nil {
		for _, p := range m.n.scope.load() {
			if m.n.index(p.Key) < 0 {
				l++
			}
		}
	}
	return l
}

// Get returns the value of key: the context's own pairs first, then the request scope.
func (m Map) Get(key string) (string, bool) {
	if m.n == nil {
		return "", false
	}
	return m.n.get(key)
}

// All yields every key and value: the context's own pairs in insertion order, then the scope's
// values in the order they were first set, skipping keys the context's own pairs already have.
func (m Map) All() iter.Seq2[string, string] {
	return m.Range
}

// Range calls fn for every key and value in the order of All, until fn returns false. It does not
// allocate, which makes it the form the adapters use on their hot paths.
func (m Map) Range(fn func(key, value string) bool) {
	if m.n == nil {
		return
	}
	for _, e := range m.n.pairs {
		if !e.gone() && !fn(e.Key, e.Value) {
			return
		}
	}
	if m.n.scope == nil {
		return
	}
	for _, p := range m.n.scope.load() {
		if m.n.index(p.Key) >= 0 {
			continue
		}
		if !fn(p.Key, p.Value) {
			return
		}
	}
}

// Pairs appends every key and value, in the order of All, to dst and returns it. It allocates
// only when dst lacks room for Len pairs, which lets a caller read the map into an array on its
// stack and loop over it without the function call per entry that Range makes.
func (m Map) Pairs(dst []Pair) []Pair {
	if m.n == nil {
		return dst
	}
	for _, e := range m.n.pairs {
		if !e.gone() {
			dst = append(dst, Pair(e))
		}
	}
	if m.n.scope == nil {
		return dst
	}
	for _, p := range m.n.scope.load() {
		if m.n.index(p.Key) < 0 {
			dst = append(dst, p)
		}
	}
	return dst
}

// Detach returns a context that keeps every value of ctx, its MDC and request scope included, but is
// never canceled and has no deadline: use it for work that outlives the request, such as a goroutine
// started by a handler that must still log with the request's trace id.
func Detach(ctx context.Context) context.Context {
	return context.WithoutCancel(background(ctx))
}
