package mdc

import "slices"

// Preset is a set of field names for the well-known keys.
type Preset int

// The naming presets. Each renames KeyTraceID and KeySpanID; every other key is rendered under its own
// name unless a Rename says otherwise.
const (
	PresetDefault Preset = iota // traceId, spanId
	PresetSOFA                  // SOFA-TraceId, SOFA-SpanId (SOFATracer's MDC keys)
	PresetOTel                  // trace_id, span_id (OpenTelemetry log data model)
	PresetECS                   // trace.id, span.id (Elastic Common Schema)
)

// String returns the preset's name.
func (p Preset) String() string {
	switch p {
	case PresetDefault:
		return "default"
	case PresetSOFA:
		return "sofa"
	case PresetOTel:
		return "otel"
	case PresetECS:
		return "ecs"
	}
	return "Preset(?)"
}

func (p Preset) ids() (trace, span string) {
	switch p {
	case PresetSOFA:
		return "SOFA-TraceId", "SOFA-SpanId"
	case PresetOTel:
		return "trace_id", "span_id"
	case PresetECS:
		return "trace.id", "span.id"
	}
	return KeyTraceID, KeySpanID
}

// Naming decides which MDC keys a log line shows and under which field names. One Naming is shared by
// the slog, zap and logrus adapters, so the three render the same context the same way. A Naming is
// immutable once made, safe for concurrent use, and a nil *Naming behaves like NewNaming(PresetDefault).
//
// The order of decisions for a key: the deny list drops it; a non-empty allow list drops every key not
// on it; then a Rename gives its field name; then the preset (for the trace and span ids); else the key
// itself. Allow and deny lists name MDC keys, not field names.
type Naming struct {
	traceField, spanField string
	renames               map[string]string
	allow, deny           map[string]struct{}
	group                 string
	preset                Preset
}

// NamingOption configures a Naming.
type NamingOption interface {
	apply(*Naming)
}

type namingFunc func(*Naming)

func (f namingFunc) apply(n *Naming) { f(n) }

// Rename renders key under the field name field. It wins over the preset. An empty key or field is
// ignored.
func Rename(key, field string) NamingOption {
	return namingFunc(func(n *Naming) {
		if key == "" || field == "" {
			return
		}
		if n.renames == nil {
			n.renames = map[string]string{}
		}
		n.renames[key] = field
	})
}

// Allow renders only the given keys (cumulative over several Allow options).
func Allow(keys ...string) NamingOption {
	return namingFunc(func(n *Naming) {
		if n.allow == nil {
			n.allow = map[string]struct{}{}
		}
		for _, k := range keys {
			n.allow[k] = struct{}{}
		}
	})
}

// Deny never renders the given keys (cumulative; wins over Allow).
func Deny(keys ...string) NamingOption {
	return namingFunc(func(n *Naming) {
		if n.deny == nil {
			n.deny = map[string]struct{}{}
		}
		for _, k := range keys {
			n.deny[k] = struct{}{}
		}
	})
}

// Group nests every MDC field under one object named name, e.g. {"mdc":{"traceId":"…"}}. An empty
// name (the default) renders the fields at the top level of the line.
func Group(name string) NamingOption {
	return namingFunc(func(n *Naming) { n.group = name })
}

// NewNaming returns a Naming that starts from preset and applies opts in order.
func NewNaming(preset Preset, opts ...NamingOption) *Naming {
	n := &Naming{preset: preset}
	n.traceField, n.spanField = preset.ids()
	for _, o := range opts {
		if o != nil {
			o.apply(n)
		}
	}
	return n
}

var defaultNaming = NewNaming(PresetDefault)

func (n *Naming) orDefault() *Naming {
	if n == nil {
		return defaultNaming
	}
	return n
}

// Preset returns the preset the Naming started from.
func (n *Naming) Preset() Preset { return n.orDefault().preset }

// GroupName returns the group every MDC field is nested under, or "" for the top level.
func (n *Naming) GroupName() string { return n.orDefault().group }

// Field returns the field name for an MDC key, and false when the key is not rendered. It does not
// allocate.
func (n *Naming) Field(key string) (string, bool) {
	n = n.orDefault()
	if key == "" {
		return "", false
	}
	if n.deny != nil {
		if _, ok := n.deny[key]; ok {
			return "", false
		}
	}
	if n.allow != nil {
		if _, ok := n.allow[key]; !ok {
			return "", false
		}
	}
	if n.renames != nil {
		if f, ok := n.renames[key]; ok {
			return f, true
		}
	}
	switch key {
	case KeyTraceID:
		return n.traceField, true
	case KeySpanID:
		return n.spanField, true
	}
	return key, true
}

// Range calls fn with the field name and value of every rendered entry of m, in m's order, until fn
// returns false. Two keys that the Naming maps to one field name are both passed on; adapters keep the
// first (see the package documentation on collisions). It does not allocate.
func (n *Naming) Range(m Map, fn func(field, value string) bool) {
	m.Range(func(k, v string) bool {
		f, ok := n.Field(k)
		if !ok {
			return true
		}
		return fn(f, v)
	})
}

// Fields returns the rendered field names and values of the MDC of m, in order; for tests and tools.
func (n *Naming) Fields(m Map) []Pair {
	var out []Pair
	n.Range(m, func(f, v string) bool {
		if !slices.ContainsFunc(out, func(p Pair) bool { return p.Key == f }) {
			out = append(out, Pair{Key: f, Value: v})
		}
		return true
	})
	return out
}
