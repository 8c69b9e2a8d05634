// Package conformance is the one test table that every logger adapter of tracemdc (slogmdc, zapmdc,
// logrusmdc) runs: the same contexts, namings and caller fields must give the same set of fields in
// the JSON line each logger writes.
//
// An adapter's test describes how to write one line with its logger and calls Run:
//
//	conformance.Run(t, conformance.Logger{Own: []string{"time", "level", "msg"}, Log: logOneLine})
//
// Run parses the line (rejecting a field name that occurs twice in one object), checks that the
// logger's own keys are there, removes them, and compares what is left with the case's Want. Besides
// the shared table (Cases) it runs, for every key of the logger's (Own and Reserved), the cases of
// OwnKeyCases: an MDC field named like the logger's own key is written as "fields.<name>".
package conformance

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"reflect"
	"slices"
	"sort"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/tracemdc/tracemdc/mdc"
)

// Message is the message every case logs.
const Message = "conformance"

// Case is one row of the table: a line logged with Ctx, rendered with Naming, after Bound fields were
// bound to the logger (slog WithAttrs, zap With, logrus WithFields) and with Call fields given at the
// call site. Want is the set of fields the line must carry, the logger's own keys excluded; a nested
// map[string]any stands for a group. When Source is set, Run registers it (mdc.AddSource) for the
// case and removes it after: the adapter must render its pairs as MDC pairs.
type Case struct {
	Name   string
	Ctx    context.Context
	Naming *mdc.Naming
	Bound  []mdc.Pair
	Call   []mdc.Pair
	Source mdc.Source
	Want   map[string]any
}

// Logger is what an adapter's test supplies.
type Logger struct {
	// Own lists the keys the logger writes by itself (time, level, message). Each must be present
	// in the line; they are removed before the comparison.
	Own []string
	// Reserved lists the other keys the adapter treats as the logger's own, which the logger
	// writes on some lines only (zap's caller, stacktrace and logger name, slog's source).
	Reserved []string
	// Log writes exactly one line, at info level with message Message, for c, and returns it.
	Log func(t *testing.T, c Case) []byte
	// Only, when set, limits the run to the cases it accepts: for a variant of an adapter that
	// cannot apply to some cases (say, one that cannot see the caller's fields). Another run of the
	// same adapter must cover every case.
	Only func(c Case) bool
}

// Run runs every case of Cases as a subtest.
func Run(t *testing.T, l Logger) {
	t.Helper()
	for _, c := range append(append(Cases(), SourceCases()...), OwnKeyCases(append(slices.Clip(l.Own), l.Reserved...))...) {
		if l.Only != nil && !l.Only(c) {
			continue
		}
		t.Run(c.Name, func(t *testing.T) {
			if c.Source != nil {
				defer mdc.AddSource(c.Source)()
			}
			panics := mdc.SourcePanics()
			line := l.Log(t, c)
			if _, ok := c.Source.(panicking); ok && mdc.SourcePanics() == panics {
				t.Fatal("the panicking source was not called, or its panic not counted")
			}
			if n := bytes.Count(bytes.TrimRight(line, "\n"), []byte("\n")); n != 0 {
				t.Fatalf("want one line, got %d more: %q", n, truncate(line))
			}
			got, err := Parse(line)
			if err != nil {
				t.Fatalf("%v in %q", err, truncate(line))
			}
			for _, k := range l.Own {
				if _, ok := got[k]; !ok {
					t.Fatalf("own key %q missing in %q", k, truncate(line))
				}
				delete(got, k)
			}
			if !reflect.DeepEqual(got, c.Want) {
				t.Fatalf("fields differ\n got: %s\nwant: %s\nline: %q", show(got), show(c.Want), truncate(line))
			}
		})
	}
}

func truncate(b []byte) string {
	if len(b) > 400 {
		return string(b[:400]) + "…"
	}
	return string(b)
}

func show(m map[string]any) string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var sb strings.Builder
	sb.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			sb.WriteString(", ")
		}
		v := fmt.Sprint(m[k])
		if len(v) > 60 {
			v = v[:60] + fmt.Sprintf("…(%d bytes)", len(v))
		}
		fmt.Fprintf(&sb, "%q: %q", k, v)
	}
	sb.WriteByte('}')
	return sb.String()
}

