// Package logrusmdc renders the MDC of a context (see package mdc) in logrus entries: a logrus.Hook
// adds the trace id, span id and other MDC values of the entry's context (Logger.WithContext) as
// fields, under the names a mdc.Naming chooses, at every level.
//
//	logger.AddHook(logrusmdc.NewHook())
//	logger.WithContext(ctx).Info("paid") // {"level":"info","msg":"paid","traceId":"…",...}
//
// Fields of the entry (WithField, WithFields) win over MDC fields of the same name; see "Collisions"
// in package mdc. As with any logrus field, an MDC field named like one of the formatter's own keys
// (time, msg, level) is renamed by logrus to fields.time and so on; keep MDC keys clear of those.
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

// hook is the logrus.Hook returned by NewHook. It has no mutable state.
type hook struct {
	naming *mdc.Naming
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

// Fire adds the MDC fields of e.Context to e.Data, leaving out those whose names e.Data already
// has. It never fails.
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
	if m.Len() == 0 {
		return nil
	}
	if g := h.naming.GroupName(); g != "" {
		if _, taken := e.Data[g]; taken {
			return nil
		}
		group := logrus.Fields{}
		h.naming.Range(m, func(f, v string) bool {
			if _, dup := group[f]; !dup {
				group[f] = v
			}
			return true
		})
		if len(group) > 0 {
			if e.Data == nil {
				e.Data = logrus.Fields{}
			}
			e.Data[g] = group
		}
		return nil
	}
	h.naming.Range(m, func(f, v string) bool {
		// A key already present is the caller's, or an earlier MDC key with the same name.
		if _, taken := e.Data[f]; !taken {
			if e.Data == nil {
				e.Data = make(logrus.Fields, m.Len())
			}
			e.Data[f] = v
		}
		return true
	})
	return nil
}
