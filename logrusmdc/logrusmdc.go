// Package logrusmdc renders the MDC of a context (see package mdc) in logrus entries: a logrus.Hook
// adds the trace id, span id and other MDC values of the entry's context (Logger.WithContext) as
// fields, under the names a mdc.Naming chooses, at every level.
//
//	logger.AddHook(logrusmdc.NewHook())
//	logger.WithContext(ctx).Info("paid") // {"level":"info","msg":"paid","traceId":"…",...}
//
// Fields of the entry (WithField, WithFields) win over MDC fields of the same name, and an MDC field
// named like one of the formatter's own keys (time, msg, level, logrus_error; func and file with
// ReportCaller; as renamed by a FieldMap) is written as "fields.<name>", as logrus writes any such
// field; see "Collisions" in package mdc.
//
// Pairs of the sources registered with mdc.AddSource (an OpenTelemetry span's ids, say) are asked for
// in Fire, with the entry's context, and rendered as MDC pairs.
//
// Keys and values are passed on unchanged, whatever their size; logrus's JSON formatter (through
// encoding/json) writes each byte of invalid UTF-8 as U+FFFD; its text formatter writes a value
// with invalid UTF-8 Go-quoted ("a\xffb") and a key as it is. A nil context has no MDC.
package logrusmdc

import (
	"github.com/sirupsen/logrus"

	"github.com/tracemdc/tracemdc/mdc"
)

// Option configures the hook made by NewHook.
type Option interface {
	apply(*hook)
}

type optionFunc func(*hook)

func (f optionFunc) apply(h *hook) { f(h) }

// WithNaming sets the field names and the keys that are rendered. The default (also for a nil
// Naming) is mdc.NewNaming(mdc.PresetDefault).
func WithNaming(n *mdc.Naming) Option {
	return optionFunc(func(h *hook) { h.naming = n })
}

// WithLoggerKeys sets the keys the logger's formatter writes by itself, for a formatter other than
// logrus's JSONFormatter and TextFormatter (whose keys, FieldMap included, the hook reads from the
// entry's logger). An MDC field named like one of them is written as "fields.<name>" (see
// mdc.OwnKeys).
func WithLoggerKeys(keys ...string) Option {
	return optionFunc(func(h *hook) {
		own := mdc.NewOwnKeys(keys...)
		h.own = &own
	})
}

// hook is the logrus.Hook returned by NewHook. It has no mutable state.
type hook struct {
	naming *mdc.Naming
	own    *mdc.OwnKeys // set by WithLoggerKeys; nil: read from the entry's formatter
}

// Own keys of the formatters whose FieldMap is the default, with and without ReportCaller.
var (
	defaultOwn       = mdc.NewOwnKeys(logrus.FieldKeyTime, logrus.FieldKeyMsg, logrus.FieldKeyLevel, logrus.FieldKeyLogrusError)
	defaultOwnCaller = mdc.NewOwnKeys(logrus.FieldKeyTime, logrus.FieldKeyMsg, logrus.FieldKeyLevel, logrus.FieldKeyLogrusError,
		logrus.FieldKeyFunc, logrus.FieldKeyFile)
	noOwn mdc.OwnKeys
)

// ownKeys returns the keys e's formatter writes by itself: those logrus's JSONFormatter and
// TextFormatter would rename a clashing field of, resolved through their FieldMap (no key at all for
// a JSONFormatter with a DataKey, which nests the fields); the default keys for any other formatter.
func (h *hook) ownKeys(e *logrus.Entry) *mdc.OwnKeys {
	if h.own != nil {
		return h.own
	}
	var fm logrus.FieldMap
	caller := false
	if e.Logger != nil {
		caller = e.Logger.ReportCaller
		switch f := e.Logger.Formatter.(type) {
		case *logrus.JSONFormatter:
			if f.DataKey != "" {
				return &noOwn
			}
			fm = f.FieldMap
		case *logrus.TextFormatter:
			fm = f.FieldMap
		}
	}
	if len(fm) == 0 {
		if caller {
			return &defaultOwnCaller
		}
		return &defaultOwn
	}
	res := func(k string) string {
		for from, to := range fm { // the map's key type is unexported: compare as strings
			if string(from) == k {
				return to
			}
		}
		return k
	}
	keys := []string{res(logrus.FieldKeyTime), res(logrus.FieldKeyMsg), res(logrus.FieldKeyLevel), res(logrus.FieldKeyLogrusError)}
	if caller {
		keys = append(keys, res(logrus.FieldKeyFunc), res(logrus.FieldKeyFile))
	}
	own := mdc.NewOwnKeys(keys...)
	return &own
}

var _ logrus.Hook = (*hook)(nil)

// NewHook returns a hook that adds the MDC of entry.Context to every entry; register it with
// Logger.AddHook. It is safe for concurrent use.
func NewHook(opts ...Option) logrus.Hook {
	h := &hook{}
	for _, o := range opts {
		if o != nil {
			o.apply(h)
		}
	}
	return h
}

// Levels returns every logrus level.
func (h *hook) Levels() []logrus.Level { return logrus.AllLevels }

// value returns the value of p as the naming shows it: a string, or a bool for a vendor format's
// boolean.
func (h *hook) value(p mdc.Pair) any {
	if !h.naming.Converts() {
		return p.Value
	}
	v, isBool := h.naming.Value(p.Key, p.Value)
	if isBool {
		return v == "true"
	}
	return v
}

// Fire adds the MDC fields of e.Context, and the pairs the registered sources (mdc.AddSource) find
// in it, to e.Data, leaving out those whose names e.Data already has. It never fails.
//
// Fire writes into e.Data: logrus (v1.10, the version this module requires) hands hooks an entry
// whose Data map is a private copy made for this one line ("Hooks receive the Entry and may mutate
// it"), so the map of the entry the caller derived it from, perhaps shared by other goroutines, is
// never touched.
func (h *hook) Fire(e *logrus.Entry) error {
	if e == nil {
		return nil
	}
	m := mdc.From(e.Context)
	if m.Len() == 0 && !mdc.HasSources() {
		return nil
	}
	var buf [8]mdc.Pair
	ps := mdc.SourcePairs(e.Context, m.Pairs(buf[:0]))
	if len(ps) == 0 {
		return nil
	}
	own := h.ownKeys(e)
	if g := h.naming.GroupName(); g != "" {
		g = own.Field(g)
		if _, taken := e.Data[g]; taken {
			return nil
		}
		group := logrus.Fields{}
		for _, p := range ps {
			if f, ok := h.naming.Field(p.Key); ok {
				if _, dup := group[f]; !dup {
					group[f] = h.value(p)
				}
			}
		}
		if len(group) > 0 {
			if e.Data == nil {
				e.Data = logrus.Fields{}
			}
			e.Data[g] = group
		}
		return nil
	}
	for _, p := range ps {
		f, ok := h.naming.Field(p.Key)
		if !ok {
			continue
		}
		f = own.Field(f)
		// A key already present is the caller's, or an earlier MDC key with the same name.
		if _, taken := e.Data[f]; !taken {
			if e.Data == nil {
				e.Data = make(logrus.Fields, len(ps))
			}
			e.Data[f] = h.value(p)
		}
	}
	return nil
}