// Parse decodes one JSON object into maps, strings, float64s, bools and nils, like encoding/json,
// but fails when a name occurs twice in one object: a line must never carry a field twice.
func Parse(line []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok != json.Delim('{') {
		return nil, fmt.Errorf("line is not a JSON object")
	}
	m, err := parseObject(dec)
	if err != nil {
		return nil, err
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("trailing data after the object")
	}
	return m, nil
}

func parseObject(dec *json.Decoder) (map[string]any, error) {
	m := map[string]any{}
	for {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		if tok == json.Delim('}') {
			return m, nil
		}
		key, ok := tok.(string)
		if !ok {
			return nil, fmt.Errorf("object key is %T", tok)
		}
		if _, dup := m[key]; dup {
			return nil, fmt.Errorf("field %q occurs twice", key)
		}
		v, err := parseValue(dec)
		if err != nil {
			return nil, err
		}
		m[key] = v
	}
}

func parseValue(dec *json.Decoder) (any, error) {
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	switch tok {
	case json.Delim('{'):
		return parseObject(dec)
	case json.Delim('['):
		var a []any
		for dec.More() {
			v, err := parseValue(dec)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if _, err := dec.Token(); err != nil {
			return nil, err
		}
		return a, nil
	}
	if n, ok := tok.(json.Number); ok {
		return n.String(), nil
	}
	if _, ok := tok.(json.Delim); ok {
		return nil, errors.New("unexpected delimiter")
	}
	return tok, nil
}

// OwnKeyCases returns, for each of a logger's own keys, the cases of the one rule every adapter keeps
// for them: an MDC field named like the key, by its MDC key or by a Rename, is written as
// mdc.ClashPrefix+key; when a caller's field already has that name, the MDC field is left out; an MDC
// group named like the key is renamed the same way.
func OwnKeyCases(keys []string) []Case {
	bg := context.Background()
	ids := []mdc.Pair{{Key: mdc.KeyTraceID, Value: "t1"}, {Key: mdc.KeySpanID, Value: "0.1"}}
	want := func(kv ...any) map[string]any {
		m := map[string]any{"traceId": "t1", "spanId": "0.1"}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	}
	var cs []Case
	for _, k := range keys {
		clash := mdc.ClashPrefix + k
		cs = append(cs,
			Case{Name: "MDC key " + k, Ctx: mdc.WithPairs(bg, append(ids, mdc.Pair{Key: k, Value: "mdc"})...),
				Want: want(clash, "mdc")},
			Case{Name: "renamed to " + k, Ctx: mdc.WithPairs(bg, append(ids, mdc.Pair{Key: "user", Value: "alice"})...),
				Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Rename("user", k)), Want: want(clash, "alice")},
			Case{Name: "MDC key " + k + ", " + clash + " given by the caller", Ctx: mdc.WithPairs(bg, append(ids, mdc.Pair{Key: k, Value: "mdc"})...),
				Call: []mdc.Pair{{Key: clash, Value: "call"}}, Want: want(clash, "call")},
			Case{Name: "MDC key " + k + ", " + clash + " bound", Ctx: mdc.WithPairs(bg, append(ids, mdc.Pair{Key: k, Value: "mdc"})...),
				Bound: []mdc.Pair{{Key: clash, Value: "bound"}}, Want: want(clash, "bound")},
			Case{Name: "group " + k, Ctx: mdc.WithPairs(bg, ids...), Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Group(k)),
				Want: map[string]any{clash: map[string]any{"traceId": "t1", "spanId": "0.1"}}},
			Case{Name: "source key " + k, Source: TestSource, Ctx: WithSourcePairs(bg, append(ids, mdc.Pair{Key: k, Value: "src"})...),
				Want: want(clash, "src")},
		)
	}
	return cs
}

// srcKey is the context key of the pairs TestSource returns.
type srcKey struct{}

