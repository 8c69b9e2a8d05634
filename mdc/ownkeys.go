package mdc

// ClashPrefix is put before the name of an MDC field that is named like one of the logger's own keys
// (see OwnKeys): an MDC key "msg" is written as "fields.msg", as logrus writes any field that clashes
// with its own keys.
const ClashPrefix = "fields."

// OwnKeys is the set of field names a logger writes on its lines by itself: its time, level and
// message keys and the like (slog's "time", "level", "msg", "source"; zap's configured TimeKey,
// LevelKey, MessageKey, NameKey, CallerKey, FunctionKey, StacktraceKey). The adapters build one from
// their logger's configuration and apply one rule with it: an MDC field, or the MDC group, named like
// one of these keys is written under ClashPrefix+name, and left out when that name is taken too, so a
// line never carries a name twice and the logger's own field keeps its name.
//
// An OwnKeys is immutable and safe for concurrent use; the zero OwnKeys is empty.
type OwnKeys struct {
	keys []string
	// sieve has bit sieveBit(k) set for every key k: most field names are found absent by one test
	// of this word, with no string comparison.
	sieve uint64
}

// NewOwnKeys returns the set of the given keys; empty keys are left out (a logger configured without
// a time key writes none).
func NewOwnKeys(keys ...string) OwnKeys {
	var o OwnKeys
	for _, k := range keys {
		if k == "" || o.Has(k) {
			continue
		}
		o.keys = append(o.keys, k)
		o.sieve |= sieveBit(k)
	}
	return o
}

func sieveBit(k string) uint64 {
	return 1 << ((uint(len(k)) + uint(k[0]) + 7*uint(k[len(k)-1])) & 63)
}

// Has reports whether f is one of the keys. It does not allocate.
func (o *OwnKeys) Has(f string) bool {
	if f == "" || o.sieve&sieveBit(f) == 0 {
		return false
	}
	for _, k := range o.keys {
		if k == f {
			return true
		}
	}
	return false
}

// Field returns the name an MDC field named f is written under: f, or ClashPrefix+f when f is one of
// the keys (which allocates).
func (o *OwnKeys) Field(f string) string {
	if o.Has(f) {
		return ClashPrefix + f
	}
	return f
}

// Keys returns the keys, in the order given to NewOwnKeys.
func (o *OwnKeys) Keys() []string { return append([]string(nil), o.keys...) }
