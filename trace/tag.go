package trace

import (
	"slices"
	"strconv"
)

// TagRoute is the tag of Span.SetRoute: the route template that served a request ("/orders/{id}"),
// named as OpenTelemetry's semantic conventions name it.
const TagRoute = "http.route"

// TagKind is the type of a TagValue.
type TagKind uint8

// The tag kinds.
const (
	TagString TagKind = iota
	TagInt
	TagBool
)

// String returns "string", "int" or "bool".
func (k TagKind) String() string {
	switch k {
	case TagInt:
		return "int"
	case TagBool:
		return "bool"
	}
	return "string"
}

// TagValue is a typed tag value: a string, an int64 or a bool. The zero TagValue is the empty string.
type TagValue struct {
	kind TagKind
	s    string
	n    int64
}

// Kind returns the type of v.
func (v TagValue) Kind() TagKind { return v.kind }

// String returns v as text: the string itself, the decimal integer, or "true"/"false". It
// allocates only for integers and booleans; encoders use Append or Int64 instead.
func (v TagValue) String() string {
	switch v.kind {
	case TagInt:
		return strconv.FormatInt(v.n, 10)
	case TagBool:
		return strconv.FormatBool(v.n != 0)
	}
	return v.s
}

// Append appends v, as String renders it, to dst.
func (v TagValue) Append(dst []byte) []byte {
	switch v.kind {
	case TagInt:
		return strconv.AppendInt(dst, v.n, 10)
	case TagBool:
		return strconv.AppendBool(dst, v.n != 0)
	}
	return append(dst, v.s...)
}

// Int64 returns the integer of a TagInt value, else 0.
func (v TagValue) Int64() int64 {
	if v.kind == TagInt {
		return v.n
	}
	return 0
}

// Bool returns the boolean of a TagBool value, else false.
func (v TagValue) Bool() bool { return v.kind == TagBool && v.n != 0 }

// Tag is a key and a typed value set on a span.
type Tag struct {
	Key   string
	Value TagValue
}

// String returns a string tag.
func String(key, value string) Tag { return Tag{Key: key, Value: TagValue{kind: TagString, s: value}} }

// Int returns an integer tag.
func Int(key string, value int) Tag { return Int64(key, int64(value)) }

// Int64 returns an integer tag.
func Int64(key string, value int64) Tag {
	return Tag{Key: key, Value: TagValue{kind: TagInt, n: value}}
}

// Bool returns a boolean tag.
func Bool(key string, value bool) Tag {
	var n int64
	if value {
		n = 1
	}
	return Tag{Key: key, Value: TagValue{kind: TagBool, n: n}}
}

// tagList is an ordered tag set. A key set again keeps its first position. Its slice starts on
// storage for tagsInitialCap tags (room for a typical HTTP span's tags) in the span's spanExtra.
type tagList struct {
	tags []Tag
}

const tagsInitialCap = 6

// grow makes room for n more tags.
func (l *tagList) grow(n int) { l.tags = slices.Grow(l.tags, n) }

func (l *tagList) set(t Tag) {
	if t.Key == "" {
		return
	}
	for i := range l.tags {
		if l.tags[i].Key == t.Key {
			l.tags[i].Value = t.Value
			return
		}
	}
	l.tags = append(l.tags, t)
}

func (l *tagList) len() int { return len(l.tags) }

func (l *tagList) get(key string) (TagValue, bool) {
	for i := range l.tags {
		if l.tags[i].Key == key {
			return l.tags[i].Value, true
		}
	}
	return TagValue{}, false
}

func (l *tagList) each(fn func(Tag) bool) {
	for _, t := range l.tags {
		if !fn(t) {
			return
		}
	}
}