// WithSourcePairs returns a context in which TestSource finds ps, as another tracer keeps its span in
// a context under a key of its own.
func WithSourcePairs(ctx context.Context, ps ...mdc.Pair) context.Context {
	return context.WithValue(ctx, srcKey{}, ps)
}

// TestSource is a source returning the pairs put into the context with WithSourcePairs.
var TestSource mdc.Source = mdc.SourceFunc(func(ctx context.Context) []mdc.Pair {
	ps, _ := ctx.Value(srcKey{}).([]mdc.Pair)
	return ps
})

// CountingSource is a source that counts its calls (N) and gives spanId "from-source": adapters use
// it to show that a line below the level never asks a source.
type CountingSource struct{ N atomic.Int64 }

// Pairs counts the call.
func (c *CountingSource) Pairs(context.Context) []mdc.Pair {
	c.N.Add(1)
	return []mdc.Pair{{Key: mdc.KeySpanID, Value: "from-source"}}
}

// panicking is a source that panics.
type panicking struct{}

func (panicking) Pairs(context.Context) []mdc.Pair { panic("source failed") }

// SourceCases returns the cases of a registered source: its pairs are rendered exactly as MDC pairs,
// with the same naming, allow and deny lists, group and collision rules, after the MDC's own.
func SourceCases() []Case {
	bg := context.Background()
	src := func(ps ...mdc.Pair) context.Context { return WithSourcePairs(bg, ps...) }
	ids := []mdc.Pair{{Key: mdc.KeyTraceID, Value: "4bf92f3577b34da6a3ce929d0e0e4736"}, {Key: mdc.KeySpanID, Value: "00f067aa0ba902b7"}}
	wantIDs := map[string]any{"traceId": ids[0].Value, "spanId": ids[1].Value}
	var six []mdc.Pair
	wantSix := map[string]any{}
	for i := range 6 {
		k, v := fmt.Sprintf("s%d", i), fmt.Sprintf("v%d", i)
		six = append(six, mdc.Pair{Key: k, Value: v})
		wantSix[k] = v
	}
	mdcIDs := mdc.WithPairs(bg, mdc.Pair{Key: mdc.KeyTraceID, Value: "from-mdc"}, mdc.Pair{Key: "user", Value: "alice"})
	return []Case{
		{Name: "source ids", Source: TestSource, Ctx: src(ids...), Want: wantIDs},
		{Name: "source without pairs", Source: TestSource, Ctx: bg, Call: []mdc.Pair{{Key: "call", Value: "c"}}, Want: map[string]any{"call": "c"}},
		{Name: "source, nil ctx", Source: TestSource, Ctx: nil, Want: map[string]any{}},
		{Name: "source preset OTel", Source: TestSource, Ctx: src(ids...), Naming: mdc.NewNaming(mdc.PresetOTel),
			Want: map[string]any{"trace_id": ids[0].Value, "span_id": ids[1].Value}},
		{Name: "source group", Source: TestSource, Ctx: src(ids...), Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Group("mdc")),
			Call: []mdc.Pair{{Key: "n", Value: "1"}}, Want: map[string]any{"n": "1", "mdc": wantIDs}},
		{Name: "source deny", Source: TestSource, Ctx: src(ids...), Naming: mdc.NewNaming(mdc.PresetOTel, mdc.Deny("span_id")),
			Want: map[string]any{"trace_id": ids[0].Value}},
		{Name: "source allow", Source: TestSource, Ctx: src(append(ids, mdc.Pair{Key: "x", Value: "y"})...),
			Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Allow("x", "spanId")), Want: map[string]any{"x": "y", "spanId": ids[1].Value}},
		{Name: "source rename", Source: TestSource, Ctx: src(ids...), Naming: mdc.NewNaming(mdc.PresetSOFA, mdc.Rename("SOFA-SpanId", "sid")),
			Want: map[string]any{"SOFA-TraceId": ids[0].Value, "sid": ids[1].Value}},
		{Name: "MDC wins over source", Source: TestSource, Ctx: WithSourcePairs(mdcIDs, ids...),
			Want: map[string]any{"traceId": "from-mdc", "user": "alice", "spanId": ids[1].Value}},
		{Name: "call field wins over source", Source: TestSource, Ctx: src(ids...), Call: []mdc.Pair{{Key: "spanId", Value: "call"}},
			Want: map[string]any{"traceId": ids[0].Value, "spanId": "call"}},
		{Name: "bound field wins over source", Source: TestSource, Ctx: src(ids...), Bound: []mdc.Pair{{Key: "traceId", Value: "bound"}},
			Want: map[string]any{"traceId": "bound", "spanId": ids[1].Value}},
		{Name: "source, first of one field name wins", Source: TestSource,
			Ctx: src(mdc.Pair{Key: "a", Value: "1"}, mdc.Pair{Key: "b", Value: "2"}), Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Rename("b", "a")),
			Want: map[string]any{"a": "1"}},
		{Name: "source empty key ignored", Source: TestSource, Ctx: src(mdc.Pair{Key: "", Value: "x"}, ids[0]),
			Want: map[string]any{"traceId": ids[0].Value}},
		{Name: "six source pairs", Source: TestSource, Ctx: src(six...), Want: wantSix},
		{Name: "source pairs after five MDC pairs", Source: TestSource,
			Ctx:  WithSourcePairs(mdc.WithPairs(bg, six[:5]...), mdc.Pair{Key: "late", Value: "l"}),
			Want: map[string]any{"s0": "v0", "s1": "v1", "s2": "v2", "s3": "v3", "s4": "v4", "late": "l"}},
		{Name: "source panics", Source: panicking{}, Ctx: mdc.With(bg, "user", "alice"), Want: map[string]any{"user": "alice"}},
	}
}

