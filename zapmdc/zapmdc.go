// Package zapmdc renders the MDC of a context (see package mdc) in zap log lines. Wrap the core with
// NewCore and pass the context as a field, Ctx(ctx): the wrapper expands it into the trace id, span
// id and other MDC values, under the names a mdc.Naming chooses, after the level check and only for
// lines that are written. Every other core sees the carrier as a skipped field and prints nothing.
//
//	logger := zap.New(zapmdc.NewCore(core))
//	logger.Info("paid", zapmdc.Ctx(ctx), zap.Int("amount", 42)) // {"msg":"paid","traceId":"…","amount":42}
//
// The carrier works at the call site, bound with logger.With (child loggers inherit it), with the
// sugared logger (sugar.Infow("paid", zapmdc.Ctx(ctx))) and through zapcore.NewTee. Code that cannot
// wrap its core can call Fields instead. Fields given by the caller win over MDC fields of the same
// name, and an MDC field named like one of the encoder's own keys is written as "fields.<name>" (see
// WithEncoderConfig); see "Collisions" in package mdc. Fields added with zap.Inline cannot be seen
// before they are encoded, so they do not take part in that rule.
//
// Pairs of the sources registered with mdc.AddSource (an OpenTelemetry span's ids, say) are asked for
// in Write, after the level check, with the carried context, and rendered as MDC pairs.
//
// Keys and values are passed on unchanged, whatever their size; zap's JSON encoder writes each byte
// of invalid UTF-8 as U+FFFD. A nil context carries no MDC.
package zapmdc

import (
	"context"
	"io"
	"os"
	"reflect"
	"slices"
	"sync"

	"go.uber.org/zap"
	"go.uber.org/zap/zapcore"

	"github.com/tracemdc/tracemdc/mdc"
)

// carrierKey names the carrier field. Cores other than the wrapper skip the field whatever its key;
// the key only helps a reader of a debugger or of zaptest/observer output.
const carrierKey = "zapmdc.ctx"

// Ctx returns a field that carries ctx to a core made by NewCore, which replaces it with the MDC
// fields of ctx. Other cores print nothing for it (its type is zapcore.SkipType). A nil ctx carries
// nothing. Ctx does not allocate.
func Ctx(ctx context.Context) zap.Field {
	f := zap.Field{Key: carrierKey, Type: zapcore.SkipType}
	if ctx != nil {
		f.Interface = ctx
	}
	return f
}

// carried returns the context of a carrier field.
func carried(f *zapcore.Field) (context.Context, bool) {
	if f.Type != zapcore.SkipType || f.Key != carrierKey {
		return nil, false
	}
	ctx, ok := f.Interface.(context.Context)
	return ctx, ok
}

// Option configures a core made by NewCore.
type Option interface {
	apply(*config)
}

type config struct {
	naming *mdc.Naming
	errOut zapcore.WriteSyncer
	own    []string
}

type optionFunc func(*config)

func (f optionFunc) apply(c *config) { f(c) }

// WithNaming sets the field names and the keys that are rendered. The default (also for a nil
// Naming) is mdc.NewNaming(mdc.PresetDefault).
func WithNaming(n *mdc.Naming) Option {
	return optionFunc(func(c *config) { c.naming = n })
}

// WithErrorOutput sets where write errors of a wrapped core other than a zapcore.NewCore core are
// reported (the wrapper hands each line to such a core's own Check and Write, whose errors zap
// cannot pass back). The default is
// standard error, zap's own default. A nil w keeps the default.
func WithErrorOutput(w zapcore.WriteSyncer) Option {
	return optionFunc(func(c *config) {
		if w != nil {
			c.errOut = w
		}
	})
}

// WithEncoderConfig tells the core the keys its encoder writes by itself: cfg's MessageKey, LevelKey,
// TimeKey, NameKey, CallerKey, FunctionKey and StacktraceKey (the empty ones are not written). An MDC
// field named like one of them is written as "fields.<name>" (see mdc.OwnKeys). The default is the
// keys of zap.NewProductionEncoderConfig (msg, level, ts, logger, caller, stacktrace), which
// zap.NewProduction uses; pass the EncoderConfig the wrapped core was built with when it differs.
func WithEncoderConfig(cfg zapcore.EncoderConfig) Option {
	return optionFunc(func(c *config) { c.own = encoderKeys(cfg) })
}

