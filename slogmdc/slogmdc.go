// Package slogmdc renders the MDC of a context (see package mdc) in every log/slog record: a
// slog.Handler wrapper adds the trace id, span id and other MDC values of the context given to
// Handle as attributes, under the names a mdc.Naming chooses.
//
//	logger := slog.New(slogmdc.New(slog.NewJSONHandler(os.Stdout, nil)))
//	logger.InfoContext(mdc.With(ctx, mdc.KeyTraceID, "0ad1348f"), "paid") // ... "msg":"paid","traceId":"0ad1348f"
//
// The MDC fields sit at the top level of the line even inside groups opened with WithGroup (unless
// the Naming has a Group, then they sit in that one group at the top level). Attributes given at the
// call site, or bound with WithAttrs before any group, win over MDC fields of the same name, and an
// MDC field named like one of the handler's own keys (time, level, msg, source) is written as
// "fields.<name>"; see "Collisions" in package mdc.
//
// Pairs of the sources registered with mdc.AddSource (an OpenTelemetry span's ids, say) are asked for
// in Handle, after the level check, and rendered as MDC pairs.
//
// Keys and values are passed on unchanged, whatever their size; slog's JSON handler writes each byte
// of invalid UTF-8 as U+FFFD. A nil context has no MDC.
package slogmdc

import (
	"context"
	"log/slog"
	"slices"

	"github.com/tracemdc/tracemdc/mdc"
)

// Option configures the handler made by New.
type Option interface {
	apply(*config)
}

