package mdc

import (
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unsafe"

	"github.com/tracemdc/tracemdc/idmap"
)

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
// itself.
//
// # Keys or field names
//
// Rename, Allow and Deny take MDC keys (KeyTraceID, "user") or the field names a line shows, whichever
// the caller has in mind: NewNaming resolves a field name to the keys rendered under it. So with
// PresetOTel, Allow("trace_id") allows KeyTraceID and Rename("trace_id", "tid") renames it, as
// Allow(KeyTraceID) and Rename(KeyTraceID, "tid") do; after Rename("user", "userId"), Deny("userId")
// denies "user". A name is always also taken as a key, so an MDC key that happens to be spelled like
// a field name is matched too. The field names resolved are those of this Naming: its preset's names
// for the ids (also when a Rename changed them) and the targets of its Renames.
type Naming struct {
	traceField, spanField, sampledField string
	renames                             map[string]string
	allow, deny                         map[string]struct{}
	group                               string
	preset                              Preset
	format                              *format // a vendor format (GoogleCloud, Datadog), or nil
}

// NamingOption configures a Naming.
type NamingOption interface {
	apply(*namingConfig)
}

// namingConfig collects the options in order; NewNaming resolves the names they give.
type namingConfig struct {
	renames     []Pair // Key: a key or field name; Value: the new field name
	allow, deny []string
	allowSet    bool
	group       string
	format      *format
}

type namingFunc func(*namingConfig)

func (f namingFunc) apply(c *namingConfig) { f(c) }

// Rename renders the key named by name under the field name field. name is an MDC key or a field name
// of the Naming (see "Keys or field names"). A Rename wins over the preset; of two Renames of one key
// the later wins. An empty name or field is a programming error: NewNaming panics, naming it.
func Rename(name, field string) NamingOption {
	return namingFunc(func(c *namingConfig) {
		if name == "" || field == "" {
			panic(fmt.Sprintf("mdc: Rename(%q, %q): empty key or field name", name, field))
		}
		c.renames = append(c.renames, Pair{Key: name, Value: field})
	})
}

// Allow renders only the given keys or field names (cumulative over several Allow options; see "Keys
// or field names").
func Allow(names ...string) NamingOption {
	return namingFunc(func(c *namingConfig) {
		c.allowSet = true
		c.allow = append(c.allow, names...)
	})
}

// Deny never renders the given keys or field names (cumulative; wins over Allow; see "Keys or field
// names").
func Deny(names ...string) NamingOption {
	return namingFunc(func(c *namingConfig) { c.deny = append(c.deny, names...) })
}

// Group nests every MDC field under one object named name, e.g. {"mdc":{"traceId":"…"}}. An empty
// name (the default) renders the fields at the top level of the line.
func Group(name string) NamingOption {
	return namingFunc(func(c *namingConfig) { c.group = name })
}

// GoogleCloud renders the ids in the special fields of Google Cloud Logging's structured logs, which
// Cloud Logging (and its agents reading stdout) moves into the LogEntry to link the line to its trace:
//
//	KeyTraceID  "logging.googleapis.com/trace": "projects/<projectID>/traces/<32 hex>"
//	KeySpanID   "logging.googleapis.com/spanId": "<16 hex>"
//	KeySampled  "logging.googleapis.com/trace_sampled": true or false (a JSON boolean)
//
// The ids are mapped by package idmap: W3C ids (an OpenTelemetry span's) as they are, SOFA ids as
// SOFATracer's Zipkin reporter maps them (the trace id left-padded to 32 hex, the span id FNV-1a 64
// of its text), so a line joins the trace that the exporters send. The sampled flag is shown when the
// context has KeySampled: tracemdc's tracer writes it with trace.WithMDCSampled, the OpenTelemetry
// source of package otelmdc with otelmdc.WithSampled. It replaces the preset's names of the ids;
// Rename, Allow and Deny still apply (by key, or by these field names). An empty projectID, or one
// holding a '/' or white space, is a programming error: NewNaming panics.
func GoogleCloud(projectID string) NamingOption {
	return namingFunc(func(c *namingConfig) {
		if projectID == "" || strings.ContainsAny(projectID, "/ \t\n") {
			panic(fmt.Sprintf("mdc: GoogleCloud(%q): not a project id", projectID))
		}
		prefix := "projects/" + projectID + "/traces/"
		c.format = &format{
			trace:   "logging.googleapis.com/trace",
			span:    "logging.googleapis.com/spanId",
			sampled: "logging.googleapis.com/trace_sampled",
			value: func(key, v string) (string, bool) {
				switch key {
				case KeyTraceID:
					b := make([]byte, 0, len(prefix)+idmap.TraceHexLen)
					b = idmap.AppendTraceHex(append(b, prefix...), v)
					return unsafe.String(unsafe.SliceData(b), len(b)), false
				case KeySpanID:
					return idmap.SpanHex(v), false
				case KeySampled:
					if s, err := strconv.ParseBool(v); err == nil {
						return strconv.FormatBool(s), true
					}
				}
				return v, false
			},
		}
	})
}