func encoderKeys(cfg zapcore.EncoderConfig) []string {
	return []string{cfg.MessageKey, cfg.LevelKey, cfg.TimeKey, cfg.NameKey, cfg.CallerKey, cfg.FunctionKey, cfg.StacktraceKey}
}

// productionKeys are the own keys of a core built from zap.NewProductionEncoderConfig.
var productionKeys = mdc.NewOwnKeys(encoderKeys(zap.NewProductionEncoderConfig())...)

var stderr = zapcore.Lock(os.Stderr)

// core is the zapcore.Core returned by NewCore. It is immutable; With returns a copy.
type core struct {
	zapcore.Core      // the wrapped core, with the fields bound so far
	direct       bool // Core is a zap ioCore: see emit
	naming       *mdc.Naming
	errOut       zapcore.WriteSyncer
	own          mdc.OwnKeys // the keys the wrapped core's encoder writes by itself

	ctx   context.Context // carried by a field bound with With; the last one wins
	bound []string        // top-level keys bound with With, the first Namespace's name included

	// root is the wrapped core before the With that bound the first Namespace, nil before that;
	// after holds the fields bound since (that Namespace included). With a namespace open, Write
	// binds the MDC fields to root and replays after, so they land at the top level.
	root  zapcore.Core
	after []zapcore.Field
}

var (
	_ zapcore.Core         = (*core)(nil)
	_ zapcore.LevelEnabler = (*core)(nil)
)

// NewCore wraps next so that the carrier fields made by Ctx, at the call site or bound with With,
// are replaced by the MDC fields of their context. Each line is then checked and written by next as
// usual: its level, a sampler or the per-core levels of a zapcore.NewTee decide as they would
// without the wrapper (a plain zapcore.NewCore core is written to directly, as only its level
// matters). The fields slice given to next's Write is reused after Write returns.
// A nil next is replaced by zapcore.NewNopCore().
func NewCore(next zapcore.Core, opts ...Option) zapcore.Core {
	c := config{errOut: stderr}
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	if next == nil {
		next = zapcore.NewNopCore()
	}
	own := productionKeys
	if c.own != nil {
		own = mdc.NewOwnKeys(c.own...)
	}
	return &core{Core: next, direct: isDirect(next), naming: c.naming, errOut: c.errOut, own: own}
}

// Level returns the minimum level the wrapped core writes.
func (c *core) Level() zapcore.Level { return zapcore.LevelOf(c.Core) }

// With returns a core with fields bound; a carrier among them becomes the MDC source of every line
// written through the returned core (a carrier at the call site takes precedence).
func (c *core) With(fields []zapcore.Field) zapcore.Core {
	if len(fields) == 0 {
		return c
	}
	n := *c
	onlyCarriers := true
	for i := range fields {
		if _, ok := carried(&fields[i]); !ok {
			onlyCarriers = false
			break
		}
	}
	if !onlyCarriers { // the wrapped core would print nothing for a carrier: spare it the clone
		n.Core = c.Core.With(fields)
		n.direct = isDirect(n.Core)
	}
	if c.root != nil {
		n.after = append(slices.Clip(c.after), fields...)
	}
	n.bound = slices.Clip(c.bound)
	for i := range fields {
		f := &fields[i]
		if ctx, ok := carried(f); ok {
			n.ctx = ctx
			continue
		}
		if n.root != nil || f.Type == zapcore.SkipType {
			continue
		}
		n.bound = append(n.bound, f.Key)
		if f.Type == zapcore.NamespaceType {
			n.root = c.Core
			n.after = slices.Clone(fields)
		}
	}
	return &n
}

// Check adds the wrapper to ce when the wrapped core is enabled at the entry's level. The MDC is not
// read here: that waits for Write, which a disabled level never reaches.
func (c *core) Check(ent zapcore.Entry, ce *zapcore.CheckedEntry) *zapcore.CheckedEntry {
	if c.Core.Enabled(ent.Level) {
		return ce.AddCore(ent, c)
	}
	return ce
}