type config struct {
	naming *mdc.Naming
	own    []string
	ownSet bool
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithNaming sets the field names and the keys that are rendered. The default (also for a nil
// Naming) is mdc.NewNaming(mdc.PresetDefault).
func WithNaming(n *mdc.Naming) Option {
	return optionFunc(func(c *config) { c.naming = n })
}

// WithLoggerKeys sets the keys the wrapped handler writes by itself, for a handler that does not use
// slog's (a ReplaceAttr that renames them, say). An MDC field named like one of them is written as
// "fields.<name>" (see mdc.OwnKeys). The default is slog.TimeKey, slog.LevelKey, slog.MessageKey and
// slog.SourceKey.
func WithLoggerKeys(keys ...string) Option {
	return optionFunc(func(c *config) {
		c.own = append([]string(nil), keys...)
		c.ownSet = true
	})
}

// op is a WithGroup (group != "") or a WithAttrs call made after the first WithGroup.
type op struct {
	group string
	attrs []slog.Attr
}

// handler is the slog.Handler returned by New. It is immutable; WithAttrs and WithGroup return copies.
type handler struct {
	next   slog.Handler
	naming *mdc.Naming
	own    mdc.OwnKeys // the wrapped handler's own keys
	slow   bool        // the naming has a group or converts values: the general path only

	// topKeys are the top-level keys the caller bound: those of WithAttrs before any WithGroup, and
	// the name of the first WithGroup.
	topKeys []string

	// root is the wrapped handler as it was before the first WithGroup, nil while no group is open;
	// ops replays the calls made since. With a group open, Handle puts the MDC attributes on root and
	// replays ops, so they land at the top level.
	root slog.Handler
	ops  []op
}

var _ slog.Handler = (*handler)(nil)

// New returns a slog.Handler that adds the MDC of the context passed to Handle to each record and
// passes it on to next. A nil next is replaced by slog.Default().Handler() as it is at the time of
// the call. The returned handler is safe for concurrent use if next is.
func New(next slog.Handler, opts ...Option) slog.Handler {
	var c config
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if next == nil {
		next = slog.Default().Handler()
	}
	if !c.ownSet {
		c.own = []string{slog.TimeKey, slog.LevelKey, slog.MessageKey, slog.SourceKey}
	}
	return &handler{next: next, naming: c.naming, own: mdc.NewOwnKeys(c.own...),
		slow: c.naming.GroupName() != "" || c.naming.Converts()}
}

// Enabled reports whether next handles records at level l. It does no MDC work.
func (h *handler) Enabled(ctx context.Context, l slog.Level) bool {
	return h.next.Enabled(ctx, l)
}

// Handle adds the MDC fields of ctx, and the pairs of the registered sources (mdc.AddSource), to r
// and passes r to the wrapped handler.
func (h *handler) Handle(ctx context.Context, r slog.Record) error {
	m := mdc.From(ctx)
	size := m.Len()
	if size == 0 && !mdc.HasSources() {
		return h.next.Handle(ctx, r)
	}
	if h.root != nil || h.slow || size > inlineAttrs {
		var buf [generalPairs]mdc.Pair
		return h.handle(ctx, r, mdc.SourcePairs(ctx, m.Pairs(buf[:0])))
	}
	// Fast path: the record's attributes are at the top level, and the record has room for five
	// inline, so the usual ids cost no allocation. The record is walked once, for its keys (each
	// walk copies the whole record); records with more attributes, or with a key-less one (an
	// inlined group), and MDCs with more keys than the inline slots or that would not fit next to
	// the record's attributes, take the general path.
	//
	// The MDC is read into an array on the stack and the fields are built in a loop, not in a
	// function passed to Range: no call per entry, and the batch is a plain local array, which
	// the compiler writes without the write-barrier check it needs behind a closure's pointer.
	var buf [inlineAttrs]mdc.Pair
	ps := mdc.SourcePairs(ctx, m.Pairs(buf[:0]))
	if len(ps) == 0 {
		return h.next.Handle(ctx, r)
	}
	var keys [inlineAttrs]string
	nrec, deep := 0, false
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "" || nrec == len(keys) {
			deep = true
			return false
		}
		keys[nrec] = a.Key
		nrec++
		return true
	})
	if deep {
		return h.handle(ctx, r, ps)
	}
	var batch [inlineAttrs]slog.Attr
	nb := 0
pairs:
	for _, p := range ps {
		f, ok := h.naming.Field(p.Key)
		if !ok {
			continue
		}
		if h.own.Has(f) {
			f = mdc.ClashPrefix + f
		}
		if slices.Contains(keys[:nrec], f) || h.taken(f) {
			continue
		}
		for i := range nb {
			if batch[i].Key == f {
				continue pairs // an earlier MDC key has this field name: the first wins
			}
		}
		if nrec+nb == len(batch) {
			return h.handle(ctx, r, ps)
		}
		// Field by field, not batch[nb] = slog.String(...): the compiler builds a whole Attr in a
		// temporary with 8-byte stores and copies it with 16-byte loads, which stall until the
		// stores are done (store forwarding fails); this form writes the batch directly.
		batch[nb].Key = f
		batch[nb].Value = slog.StringValue(p.Value)
		nb++
	}
	r.AddAttrs(batch[:nb]...)
	return h.next.Handle(ctx, r)
}

// generalPairs is the number of MDC pairs the general path reads without allocating.
const generalPairs = 8

// handle is Handle's general path: any record, any naming, groups open. ps are the MDC pairs of
// ctx, in order, before naming.
func (h *handler) handle(ctx context.Context, r slog.Record, ps []mdc.Pair) error {
	group := h.naming.GroupName()
	var attrs []slog.Attr
	for _, p := range ps {
		f, ok := h.naming.Field(p.Key)
		if !ok {
			continue
		}
		if group == "" {
			f = h.own.Field(f)
			if h.taken(f) || h.root == nil && recordHas(&r, f) {
				continue
			}
		}
		if !slices.ContainsFunc(attrs, func(a slog.Attr) bool { return a.Key == f }) {
			v, isBool := h.naming.Value(p.Key, p.Value)
			if isBool {
				attrs = append(attrs, slog.Bool(f, v == "true"))
			} else {
				attrs = append(attrs, slog.String(f, v))
			}
		}
	}
	if len(attrs) == 0 {
		return h.next.Handle(ctx, r)
	}
	if group != "" {
		group = h.own.Field(group)
		if h.taken(group) || h.root == nil && recordHas(&r, group) {
			return h.next.Handle(ctx, r)
		}
		attrs = []slog.Attr{{Key: group, Value: slog.GroupValue(attrs...)}}
	}
	if h.root == nil {
		addAttrs(&r, attrs)
		return h.next.Handle(ctx, r)
	}
	// A group is open: build, for this record, the handler chain with the MDC at the top level.
	hh := h.root.WithAttrs(attrs)
	for _, o := range h.ops {
		if o.group != "" {
			hh = hh.WithGroup(o.group)
		} else {
			hh = hh.WithAttrs(o.attrs)
		}
	}
	return hh.Handle(ctx, r)
}