// Huge is the length of the value of the "huge value" case.
const Huge = 1 << 20

// Cases returns the table. Every call builds fresh contexts, so a test may run it concurrently.
func Cases() []Case {
	bg := context.Background()
	ids := mdc.WithPairs(bg, mdc.Pair{Key: mdc.KeyTraceID, Value: "0a1b2c3d4e5f60718293a4b5c6d7e8f9"},
		mdc.Pair{Key: mdc.KeySpanID, Value: "0.1.2"})
	wantIDs := map[string]any{"traceId": "0a1b2c3d4e5f60718293a4b5c6d7e8f9", "spanId": "0.1.2"}
	withIDs := func(kv ...string) map[string]any {
		m := map[string]any{}
		for k, v := range wantIDs {
			m[k] = v
		}
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i]] = kv[i+1]
		}
		return m
	}
	five := mdc.WithPairs(ids,
		mdc.Pair{Key: "user", Value: "alice"}, mdc.Pair{Key: "tenant", Value: "t-42"},
		mdc.Pair{Key: "region", Value: "cn-hangzhou"}, mdc.Pair{Key: "app", Value: "checkout"},
		mdc.Pair{Key: "password", Value: "hunter2"})
	wantFive := withIDs("user", "alice", "tenant", "t-42", "region", "cn-hangzhou", "app", "checkout", "password", "hunter2")

	var many []mdc.Pair
	wantMany := map[string]any{}
	for i := range 12 {
		k, v := fmt.Sprintf("k%02d", i), fmt.Sprintf("v%d", i)
		many = append(many, mdc.Pair{Key: k, Value: v})
		wantMany[k] = v
	}
	wantMany["call"] = "c"

	scoped := mdc.WithScope(ids)
	mdc.Set(scoped, "user", "from-scope")
	mdc.Set(scoped, "order", "o-7")
	scoped = mdc.With(scoped, "user", "from-ctx") // the context's own pair wins over the scope
	mdc.Set(scoped, "late", "set-after-derive")   // seen by the derived context too

	odd := "quote\" backslash\\ slash/ newline\n cr\r tab\t nul\x00 esc\x1b html<&> unicode 你好 é 🚀 \u2028"
	huge := strings.Repeat("x", Huge)

	return []Case{
		{Name: "no MDC", Ctx: bg, Call: []mdc.Pair{{Key: "call", Value: "c"}}, Want: map[string]any{"call": "c"}},
		{Name: "nil ctx", Ctx: nil, Call: []mdc.Pair{{Key: "call", Value: "c"}}, Want: map[string]any{"call": "c"}},
		{Name: "no MDC in group", Ctx: bg, Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Group("mdc")), Want: map[string]any{}},
		{Name: "ids only", Ctx: ids, Want: withIDs()},
		{Name: "ids and one call field", Ctx: ids, Call: []mdc.Pair{{Key: "n", Value: "1"}}, Want: withIDs("n", "1")},
		{Name: "ids and five user keys", Ctx: five, Want: wantFive},
		// slog keeps five attributes inline: four from the call and the two ids cross that line
		// between the ids, and a collision with a call field can hide on either side of it.
		{Name: "ids and four call fields", Ctx: ids,
			Call: []mdc.Pair{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}, {Key: "d", Value: "4"}},
			Want: withIDs("a", "1", "b", "2", "c", "3", "d", "4")},
		{Name: "four call fields, one an id", Ctx: ids,
			Call: []mdc.Pair{{Key: "a", Value: "1"}, {Key: "spanId", Value: "call"}, {Key: "c", Value: "3"}, {Key: "d", Value: "4"}},
			Want: map[string]any{"a": "1", "spanId": "call", "c": "3", "d": "4", "traceId": wantIDs["traceId"]}},
		{Name: "twelve keys", Ctx: mdc.WithPairs(bg, many...), Call: []mdc.Pair{{Key: "call", Value: "c"}}, Want: wantMany},
		{Name: "preset default", Ctx: ids, Naming: mdc.NewNaming(mdc.PresetDefault), Want: withIDs()},
		{Name: "preset SOFA", Ctx: ids, Naming: mdc.NewNaming(mdc.PresetSOFA),
			Want: map[string]any{"SOFA-TraceId": wantIDs["traceId"], "SOFA-SpanId": wantIDs["spanId"]}},
		{Name: "preset OTel", Ctx: ids, Naming: mdc.NewNaming(mdc.PresetOTel),
			Want: map[string]any{"trace_id": wantIDs["traceId"], "span_id": wantIDs["spanId"]}},
		{Name: "preset ECS", Ctx: ids, Naming: mdc.NewNaming(mdc.PresetECS),
			Want: map[string]any{"trace.id": wantIDs["traceId"], "span.id": wantIDs["spanId"]}},
		{Name: "rename", Ctx: five, Naming: mdc.NewNaming(mdc.PresetSOFA, mdc.Rename("user", "userId"), mdc.Rename(mdc.KeySpanID, "sid")),
			Want: map[string]any{"SOFA-TraceId": wantIDs["traceId"], "sid": wantIDs["spanId"], "userId": "alice",
				"tenant": "t-42", "region": "cn-hangzhou", "app": "checkout", "password": "hunter2"}},
		{Name: "allow", Ctx: five, Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Allow(mdc.KeyTraceID, "user", "absent")),
			Want: map[string]any{"traceId": wantIDs["traceId"], "user": "alice"}},
		{Name: "deny", Ctx: five, Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Deny("password", mdc.KeySpanID)),
			Want: map[string]any{"traceId": wantIDs["traceId"], "user": "alice", "tenant": "t-42", "region": "cn-hangzhou", "app": "checkout"}},
		// Rename, Allow and Deny take the field names a line shows as well as MDC keys.
		{Name: "allow by preset field name", Ctx: five, Naming: mdc.NewNaming(mdc.PresetOTel, mdc.Allow("trace_id", "user")),
			Want: map[string]any{"trace_id": wantIDs["traceId"], "user": "alice"}},
		{Name: "rename by preset field name", Ctx: ids, Naming: mdc.NewNaming(mdc.PresetOTel, mdc.Rename("trace_id", "tid")),
			Want: map[string]any{"tid": wantIDs["traceId"], "span_id": wantIDs["spanId"]}},
		{Name: "deny by renamed field name", Ctx: five, Naming: mdc.NewNaming(mdc.PresetSOFA, mdc.Rename("user", "userId"), mdc.Deny("userId", "SOFA-SpanId", "password")),
			Want: map[string]any{"SOFA-TraceId": wantIDs["traceId"], "tenant": "t-42", "region": "cn-hangzhou", "app": "checkout"}},
		// Vendor formats: the values must match the vendors' documented formats in every logger,
		// the sampled flag a JSON boolean for Google Cloud.
		{Name: "Google Cloud, W3C ids", Naming: mdc.NewNaming(mdc.PresetDefault, mdc.GoogleCloud("my-project")),
			Ctx: mdc.WithPairs(bg, mdc.Pair{Key: mdc.KeyTraceID, Value: "4bf92f3577b34da6a3ce929d0e0e4736"},
				mdc.Pair{Key: mdc.KeySpanID, Value: "00f067aa0ba902b7"}, mdc.Pair{Key: mdc.KeySampled, Value: "true"}),
			Want: map[string]any{"logging.googleapis.com/trace": "projects/my-project/traces/4bf92f3577b34da6a3ce929d0e0e4736",
				"logging.googleapis.com/spanId": "00f067aa0ba902b7", "logging.googleapis.com/trace_sampled": true}},
		{Name: "Google Cloud, SOFA ids", Naming: mdc.NewNaming(mdc.PresetSOFA, mdc.GoogleCloud("my-project")),
			Ctx: mdc.WithPairs(ids, mdc.Pair{Key: mdc.KeySampled, Value: "false"}),
			Want: map[string]any{"logging.googleapis.com/trace": "projects/my-project/traces/0a1b2c3d4e5f60718293a4b5c6d7e8f9",
				"logging.googleapis.com/spanId": "b1ecc6b0e1cf221e" /* FNV-1a 64 of "0.1.2" */, "logging.googleapis.com/trace_sampled": false}},
		{Name: "Datadog, W3C ids", Naming: mdc.NewNaming(mdc.PresetOTel, mdc.Datadog()),
			Ctx: mdc.WithPairs(bg, mdc.Pair{Key: mdc.KeyTraceID, Value: "4bf92f3577b34da6a3ce929d0e0e4736"},
				mdc.Pair{Key: mdc.KeySpanID, Value: "00f067aa0ba902b7"}, mdc.Pair{Key: "user", Value: "u"}),
			Want: map[string]any{"dd.trace_id": "11803532876627986230", "dd.span_id": "67667974448284343", "user": "u"}},
		{Name: "Datadog, SOFA ids, grouped", Naming: mdc.NewNaming(mdc.PresetOTel, mdc.Datadog(), mdc.Group("dd")),
			Ctx:  mdc.WithPairs(bg, mdc.Pair{Key: mdc.KeyTraceID, Value: "0ad1348f1403169275002100356696"}, mdc.Pair{Key: mdc.KeySpanID, Value: "0.1"}),
			Want: map[string]any{"dd": map[string]any{"dd.trace_id": "10553341443550045846", "dd.span_id": "5627490830035591270"}}},
		{Name: "deny wins over allow", Ctx: five, Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Allow("user", "app"), mdc.Deny("app")),
			Want: map[string]any{"user": "alice"}},
		{Name: "deny everything", Ctx: ids, Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Deny(mdc.KeyTraceID, mdc.KeySpanID)),
			Call: []mdc.Pair{{Key: "call", Value: "c"}}, Want: map[string]any{"call": "c"}},
		{Name: "group", Ctx: ids, Naming: mdc.NewNaming(mdc.PresetOTel, mdc.Group("mdc")), Call: []mdc.Pair{{Key: "n", Value: "1"}},
			Want: map[string]any{"n": "1", "mdc": map[string]any{"trace_id": wantIDs["traceId"], "span_id": wantIDs["spanId"]}}},
		{Name: "group does not collide with caller fields", Ctx: ids, Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Group("mdc")),
			Bound: []mdc.Pair{{Key: "spanId", Value: "bound"}}, Call: []mdc.Pair{{Key: "traceId", Value: "call"}},
			Want: map[string]any{"traceId": "call", "spanId": "bound", "mdc": wantIDs}},
		{Name: "group name taken by a call field", Ctx: ids, Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Group("mdc")),
			Call: []mdc.Pair{{Key: "mdc", Value: "mine"}}, Want: map[string]any{"mdc": "mine"}},
		{Name: "scope values", Ctx: scoped,
			Want: withIDs("user", "from-ctx", "order", "o-7", "late", "set-after-derive")},
		{Name: "without hides scope value", Ctx: mdc.Without(scoped, "order"),
			Want: withIDs("user", "from-ctx", "late", "set-after-derive")},
		{Name: "odd values", Ctx: mdc.WithPairs(ids, mdc.Pair{Key: "odd", Value: odd}, mdc.Pair{Key: "empty", Value: ""},
			mdc.Pair{Key: "key with spaces \"and quotes\"", Value: "v"}, mdc.Pair{Key: "ключ", Value: "значение"}),
			Want: withIDs("odd", odd, "empty", "", "key with spaces \"and quotes\"", "v", "ключ", "значение")},
		// Every logger's JSON encoder replaces each byte of invalid UTF-8, in values and keys alike,
		// with U+FFFD (slog's appendEscapedJSONString, zap's safeAppendStringLike, encoding/json for
		// logrus), so the three agree.
		{Name: "invalid UTF-8", Ctx: mdc.WithPairs(ids, mdc.Pair{Key: "bad", Value: "a\xffb\xc3("}, mdc.Pair{Key: "k\xfe", Value: "v"}),
			Want: withIDs("bad", "a\ufffdb\ufffd(", "k\ufffd", "v")},
		{Name: "huge value", Ctx: mdc.With(ids, "huge", huge), Want: withIDs("huge", huge)},
		{Name: "empty key ignored", Ctx: mdc.With(ids, "", "x"), Want: withIDs()},
		{Name: "call field wins", Ctx: five, Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Allow("user", mdc.KeyTraceID, mdc.KeySpanID)),
			Call: []mdc.Pair{{Key: "user", Value: "from-call"}, {Key: "traceId", Value: "manual"}},
			Want: map[string]any{"user": "from-call", "traceId": "manual", "spanId": wantIDs["spanId"]}},
		{Name: "bound field wins", Ctx: five, Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Allow("user", mdc.KeyTraceID)),
			Bound: []mdc.Pair{{Key: "user", Value: "from-bound"}}, Call: []mdc.Pair{{Key: "n", Value: "1"}},
			Want: map[string]any{"user": "from-bound", "traceId": wantIDs["traceId"], "n": "1"}},
		{Name: "call field wins over renamed key", Ctx: ids, Naming: mdc.NewNaming(mdc.PresetSOFA),
			Call: []mdc.Pair{{Key: "SOFA-TraceId", Value: "manual"}},
			Want: map[string]any{"SOFA-TraceId": "manual", "SOFA-SpanId": wantIDs["spanId"]}},
		{Name: "first of two MDC keys with one field name wins", Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Rename("legacyTrace", "traceId")),
			Ctx:  mdc.WithPairs(bg, mdc.Pair{Key: "legacyTrace", Value: "old"}, mdc.Pair{Key: mdc.KeyTraceID, Value: "new"}),
			Want: map[string]any{"traceId": "old"}},
		// Adapters add MDC fields in batches; collisions must be found in every batch, with the
		// caller's fields and with MDC fields of earlier batches alike.
		{Name: "collisions past the second and fifth field",
			Naming: mdc.NewNaming(mdc.PresetDefault, mdc.Rename("k3", "k1"), mdc.Rename("k7", "k2"), mdc.Rename("k8", "k6")),
			Ctx: mdc.WithPairs(bg, mdc.Pair{Key: "k1", Value: "1"}, mdc.Pair{Key: "k2", Value: "2"}, mdc.Pair{Key: "k3", Value: "3"},
				mdc.Pair{Key: "k4", Value: "4"}, mdc.Pair{Key: "k5", Value: "5"}, mdc.Pair{Key: "k6", Value: "6"},
				mdc.Pair{Key: "k7", Value: "7"}, mdc.Pair{Key: "k8", Value: "8"}, mdc.Pair{Key: "k9", Value: "9"}),
			Call: []mdc.Pair{{Key: "k5", Value: "call"}, {Key: "k9", Value: "call"}},
			Want: map[string]any{"k1": "1", "k2": "2", "k4": "4", "k5": "call", "k6": "6", "k9": "call"}},
	}
}
