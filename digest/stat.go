package digest

import (
	"cmp"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/trace"
)

// statKey is what one stat line aggregates: local.app and, for HTTP log types, request.url (the
// route template, layout.FieldRoute, when the span has one) and method, for rpc log types
// remote.app, service and method (k1, k2, k3), for the others the operation (k1); then success and
// the load-test mark.
type statKey struct {
	app, k1, k2, k3 string
	success         bool
	load            bool
}

type statVal struct {
	count int64
	cost  int64 // milliseconds
}

// statTable aggregates one log type. The consumer adds to cur; the stat writer swaps cur and spare
// under the mutex of statAgg and prints spare.
type statTable struct {
	name  string // file name prefix (safe log type)
	http  bool
	rpc   bool
	cur   map[statKey]statVal
	spare map[statKey]statVal
}

// statAgg holds the tables of every log type. add runs on the consumer goroutine; swap on the
// stat writer (the background goroutine, or Close after it stopped).
type statAgg struct {
	mu     sync.Mutex
	tables map[tableID]*statTable
	order  []*statTable // creation order, for the writer
}

// tableID names a stat table: a log type (safe name) has one per layout its spans took (see
// spanType), all printed to the log type's stat files.
type tableID struct {
	name              string
	http, client, rpc bool
}

func newStatAgg() *statAgg { return &statAgg{tables: map[tableID]*statTable{}} }

// statKeyOf is the stat key of s in the table of ti and its result code (see resultCode). The stat
// lines and the Observer both take the key from here.
func statKeyOf(ti *typeInfo, s *trace.FinishedSpan) (statKey, string) {
	k := statKey{app: s.App(), load: s.IsLoadTest()}
	code := resultCode(s, ti.http)
	if ti.http {
		// The route template when known (one key for every id of a route), else the URL.
		if v, ok := s.Tag(layout.FieldRoute); ok && v.Kind() == trace.TagString && v.String() != "" {
			k.k1 = v.String()
		} else if v, ok := s.Tag(layout.FieldRequestURL); ok && v.Kind() == trace.TagString {
			k.k1 = v.String()
		}
		if v, ok := s.Tag(layout.FieldMethod); ok && v.Kind() == trace.TagString {
			k.k2 = v.String()
		}
		k.success = layout.HTTPSuccess(code, ti.client)
	} else if ti.rpc != nil {
		k.k1, k.k2, k.k3 = ti.rpc.statKey(s)
		k.success = layout.RPCSuccess(code)
	} else {
		k.k1 = s.Operation()
		k.success = layout.GenericSuccess(code)
	}
	return k, code
}

// add counts a span of key k and cost ms (milliseconds) in the table of ti. A new key when the table
// holds MaxStatKeys keys already takes the table's keys out first: add returns them (full, with
// their table) for the caller to print at once, so no count is lost, and the key goes into an
// empty table.
func (a *statAgg) add(ti *typeInfo, k statKey, ms int64) (t *statTable, full map[statKey]statVal) {
	a.mu.Lock()
	t = ti.stat
	if t == nil {
		id := tableID{ti.name, ti.http, ti.client, ti.rpc != nil}
		t = a.tables[id]
		if t == nil {
			t = &statTable{name: ti.name, http: ti.http, rpc: ti.rpc != nil, cur: map[statKey]statVal{}, spare: map[statKey]statVal{}}
			a.tables[id] = t
			a.order = append(a.order, t)
		}
		ti.stat = t
	}
	v, ok := t.cur[k]
	if !ok && len(t.cur) >= MaxStatKeys {
		full = t.cur
		t.cur = make(map[statKey]statVal, len(full))
	}
	v.count++
	v.cost += ms
	t.cur[k] = v
	a.mu.Unlock()
	return t, full
}

// resultCode is the result code of s in its digest and stat lines: its own, or for a span that
// set none, SOFATracer's "99" (error) if it has an error and "00" (success) if not. SOFA's plugins
// always set a code; spans a program starts itself often do not, and would all count as failures.
// An HTTP span's code is its status; one without a status and with an error (no response came) gets
// "99" as SOFATracer's RestTemplate plugin writes it, one with neither keeps the empty code. Both
// count as failures.
func resultCode(s *trace.FinishedSpan, http bool) string {
	code := s.ResultCode()
	if code != "" {
		return code
	}
	if s.Err() != nil {
		return layout.CodeError
	}
	if http {
		return ""
	}
	return layout.CodeSuccess
}

type statLine struct {
	k statKey
	v statVal
}

// write prints the interval ending at now: every table's keys, sorted, load-test keys to the shadow
// file. out(name, shadow, lines) writes the lines of one file. scratch is reused between calls.
func (a *statAgg) write(now time.Time, cfg *config, out func(name string, shadow bool, b []byte, n int), scratch *[]statLine) {
	a.mu.Lock()
	tables := slices.Clone(a.order)
	for _, t := range tables {
		t.cur, t.spare = t.spare, t.cur
	}
	a.mu.Unlock()
	for _, t := range tables {
		printStats(now, cfg, t, t.spare, out, scratch)
		clear(t.spare)
	}
}