// Datadog renders the ids as Datadog's log-trace correlation reads them: KeyTraceID as "dd.trace_id"
// and KeySpanID as "dd.span_id", each the unsigned decimal of the low 64 bits of the id, as a string
// (Datadog asks that both be parsed as strings). The ids are first mapped by package idmap as
// GoogleCloud describes, so W3C and SOFA ids both work. It replaces the preset's names of the ids;
// Rename, Allow and Deny still apply.
func Datadog() NamingOption {
	return namingFunc(func(c *namingConfig) {
		c.format = &format{
			trace: "dd.trace_id",
			span:  "dd.span_id",
			value: func(key, v string) (string, bool) {
				switch key {
				case KeyTraceID:
					id := idmap.TraceID(v)
					return strconv.FormatUint(binary.BigEndian.Uint64(id[8:]), 10), false
				case KeySpanID:
					id := idmap.SpanID(v)
					return strconv.FormatUint(binary.BigEndian.Uint64(id[:]), 10), false
				}
				return v, false
			},
		}
	})
}

// format is a vendor's log-correlation format: the field names of the ids and the conversion of
// their values.
type format struct {
	trace, span, sampled string // sampled "": KeySampled keeps its name
	value                func(key, v string) (string, bool)
}

// NewNaming returns a Naming that starts from preset and applies opts. It panics on an option that
// cannot mean anything (an empty name given to Rename), so that a mistake shows at start-up rather
// than as fields silently missing from every line.
func NewNaming(preset Preset, opts ...NamingOption) *Naming {
	var c namingConfig
	for _, o := range opts {
		if o != nil {
			o.apply(&c)
		}
	}
	n := &Naming{preset: preset, group: c.group, format: c.format, sampledField: KeySampled}
	n.traceField, n.spanField = preset.ids()
	if f := c.format; f != nil {
		n.traceField, n.spanField = f.trace, f.span
		if f.sampled != "" {
			n.sampledField = f.sampled
		}
	}
	wellKnown := [...]string{KeyTraceID, KeySpanID, KeySampled}
	presetField := n.baseField
	// Renames: a name that is the preset's field name of a well-known key renames that key too.
	for _, r := range c.renames {
		if n.renames == nil {
			n.renames = map[string]string{}
		}
		n.renames[r.Key] = r.Value
		for _, k := range wellKnown {
			if presetField(k) == r.Key && k != r.Key {
				n.renames[k] = r.Value
			}
		}
	}
	// Allow and deny lists: a name stands for itself and for every key rendered under it, by the
	// preset (before or after renames) or by a Rename.
	resolve := func(names []string) map[string]struct{} {
		set := make(map[string]struct{}, len(names))
		for _, name := range names {
			set[name] = struct{}{}
			for _, k := range wellKnown {
				if presetField(k) == name || n.field(k) == name {
					set[k] = struct{}{}
				}
			}
			for from, to := range n.renames {
				if to == name {
					set[from] = struct{}{}
				}
			}
		}
		return set
	}
	if c.allowSet {
		n.allow = resolve(c.allow)
	}
	if len(c.deny) > 0 {
		n.deny = resolve(c.deny)
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
	return n.field(key), true
}

// field is the field name of key, allow and deny lists aside.
func (n *Naming) field(key string) string {
	if n.renames != nil {
		if f, ok := n.renames[key]; ok {
			return f
		}
	}
	return n.baseField(key)
}

// baseField is the field name of key by the preset or vendor format alone: the well-known keys'
// names, every other key itself.
func (n *Naming) baseField(key string) string {
	switch key {
	case KeyTraceID:
		return n.traceField
	case KeySpanID:
		return n.spanField
	case KeySampled:
		return n.sampledField
	}
	return key
}

// Converts reports whether the Naming has a vendor format (GoogleCloud, Datadog) that changes values:
// adapters then pass each value through Value.
func (n *Naming) Converts() bool { return n != nil && n.format != nil }

// Value returns value as a line shows the MDC pair key=value, and whether the line should write it
// as a JSON boolean ("true" or "false"). Without a vendor format it is value itself, a string; a
// vendor format converts the ids (see GoogleCloud and Datadog), which allocates the new value.
func (n *Naming) Value(key, value string) (v string, isBool bool) {
	if n == nil || n.format == nil || value == "" {
		return value, false
	}
	return n.format.value(key, value)
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