// fieldBuf recycles the slices Write builds.
type fieldBuf struct{ fs []zapcore.Field }

var bufPool = sync.Pool{New: func() any { return &fieldBuf{fs: make([]zapcore.Field, 0, 8)} }}

// Write replaces the carriers in fields by the MDC fields of the carried context (or the one bound
// with With), and the pairs the registered sources (mdc.AddSource) find in it, placed before the
// caller's fields, and hands the line to the wrapped core (see
// NewCore). It returns the error of a wrapped zapcore.NewCore core; the errors of any other core go
// to the error output (see WithErrorOutput).
func (c *core) Write(ent zapcore.Entry, fields []zapcore.Field) error {
	ctx := c.ctx
	// Top-level keys given at the call site: those before the first Namespace.
	top := fields
	for i := range fields {
		f := &fields[i]
		if x, ok := carried(f); ok {
			ctx = x
		} else if f.Type == zapcore.NamespaceType && len(top) == len(fields) {
			top = fields[:i+1] // the namespace's own name is a top-level key too
		}
	}
	m := mdc.From(ctx)
	if m.Len() == 0 && !mdc.HasSources() {
		return c.emit(c.Core, c.direct, ent, fields)
	}
	var pbuf [8]mdc.Pair
	ps := mdc.SourcePairs(ctx, m.Pairs(pbuf[:0]))
	if c.naming.GroupName() != "" {
		return c.writeGroup(ent, fields, ps, top)
	}
	// The buffer is taken from the pool at the first MDC field the line shows: a line without any
	// never touches the pool.
	var b *fieldBuf
	for _, p := range ps {
		f, ok := p.Key, p.Key != ""
		if c.naming != nil { // nil is PresetDefault, whose field names are the keys themselves
			f, ok = c.naming.Field(p.Key)
		}
		if !ok {
			continue
		}
		if c.own.Has(f) {
			f = mdc.ClashPrefix + f
		}
		if c.taken(f, top) {
			continue
		}
		if b == nil {
			b = bufPool.Get().(*fieldBuf)
		} else if has(b.fs, f) {
			continue
		}
		if c.naming.Converts() {
			b.fs = append(b.fs, field(c.naming, f, p))
		} else {
			b.fs = append(b.fs, zap.String(f, p.Value))
		}
	}
	if b == nil {
		return c.emit(c.Core, c.direct, ent, fields)
	}
	var err error
	if c.root == nil && c.direct {
		// The common case, written out here: the line's Entry is large, and each call that passes
		// it on copies it.
		for i := range fields {
			if _, ok := carried(&fields[i]); !ok {
				b.fs = append(b.fs, fields[i])
			}
		}
		err = c.Core.Write(ent, b.fs)
	} else {
		err = c.flush(b, ent, fields)
	}
	// Not cleared: the sync.Pool drops idle buffers within two garbage collections, which bounds how
	// long the values they point to stay reachable, and clearing costs more than the rest of Write.
	b.fs = b.fs[:0]
	bufPool.Put(b)
	return err
}

// taken reports whether the top-level field name f is already used by a field bound with With or,
// when no namespace is open, by one of top, the top-level fields of the line.
func (c *core) taken(f string, top []zapcore.Field) bool {
	for i := range c.bound {
		if c.bound[i] == f {
			return true
		}
	}
	if c.root != nil {
		return false
	}
	for i := range top {
		if top[i].Key == f && top[i].Type != zapcore.SkipType {
			return true
		}
	}
	return false
}

// writeGroup is Write for a Naming with a Group: the MDC fields go into one object field.
func (c *core) writeGroup(ent zapcore.Entry, fields []zapcore.Field, ps []mdc.Pair, top []zapcore.Field) error {
	group := c.own.Field(c.naming.GroupName())
	if c.taken(group, top) {
		return c.emit(c.Core, c.direct, ent, fields)
	}
	obj := renderObject(c.naming, ps)
	if len(obj) == 0 {
		return c.emit(c.Core, c.direct, ent, fields)
	}
	b := bufPool.Get().(*fieldBuf)
	b.fs = append(b.fs, zap.Object(group, obj))
	err := c.flush(b, ent, fields)
	b.fs = b.fs[:0]
	bufPool.Put(b)
	return err
}