// printStats prints the keys of m with count > 0, counted in table t, sorted, load-test keys to the
// shadow file, with the time now. out and scratch are as for write.
func printStats(now time.Time, cfg *config, t *statTable, m map[statKey]statVal, out func(name string, shadow bool, b []byte, n int), scratch *[]statLine) {
	if len(m) == 0 {
		return
	}
	lines := (*scratch)[:0]
	for k, v := range m {
		if v.count > 0 {
			lines = append(lines, statLine{k, v})
		}
	}
	slices.SortFunc(lines, func(x, y statLine) int {
		return cmp.Or(cmp.Compare(x.k.app, y.k.app), cmp.Compare(x.k.k1, y.k.k1), cmp.Compare(x.k.k2, y.k.k2), cmp.Compare(x.k.k3, y.k.k3),
			cmpBool(x.k.success, y.k.success), cmpBool(x.k.load, y.k.load))
	})
	enc := lineEncoder{csv: cfg.Format == CSV, limit: cfg.limit}
	for _, shadow := range []bool{false, true} {
		enc.buf = enc.buf[:0]
		n := 0
		for _, l := range lines {
			if l.k.load == shadow {
				enc.statLine(now.In(cfg.Location), t, l)
				n++
			}
		}
		if n > 0 {
			out(t.name, shadow, enc.buf, n)
		}
	}
	*scratch = lines[:0]
}

func cmpBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case b:
		return -1
	}
	return 1
}

// statLine appends one stat line of table t: JSON {"time":…,"stat.key":{…},"count":N,
// "total.cost.milliseconds":M,"success":"Y","load.test":"F"} or CSV time,app,key…,count,cost,Y,F. An
// rpc line has no load.test, as SOFARPC's (load-test lines go to shadow/ files all the same).
func (e *lineEncoder) statLine(now time.Time, t *statTable, l statLine) {
	http := t.http
	yn := func(b bool, y, n string) string {
		if b {
			return y
		}
		return n
	}
	if e.csv {
		e.buf = appendTime(e.buf, now)
		e.buf = append(e.buf, ',')
		e.buf = appendCSVField(e.buf, l.k.app, e.limit)
		e.buf = append(e.buf, ',')
		e.buf = appendCSVField(e.buf, l.k.k1, e.limit)
		if http || t.rpc {
			e.buf = append(e.buf, ',')
			e.buf = appendCSVField(e.buf, l.k.k2, e.limit)
		}
		if t.rpc {
			e.buf = append(e.buf, ',')
			e.buf = appendCSVField(e.buf, l.k.k3, e.limit)
		}
		e.buf = append(e.buf, ',')
		e.buf = strconv.AppendInt(e.buf, l.v.count, 10)
		e.buf = append(e.buf, ',')
		e.buf = strconv.AppendInt(e.buf, l.v.cost, 10)
		e.buf = append(e.buf, ',')
		e.buf = append(e.buf, yn(l.k.success, "Y", "N")...)
		if !t.rpc {
			e.buf = append(e.buf, ',')
			e.buf = append(e.buf, yn(l.k.load, "T", "F")...)
		}
		e.buf = append(e.buf, '\n')
		return
	}
	e.buf = append(e.buf, `{"time":"`...)
	e.buf = appendTime(e.buf, now)
	e.buf = append(e.buf, `","stat.key":{"local.app":`...)
	e.buf = appendJSONString(e.buf, l.k.app, e.limit)
	switch {
	case t.rpc:
		e.buf = append(e.buf, `,"remote.app":`...)
		e.buf = appendJSONString(e.buf, l.k.k1, e.limit)
		e.buf = append(e.buf, `,"service":`...)
		e.buf = appendJSONString(e.buf, l.k.k2, e.limit)
		e.buf = append(e.buf, `,"method":`...)
		e.buf = appendJSONString(e.buf, l.k.k3, e.limit)
	case http:
		e.buf = append(e.buf, `,"request.url":`...)
		e.buf = appendJSONString(e.buf, l.k.k1, e.limit)
		e.buf = append(e.buf, `,"method":`...)
		e.buf = appendJSONString(e.buf, l.k.k2, e.limit)
	default:
		e.buf = append(e.buf, `,"operation":`...)
		e.buf = appendJSONString(e.buf, l.k.k1, e.limit)
	}
	e.buf = append(e.buf, `},"count":`...)
	e.buf = strconv.AppendInt(e.buf, l.v.count, 10)
	e.buf = append(e.buf, `,"total.cost.milliseconds":`...)
	e.buf = strconv.AppendInt(e.buf, l.v.cost, 10)
	e.buf = append(e.buf, `,"success":"`...)
	e.buf = append(e.buf, yn(l.k.success, "Y", "N")...)
	if !t.rpc {
		e.buf = append(e.buf, `","load.test":"`...)
		e.buf = append(e.buf, yn(l.k.load, "T", "F")...)
	}
	e.buf = append(e.buf, "\"}\n"...)
}