// WithAttrs returns a handler whose wrapped handler has attrs bound.
func (h *handler) WithAttrs(attrs []slog.Attr) slog.Handler {
	if len(attrs) == 0 {
		return h
	}
	c := *h
	c.next = h.next.WithAttrs(attrs)
	if h.root == nil {
		c.topKeys = slices.Clip(h.topKeys)
		for _, a := range attrs {
			c.topKeys = appendKeys(c.topKeys, a)
		}
	} else {
		c.ops = append(slices.Clip(h.ops), op{attrs: slices.Clone(attrs)})
	}
	return &c
}

// WithGroup returns a handler whose wrapped handler has the group name open. The MDC fields stay at
// the top level; an MDC field named like the outermost group is left out, as a field bound by the
// caller would win over it (even when the group ends up empty and the handler omits it).
func (h *handler) WithGroup(name string) slog.Handler {
	if name == "" {
		return h
	}
	c := *h
	c.next = h.next.WithGroup(name)
	if h.root == nil {
		c.root = h.next
		c.topKeys = append(slices.Clip(h.topKeys), name)
	}
	c.ops = append(slices.Clip(h.ops), op{group: name})
	return &c
}

// inlineAttrs is the number of attributes a slog.Record holds in its own array (nAttrsInline).
const inlineAttrs = 5

// addAttrs adds as to r, a copy of the caller's record. Attributes past the inline ones go to a
// slice that copies of a record share; Clone (which clips it) then keeps AddAttrs from writing into
// the caller's. The inline ones need no Clone, which saves copying the record twice.
func addAttrs(r *slog.Record, as []slog.Attr) {
	if len(as) == 0 {
		return
	}
	if r.NumAttrs()+len(as) > inlineAttrs {
		*r = r.Clone()
	}
	r.AddAttrs(as...)
}

// taken reports whether a top-level attribute bound with WithAttrs has key f.
func (h *handler) taken(f string) bool {
	for _, k := range h.topKeys {
		if k == f {
			return true
		}
	}
	return false
}

// appendKeys appends the top-level key a contributes: its own, or those of its members for a group
// with an empty key, which handlers inline.
func appendKeys(keys []string, a slog.Attr) []string {
	if a.Key != "" {
		return append(keys, a.Key)
	}
	v := a.Value.Resolve()
	if v.Kind() == slog.KindGroup {
		for _, m := range v.Group() {
			keys = appendKeys(keys, m)
		}
	}
	return keys
}

// recordHas reports whether r has a top-level attribute with key f.
func recordHas(r *slog.Record, f string) bool {
	found := false
	r.Attrs(func(a slog.Attr) bool {
		found = attrHas(a, f)
		return !found
	})
	return found
}

func attrHas(a slog.Attr, f string) bool {
	if a.Key != "" {
		return a.Key == f
	}
	if a.Value.Kind() != slog.KindGroup && a.Value.Kind() != slog.KindLogValuer {
		return false
	}
	v := a.Value.Resolve()
	if v.Kind() != slog.KindGroup {
		return false
	}
	for _, m := range v.Group() {
		if attrHas(m, f) {
			return true
		}
	}
	return false
}