// flush writes the line with the MDC fields in b (at least one) placed before the caller's fields.
func (c *core) flush(b *fieldBuf, ent zapcore.Entry, fields []zapcore.Field) error {
	if c.root != nil {
		// A namespace is open: bind the MDC fields where it is not, then the caller's fields.
		target := c.root.With(slices.Clone(b.fs)).With(c.after)
		return c.emit(target, isDirect(target), ent, fields)
	}
	for i := range fields {
		if _, ok := carried(&fields[i]); !ok {
			b.fs = append(b.fs, fields[i])
		}
	}
	return c.emit(c.Core, c.direct, ent, b.fs)
}

// emit hands the line to target. A zap ioCore (what zapcore.NewCore returns) checks nothing but
// its level, which Check has done, so it gets the line directly and its error is returned; any other
// core checks the entry first, as the logger would have, so that a sampler or the cores of a tee
// apply their own rules, and its errors go to the error output.
func (c *core) emit(target zapcore.Core, direct bool, ent zapcore.Entry, fields []zapcore.Field) error {
	if direct {
		return target.Write(ent, fields)
	}
	if ce := target.Check(ent, nil); ce != nil {
		ce.ErrorOutput = c.errOut
		ce.Write(fields...)
	}
	return nil
}

// ioCoreType is the type zapcore.NewCore returns.
var ioCoreType = reflect.TypeOf(zapcore.NewCore(zapcore.NewJSONEncoder(zapcore.EncoderConfig{}), zapcore.AddSync(io.Discard), zapcore.DebugLevel))

// isDirect reports whether core is a zap ioCore, whose Check only tests its level.
func isDirect(core zapcore.Core) bool { return reflect.TypeOf(core) == ioCoreType }

func has(fs []zapcore.Field, key string) bool {
	for i := range fs {
		if fs[i].Key == key {
			return true
		}
	}
	return false
}

// object renders MDC fields as one group.
type object []zapcore.Field

// MarshalLogObject adds the fields to enc.
func (o object) MarshalLogObject(enc zapcore.ObjectEncoder) error {
	for i := range o {
		o[i].AddTo(enc)
	}
	return nil
}

// renderObject returns the fields of ps under naming n, the first of each name, for a group: inside
// it no name collides with the caller's or the logger's.
func renderObject(n *mdc.Naming, ps []mdc.Pair) object {
	var obj object
	for _, p := range ps {
		if f, ok := n.Field(p.Key); ok && !has(obj, f) {
			obj = append(obj, field(n, f, p))
		}
	}
	return obj
}

// field returns the zap field named f for the pair p, its value as naming n shows it.
func field(n *mdc.Naming, f string, p mdc.Pair) zap.Field {
	v, isBool := n.Value(p.Key, p.Value)
	if isBool {
		return zap.Bool(f, v == "true")
	}
	return zap.String(f, v)
}

// Fields returns the MDC of ctx rendered as zap fields with naming n (nil for the default), for code
// that cannot wrap its core: logger.With(zapmdc.Fields(ctx, nil)...). The pairs of the registered
// sources are included, as they are when Fields is called. With a Group, it returns one
// zap.Object field. Of two keys rendered under one name the first wins, and a field named like one of
// the keys of zap.NewProductionEncoderConfig is written as "fields.<name>"; unlike the wrapper, Fields
// cannot see the caller's fields, so the rest of the collision rule is the caller's to keep. A nil
// ctx, or one without MDC, gives nil.
func Fields(ctx context.Context, n *mdc.Naming) []zap.Field {
	ps := mdc.Pairs(ctx, nil)
	if len(ps) == 0 {
		return nil
	}
	if g := n.GroupName(); g != "" {
		if obj := renderObject(n, ps); len(obj) > 0 {
			return []zap.Field{zap.Object(productionKeys.Field(g), obj)}
		}
		return nil
	}
	var out []zap.Field
	for _, p := range ps {
		f, ok := n.Field(p.Key)
		if !ok {
			continue
		}
		f = productionKeys.Field(f)
		if !has(out, f) {
			out = append(out, field(n, f, p))
		}
	}
	return out
}
