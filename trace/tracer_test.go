package trace

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"go.uber.org/goleak"

	"github.com/tracemdc/tracemdc/mdc"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// nilCtx is a nil context: accepting one is part of the API's contract.
var nilCtx context.Context

// recorder keeps every finished span and every reported error.
type recorder struct {
	mu    sync.Mutex
	spans []*FinishedSpan
	errs  []error
}

func (r *recorder) Report(s *FinishedSpan) { r.mu.Lock(); r.spans = append(r.spans, s); r.mu.Unlock() }
func (r *recorder) ReportError(err error)  { r.mu.Lock(); r.errs = append(r.errs, err); r.mu.Unlock() }

func (r *recorder) finished() []*FinishedSpan {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]*FinishedSpan(nil), r.spans...)
}

func (r *recorder) errors() []error {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]error(nil), r.errs...)
}

func mdcOf(ctx context.Context) string {
	var b strings.Builder
	for k, v := range mdc.From(ctx).All() {
		fmt.Fprintf(&b, "%s=%s ", k, v)
	}
	return strings.TrimSpace(b.String())
}

func TestChain(t *testing.T) {
	tr := New("app", WithoutMDC())
	ctx0, root := tr.Start(context.Background(), "root")
	ctx1, c1 := tr.Start(ctx0, "c1")
	ctx11, c11 := tr.Start(ctx1, "c11")
	_, c111 := tr.Start(ctx11, "c111")
	_, c12 := tr.Start(ctx1, "c12")
	_, c2 := tr.Start(ctx0, "c2")
	want := []struct {
		s          *Span
		id, parent string
	}{{root, "0", ""}, {c1, "0.1", "0"}, {c11, "0.1.1", "0.1"}, {c111, "0.1.1.1", "0.1.1"}, {c12, "0.1.2", "0.1"}, {c2, "0.2", "0"}}
	for _, w := range want {
		if w.s.SpanID() != w.id || w.s.ParentID() != w.parent || w.s.TraceID() != root.TraceID() {
			t.Errorf("span %s/%s in trace %s, want %s/%s in %s", w.s.SpanID(), w.s.ParentID(), w.s.TraceID(), w.id, w.parent, root.TraceID())
		}
	}
	if SpanFromContext(ctx11) != c11 {
		t.Fatal("SpanFromContext must return the span Start returned")
	}
	// A second root is a new trace.
	_, other := tr.Start(context.Background(), "root2")
	if other.TraceID() == root.TraceID() || other.SpanID() != "0" {
		t.Fatalf("second root: %s %s", other.TraceID(), other.SpanID())
	}
	// WithNewRoot ignores the span of the context.
	_, nr := tr.Start(ctx11, "job", WithNewRoot())
	if nr.TraceID() == root.TraceID() || nr.SpanID() != "0" || nr.ParentID() != "" {
		t.Fatalf("WithNewRoot: %s %s %s", nr.TraceID(), nr.SpanID(), nr.ParentID())
	}
}

func TestServerSpanModes(t *testing.T) {
	remote, err := NewSpanContext(SpanContextConfig{TraceID: "0ad1348f1403169275002100356696", SpanID: "0.1", ParentID: "0", Sampled: true,
		Biz: []Pair{{Key: "user", Value: "u1"}}, Sys: []Pair{{Key: "zone", Value: "gz"}}})
	if err != nil {
		t.Fatal(err)
	}
	check := func(name string, s *Span, id, parent string) {
		t.Helper()
		if s.TraceID() != remote.TraceID() || s.SpanID() != id || s.ParentID() != parent {
			t.Errorf("%s: %s %s/%s, want %s/%s", name, s.TraceID(), s.SpanID(), s.ParentID(), id, parent)
		}
		if s.BaggageItem("user") != "u1" || s.SysBaggageItem("zone") != "gz" {
			t.Errorf("%s: remote baggage not inherited", name)
		}
	}
	def := New("app", WithoutMDC())
	keep := New("app", WithoutMDC(), WithDefaultServerSpanMode(ServerSpanKeep))
	local, _ := def.Start(context.Background(), "local") // a local span in ctx: the remote parent wins

	_, s := def.Start(local, "srv", WithKind(KindServer), WithRemoteParent(remote))
	check("default (child)", s, "0.1.1", "0.1")
	_, s = def.Start(local, "srv", WithKind(KindServer), WithRemoteParent(remote), WithServerSpanMode(ServerSpanKeep))
	check("per call keep", s, "0.1", "0")
	_, s = keep.Start(context.Background(), "srv", WithKind(KindServer), WithRemoteParent(remote))
	check("tracer keep", s, "0.1", "0")
	ctx, s := keep.Start(context.Background(), "srv", WithKind(KindServer), WithRemoteParent(remote), WithServerSpanMode(ServerSpanChild))
	check("per call child", s, "0.1.1", "0.1")
	// Children of a server span count from 1 again.
	_, c := keep.Start(ctx, "child")
	if c.SpanID() != "0.1.1.1" {
		t.Errorf("child of server span 0.1.1: %s", c.SpanID())
	}
	// An invalid remote parent is ignored.
	_, s = def.Start(context.Background(), "srv", WithRemoteParent(SpanContext{}))
	if s.SpanID() != "0" || s.ParentID() != "" {
		t.Errorf("invalid remote parent: %s/%s", s.SpanID(), s.ParentID())
	}
	if ServerSpanChild.String() != "child" || ServerSpanKeep.String() != "keep" {
		t.Error("ServerSpanMode.String")
	}
}

// A server span that kept its caller's span id says so in its record, and so do its local
// children, one level down: exporters need both to give it an id of its own.
func TestKeptRemoteID(t *testing.T) {
	remote, err := NewSpanContext(SpanContextConfig{TraceID: "0ad1348f1403169275002100356696", SpanID: "0.1", ParentID: "0", Sampled: true})
	if err != nil {
		t.Fatal(err)
	}
	tr := New("app", WithoutMDC())
	rec := func(s *Span) *FinishedSpan { s.Finish(); return s.Record() }
	for _, tc := range []struct {
		name         string
		mode         ServerSpanMode
		own, child   bool
		grandchild   bool
		wantID, want string
	}{
		{"keep", ServerSpanKeep, true, true, false, "0.1", "0.1.1"},
		{"child", ServerSpanChild, false, false, false, "0.1.1", "0.1.1.1"},
	} {
		ctx, srv := tr.Start(context.Background(), "srv", WithKind(KindServer), WithRemoteParent(remote), WithServerSpanMode(tc.mode))
		cctx, c := tr.Start(ctx, "call", WithKind(KindClient))
		_, g := tr.Start(cctx, "local")
		if srv.SpanID() != tc.wantID || c.SpanID() != tc.want {
			t.Fatalf("%s: ids %s %s", tc.name, srv.SpanID(), c.SpanID())
		}
		gr, cr, sr := rec(g), rec(c), rec(srv)
		if sr.KeptRemoteID() != tc.own || sr.ParentKeptRemoteID() {
			t.Errorf("%s: server KeptRemoteID %v ParentKeptRemoteID %v", tc.name, sr.KeptRemoteID(), sr.ParentKeptRemoteID())
		}
		if cr.KeptRemoteID() || cr.ParentKeptRemoteID() != tc.child {
			t.Errorf("%s: child KeptRemoteID %v ParentKeptRemoteID %v", tc.name, cr.KeptRemoteID(), cr.ParentKeptRemoteID())
		}
		if gr.KeptRemoteID() || gr.ParentKeptRemoteID() != tc.grandchild {
			t.Errorf("%s: grandchild KeptRemoteID %v ParentKeptRemoteID %v", tc.name, gr.KeptRemoteID(), gr.ParentKeptRemoteID())
		}
	}
	_, root := tr.Start(context.Background(), "root")
	if r := rec(root); r.KeptRemoteID() || r.ParentKeptRemoteID() {
		t.Error("a root kept nothing")
	}
}

func TestDepthCap(t *testing.T) {
	rec := &recorder{}
	tr := New("app", WithoutMDC(), WithReporter(rec))
	ctx, root := tr.Start(context.Background(), "root")
	root.SetBaggageItem("user", "u1")
	root.SetSysBaggageItem("zone", "gz")
	s := root
	for i := 2; i <= MaxDepth; i++ {
		ctx, s = tr.Start(ctx, "c")
		if got := strings.Count(s.SpanID(), ".") + 1; got != i {
			t.Fatalf("depth %d: span id %q", i, s.SpanID())
		}
	}
	if tr.Stats().DepthResets != 0 {
		t.Fatal("no reset up to MaxDepth")
	}
	_, deep := tr.Start(ctx, "too deep")
	if deep.SpanID() != "0" || deep.ParentID() != "" || deep.TraceID() == root.TraceID() {
		t.Fatalf("past MaxDepth: %s %s/%s, want a new root", deep.TraceID(), deep.SpanID(), deep.ParentID())
	}
	if deep.BaggageItem("user") != "u1" || deep.SysBaggageItem("zone") != "" {
		t.Fatal("a depth reset keeps biz baggage and drops sys baggage")
	}
	if st := tr.Stats(); st.DepthResets != 1 || st.Errors != 1 {
		t.Fatalf("stats %+v", st)
	}
	if errs := rec.errors(); len(errs) != 1 || !errors.Is(errs[0], ErrDepthLimit) || !strings.Contains(errs[0].Error(), root.TraceID()) {
		t.Fatalf("errors %v", errs)
	}
	var de *DepthError
	if !errors.As(rec.errors()[0], &de) || de.TraceID != root.TraceID() || de.NewTraceID != deep.TraceID() ||
		de.ParentID != s.SpanID() || de.Operation != "too deep" {
		t.Fatalf("depth error %+v", de)
	}
	// A remote parent at MaxDepth: keep mode keeps it, child mode restarts.
	remote, err := NewSpanContext(SpanContextConfig{TraceID: "t1", SpanID: s.SpanID(), ParentID: s.ParentID(), Sampled: true})
	if err != nil {
		t.Fatal(err)
	}
	_, k := tr.Start(context.Background(), "srv", WithRemoteParent(remote), WithServerSpanMode(ServerSpanKeep))
	_, c := tr.Start(context.Background(), "srv", WithRemoteParent(remote))
	if k.SpanID() != s.SpanID() || c.SpanID() != "0" || c.TraceID() == "t1" || tr.Stats().DepthResets != 2 {
		t.Fatalf("remote at MaxDepth: keep %s, child %s %s", k.SpanID(), c.TraceID(), c.SpanID())
	}
}

func TestMDCExtension(t *testing.T) {
	tr := New("app")
	base := mdc.With(context.Background(), "user", "alice")
	pctx, parent := tr.Start(base, "parent")
	if got, want := mdcOf(pctx), "user=alice traceId="+parent.TraceID()+" spanId=0"; got != want {
		t.Fatalf("parent mdc %q, want %q", got, want)
	}
	cctx, child := tr.Start(pctx, "child")
	if got, want := mdcOf(cctx), "user=alice traceId="+parent.TraceID()+" spanId=0.1"; got != want {
		t.Fatalf("child mdc %q, want %q", got, want)
	}
	child.Finish()
	// After the child finishes, logging with the parent's ctx shows the parent's ids.
	if got, want := mdcOf(pctx), "user=alice traceId="+parent.TraceID()+" spanId=0"; got != want {
		t.Fatalf("parent mdc after child finished %q, want %q", got, want)
	}
	if got := mdcOf(base); got != "user=alice" {
		t.Fatalf("the caller's ctx changed: %q", got)
	}

	// Optional keys.
	tr = New("app", WithMDCParentID(true), WithMDCSampled(true), WithSampler(NeverSample()))
	pctx, parent = tr.Start(context.Background(), "p", WithLoadTest())
	cctx, _ = tr.Start(pctx, "c")
	if got, want := mdcOf(cctx), "traceId="+parent.TraceID()+" spanId=0.1 sampled=false loadTest=T parentSpanId=0"; got != want {
		t.Fatalf("child mdc %q, want %q", got, want)
	}
	_, root := tr.Start(cctx, "r", WithNewRoot())
	rctx, _ := tr.Start(cctx, "r", WithNewRoot())
	if v, ok := mdc.Get(rctx, mdc.KeyParentSpanID); ok || root.ParentID() != "" {
		t.Fatalf("a root under a child's ctx keeps parentSpanId=%q", v)
	}

	// Off.
	tr = New("app", WithoutMDC())
	ctx, _ := tr.Start(base, "x")
	if got := mdcOf(ctx); got != "user=alice" {
		t.Fatalf("WithoutMDC wrote %q", got)
	}
}

// The MDC context of a span lives in the span's own allocation (an mdc.Frame): a child span with
// the MDC extension on costs one allocation, like one without it.
func TestStartMDCAllocs(t *testing.T) {
	tr := New("app", WithReporter(nopReporter{}))
	for _, base := range []context.Context{
		context.Background(),
		mdc.With(context.Background(), "user", "alice"), // one key of the caller's still fits
	} {
		pctx, parent := tr.Start(base, "parent")
		got := testing.AllocsPerRun(100, func() {
			cctx, s := tr.Start(pctx, "child")
			if v, _ := mdc.Get(cctx, mdc.KeySpanID); v != s.SpanID() {
				t.Errorf("mdc spanId %q, span %q", v, s.SpanID())
			}
			s.Finish()
		})
		parent.Finish()
		if got != 1 {
			t.Fatalf("Start+Finish of a child span with MDC %q: %v allocations, want 1", mdcOf(base), got)
		}
	}
}

func TestContextDelegates(t *testing.T) {
	tr := New("app")
	type key struct{}
	parent, cancel := context.WithTimeout(context.WithValue(context.Background(), key{}, "v"), time.Hour)
	ctx, _ := tr.Start(parent, "op")
	if ctx.Value(key{}) != "v" {
		t.Fatal("values of the parent ctx must be visible")
	}
	d1, ok1 := parent.Deadline()
	d2, ok2 := ctx.Deadline()
	if d1 != d2 || ok1 != ok2 {
		t.Fatal("deadline not delegated")
	}
	cancel()
	<-ctx.Done()
	if !errors.Is(ctx.Err(), context.Canceled) {
		t.Fatalf("Err = %v", ctx.Err())
	}
	// A span's context prints as the span (the MDC extension's context, outside it, as its MDC).
	if s := fmt.Sprint(ctx); !strings.Contains(s, "mdc") {
		t.Errorf("ctx with MDC prints as %s", s)
	}
	if bare, _ := New("app", WithoutMDC()).Start(parent, "op"); fmt.Sprint(bare) != "trace.Span(0)" {
		t.Errorf("span ctx prints as %s, want trace.Span(0)", fmt.Sprint(bare))
	}
	// A context derived with the standard library from a span ctx still finds the span.
	cctx, cancel2 := context.WithCancel(ctx)
	defer cancel2()
	if SpanFromContext(cctx).SpanID() != "0" {
		t.Fatal("span lost through context.WithCancel")
	}
}

func TestFinishedRecord(t *testing.T) {
	rec := &recorder{}
	tr := New("shop", WithReporter(rec))
	start := time.Date(2024, 5, 1, 13, 0, 0, 0, time.UTC)
	ctx, s := tr.Start(context.Background(), "GET /pay", WithKind(KindServer), WithLogType("http-server"),
		WithStartTime(start), WithTags(String("method", "GET"), Int("req.size.bytes", 12)), WithTag("request.url", "/pay"))
	s.SetTagInt("resp.size.bytes", 34)
	s.SetTagBool("cached", true)
	s.SetTag("method", "POST") // keeps its position
	s.SetTags(String("a", "1"), String("b", "2"))
	s.SetResultCode("500")
	boom := errors.New("boom")
	s.SetError(boom)
	s.SetBaggageItem("user", "u1")
	s.SetSysBaggageItem("zone", "gz")
	if s.Record() != nil || s.Finished() {
		t.Fatal("record before finish")
	}
	s.FinishAt(start.Add(1500 * time.Millisecond))
	_ = ctx
	spans := rec.finished()
	if len(spans) != 1 || s.Record() != spans[0] {
		t.Fatalf("%d spans reported", len(spans))
	}
	f := spans[0]
	if f.App() != "shop" || f.Operation() != "GET /pay" || f.Kind() != KindServer || f.Kind().String() != "server" || f.LogType() != "http-server" {
		t.Fatalf("names: %s %s %v %s", f.App(), f.Operation(), f.Kind(), f.LogType())
	}
	if f.TraceID() != s.TraceID() || f.SpanID() != "0" || f.ParentID() != "" || !f.Sampled() || f.IsLoadTest() {
		t.Fatal("ids or flags")
	}
	if !f.Start().Equal(start) || !f.End().Equal(start.Add(1500*time.Millisecond)) || f.Duration() != 1500*time.Millisecond {
		t.Fatalf("times %v %v %v", f.Start(), f.End(), f.Duration())
	}
	var tags []string
	for tg := range f.Tags {
		tags = append(tags, tg.Key+"="+tg.Value.String()+":"+tg.Value.Kind().String())
	}
	want := "method=POST:string req.size.bytes=12:int request.url=/pay:string resp.size.bytes=34:int cached=true:bool a=1:string b=2:string"
	if got := strings.Join(tags, " "); got != want || f.NumTags() != 7 {
		t.Fatalf("tags %q, want %q", got, want)
	}
	if v, ok := f.Tag("req.size.bytes"); !ok || v.Int64() != 12 || string(v.Append(nil)) != "12" {
		t.Fatal("Tag lookup")
	}
	if v, _ := f.Tag("cached"); !v.Bool() {
		t.Fatal("bool tag")
	}
	if f.ResultCode() != "500" || f.Err() != boom || f.ErrorMessage() != "boom" {
		t.Fatal("result code or error")
	}
	if v, _ := f.BizBaggage().Get("user"); v != "u1" {
		t.Fatal("biz baggage")
	}
	if v, _ := f.SysBaggage().Get("zone"); v != "gz" {
		t.Fatal("sys baggage")
	}
	if sc := f.SpanContext(); sc.TraceID() != f.TraceID() || sc.BizBaggage().Len() != 1 {
		t.Fatal("SpanContext of the record")
	}
	// An end before the start gives a zero duration.
	_, s2 := tr.Start(context.Background(), "x", WithStartTime(start))
	s2.FinishAt(start.Add(-time.Second))
	if d := s2.Record().Duration(); d != 0 {
		t.Fatalf("negative duration %v", d)
	}
}

func TestFinishTwiceAndLateMutations(t *testing.T) {
	rec := &recorder{}
	tr := New("app", WithReporter(rec))
	_, s := tr.Start(context.Background(), "op")
	s.SetTag("k", "v")
	s.Finish()
	s.Finish()
	s.FinishAt(time.Now())
	s.SetTag("k", "late")
	s.SetTag("late", "x")
	s.SetResultCode("99")
	s.SetError(errors.New("late"))
	s.SetBaggageItem("late", "x")
	s.SetSysBaggageItem("late", "x")
	s.SetLoadTest(true)
	if n := len(rec.finished()); n != 1 {
		t.Fatalf("reported %d times", n)
	}
	f := s.Record()
	if v, _ := f.Tag("k"); v.String() != "v" || f.NumTags() != 1 || f.ResultCode() != "" || f.Err() != nil ||
		f.BizBaggage().Len() != 0 || f.SysBaggage().Len() != 0 || s.BaggageItem("late") != "" || f.IsLoadTest() {
		t.Fatal("a mutation after Finish changed the record")
	}
}

func TestConcurrentFinishAndMutations(t *testing.T) {
	rec := &recorder{}
	tr := New("app", WithReporter(rec))
	for range 50 {
		ctx, s := tr.Start(context.Background(), "op")
		var wg sync.WaitGroup
		for g := range 6 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := range 20 {
					switch (g + i) % 6 {
					case 0:
						s.SetTag(fmt.Sprint("k", i), "v")
					case 1:
						s.SetBaggageItem("b", fmt.Sprint(i))
					case 2:
						_, c := tr.Start(ctx, "child")
						c.Finish()
					case 3:
						_ = s.Context().BizBaggage().Len()
					case 4:
						s.SetResultCode("00")
					case 5:
						s.Finish()
					}
				}
			}()
		}
		wg.Wait()
	}
	spans := rec.finished()
	roots := 0
	for _, f := range spans {
		if f.SpanID() == "0" {
			roots++
			n := 0
			for range f.Tags {
				n++
			}
			if n != f.NumTags() {
				t.Fatal("tag count")
			}
		}
	}
	if roots != 50 {
		t.Fatalf("%d root records, want exactly one per span (50)", roots)
	}
}

func TestSpanBaggage(t *testing.T) {
	rec := &recorder{}
	tr := New("app", WithReporter(rec), WithBaggageLimits(20, 10))
	if biz, sys := tr.BaggageLimits(); biz != 20 || sys != 10 {
		t.Fatalf("limits %d %d", biz, sys)
	}
	ctx, s := tr.Start(context.Background(), "op")
	s.SetBaggageItem("user", "u1")             // 6 bytes
	s.SetBaggageItem("long", "0123456789abcd") // 6+18 = 24 > 20: refused
	s.SetSysBaggageItem("zone", "gz")          // 6
	s.SetSysBaggageItem("tenant", "t1")        // 6+8 = 14 > 10: refused
	if s.BaggageItem("long") != "" || s.SysBaggageItem("tenant") != "" || s.BaggageItem("user") != "u1" || s.SysBaggageItem("zone") != "gz" {
		t.Fatal("limits not applied")
	}
	st := tr.Stats()
	errs := rec.errors()
	var be *BaggageError
	if st.BaggageRefused != 2 || st.Errors != 2 || len(errs) != 2 || !errors.As(errs[0], &be) || be.Key != "long" || be.Size != 24 || be.Limit != 20 || be.Sys {
		t.Fatalf("stats %+v errors %v", st, errs)
	}
	if !errors.As(errs[1], &be) || !be.Sys || be.Key != "tenant" {
		t.Fatalf("sys refusal %v", errs[1])
	}
	// Children inherit at start; later changes on either side stay on that side.
	cctx, c := tr.Start(ctx, "child")
	c.SetBaggageItem("user", "u2")
	s.SetBaggageItem("x", "1")
	if s.BaggageItem("user") != "u1" || c.BaggageItem("user") != "u2" || c.BaggageItem("x") != "" {
		t.Fatal("baggage leaked between parent and child")
	}
	_, gc := tr.Start(cctx, "grandchild")
	if gc.BaggageItem("user") != "u2" || gc.SysBaggageItem("zone") != "gz" {
		t.Fatal("grandchild inheritance")
	}
	// Replacing and deleting.
	c.SetBaggageItem("user", "")
	if c.BaggageItem("user") != "" || c.Context().BizBaggage().Len() != 0 {
		t.Fatal("empty value must delete")
	}
}

func TestLoadTest(t *testing.T) {
	rec := &recorder{}
	tr := New("app", WithReporter(rec))
	if IsLoadTest(context.Background()) || IsLoadTest(nilCtx) {
		t.Fatal("no span, no load test")
	}
	ctx, s := tr.Start(context.Background(), "op", WithLoadTest())
	cctx, c := tr.Start(ctx, "child")
	if !IsLoadTest(ctx) || !IsLoadTest(cctx) || !s.IsLoadTest() || s.BaggageItem(BaggageKeyLoadTest) != "T" {
		t.Fatal("WithLoadTest")
	}
	c.Finish()
	_, plain := tr.Start(context.Background(), "op")
	plain.SetLoadTest(true)
	plain.Finish()
	_, off := tr.Start(ctx, "op")
	off.SetLoadTest(false)
	off.Finish()
	spans := rec.finished()
	if !spans[0].IsLoadTest() || !spans[1].IsLoadTest() || spans[2].IsLoadTest() {
		t.Fatalf("load-test flags: %v %v %v", spans[0].IsLoadTest(), spans[1].IsLoadTest(), spans[2].IsLoadTest())
	}
	// A remote parent's mark is inherited.
	sc, _ := NewSpanContext(SpanContextConfig{TraceID: "t", SpanID: "0", Biz: []Pair{{Key: "mark", Value: "T"}}})
	rctx, _ := tr.Start(context.Background(), "srv", WithRemoteParent(sc))
	if !IsLoadTest(rctx) {
		t.Fatal("remote mark")
	}
	if v, _ := mdc.Get(rctx, mdc.KeyLoadTest); v != "T" {
		t.Fatal("the MDC of a load-test span shows loadTest=T")
	}
}

type panicky struct {
	start, finish bool
	order         *[]string
	name          string
}

func (p panicky) OnStart(ctx context.Context, s *Span) context.Context {
	if p.order != nil {
		*p.order = append(*p.order, "start "+p.name)
	}
	if p.start {
		panic("start hook")
	}
	return mdc.With(ctx, "ext", p.name)
}

func (p panicky) OnFinish(s *Span) {
	if p.order != nil {
		*p.order = append(*p.order, fmt.Sprintf("finish %s record=%v", p.name, s.Record() != nil))
	}
	if p.finish {
		panic(errors.New("finish hook"))
	}
}

type panicReporter struct{}

func (panicReporter) Report(*FinishedSpan) { panic("reporter") }
func (panicReporter) ReportError(error)    { panic("error reporter") }

func TestPanicsRecovered(t *testing.T) {
	rec := &recorder{}
	var order []string
	tr := New("app",
		WithReporter(panicReporter{}), WithReporter(rec),
		WithExtension(panicky{name: "a", order: &order}),
		WithExtension(panicky{name: "b", start: true, finish: true, order: &order}),
		WithReporter(ReporterFunc(func(*FinishedSpan) { order = append(order, "reporter") })))
	ctx, s := tr.Start(context.Background(), "op")
	if v, _ := mdc.Get(ctx, "ext"); v != "a" {
		t.Fatalf("ctx after a panicking OnStart: ext=%q, want the previous hook's ctx", v)
	}
	if v, _ := mdc.Get(ctx, mdc.KeySpanID); v != "0" {
		t.Fatal("MDC extension output lost")
	}
	s.Finish()
	if len(rec.finished()) != 1 {
		t.Fatal("a panicking reporter must not stop the next one")
	}
	want := "start a,start b,finish b record=true,finish a record=true,reporter"
	if got := strings.Join(order, ","); got != want {
		t.Fatalf("hook order %q, want %q", got, want)
	}
	st := tr.Stats()
	// panicReporter: 1 Report panic + 3 ReportError panics (one per reported error).
	if st.ExtensionPanics != 2 || st.ReporterPanics != 4 || st.Errors != 3 {
		t.Fatalf("stats %+v", st)
	}
	errs := rec.errors()
	var pe *PanicError
	if len(errs) != 3 || !errors.As(errs[0], &pe) || pe.Hook != "extension start" || len(pe.Stack) == 0 {
		t.Fatalf("errors %v", errs)
	}
	if !errors.As(errs[1], &pe) || pe.Hook != "extension finish" || pe.Unwrap() == nil || !strings.Contains(pe.Error(), "finish hook") {
		t.Fatalf("finish panic %v", errs[1])
	}
	if !errors.As(errs[2], &pe) || pe.Hook != "reporter" {
		t.Fatalf("reporter panic %v", errs[2])
	}
}

func TestReportError(t *testing.T) {
	rec := &recorder{}
	tr := New("app", WithReporter(rec))
	tr.ReportError(nil)
	tr.ReportError(errors.New("bad header"))
	_, err := NewSpanContext(SpanContextConfig{TraceID: "t", SpanID: "0", Biz: []Pair{{Key: "a", Value: strings.Repeat("x", 2000)}, {Key: "b", Value: strings.Repeat("x", 2000)}}})
	tr.ReportError(fmt.Errorf("extract: %w", err))
	if st := tr.Stats(); st.Errors != 2 || st.BaggageRefused != 2 {
		t.Fatalf("stats %+v", st)
	}
	if len(rec.errors()) != 2 {
		t.Fatal("errors not forwarded")
	}
}

func TestNoopAndNil(t *testing.T) {
	var nilTracer *Tracer
	ctx, s := nilTracer.Start(nilCtx, "op")
	if ctx == nil || s == nil || nilTracer.App() != "" || nilTracer.Stats() != (Stats{}) {
		t.Fatal("nil tracer")
	}
	nilTracer.ReportError(errors.New("x"))
	for _, sp := range []*Span{SpanFromContext(nilCtx), SpanFromContext(context.Background()), nil, s} {
		sp.SetTag("k", "v")
		sp.SetTagInt("k", 1)
		sp.SetTagBool("k", true)
		sp.SetTags(String("k", "v"))
		sp.SetResultCode("00")
		sp.SetError(errors.New("x"))
		sp.SetBaggageItem("k", "v")
		sp.SetSysBaggageItem("k", "v")
		sp.SetLoadTest(true)
		sp.Finish()
		sp.FinishAt(time.Now())
		if sp.Context().IsValid() || sp.TraceID() != "" || sp.SpanID() != "" || sp.ParentID() != "" || sp.Sampled() ||
			sp.BaggageItem("k") != "" || sp.SysBaggageItem("k") != "" || sp.IsLoadTest() || sp.Record() != nil || !sp.Finished() || sp.Tracer() != nil {
			t.Fatal("a no-op span must stay empty")
		}
	}
	if SpanFromContext(nilCtx) == nil {
		t.Fatal("SpanFromContext must never return nil")
	}
	// ContextWithSpan hands a span to another context; children follow it.
	tr := New("app", WithoutMDC())
	_, p := tr.Start(context.Background(), "p")
	moved := ContextWithSpan(context.Background(), p)
	_, c := tr.Start(moved, "c")
	if SpanFromContext(moved) != p || c.ParentID() != "0" || c.TraceID() != p.TraceID() {
		t.Fatal("ContextWithSpan")
	}
	_, r := tr.Start(ContextWithSpan(nilCtx, nil), "r")
	if r.SpanID() != "0" || r.ParentID() != "" {
		t.Fatal("a no-op span in the ctx must start a root")
	}
}

func TestUnsampledStillReportedAndInMDC(t *testing.T) {
	rec := &recorder{}
	tr := New("app", WithReporter(rec), WithSampler(NeverSample()))
	ctx, s := tr.Start(context.Background(), "op")
	if v, _ := mdc.Get(ctx, mdc.KeyTraceID); v != s.TraceID() || v == "" {
		t.Fatal("unsampled span ids must be in the MDC")
	}
	s.Finish()
	if f := rec.finished(); len(f) != 1 || f[0].Sampled() {
		t.Fatal("unsampled span must reach reporters flagged unsampled")
	}
}

func TestW3CTracer(t *testing.T) {
	tr := New("app", WithIDGenerator(W3CIDGenerator()), WithoutMDC())
	ctx, root := tr.Start(context.Background(), "root")
	_, c := tr.Start(ctx, "child")
	if len(root.TraceID()) != 32 || len(root.SpanID()) != 16 || c.ParentID() != root.SpanID() || c.TraceID() != root.TraceID() || len(c.SpanID()) != 16 {
		t.Fatalf("w3c ids %s %s %s", root.TraceID(), root.SpanID(), c.SpanID())
	}
	// The tracer's own ids pass NewSpanContext, so a peer accepts them.
	for _, tt := range []*Tracer{tr, New("app")} {
		_, s := tt.Start(context.Background(), "x")
		if _, err := NewSpanContext(SpanContextConfig{TraceID: s.TraceID(), SpanID: s.SpanID()}); err != nil {
			t.Fatal(err)
		}
	}
}

// A child span with its MDC context is one allocation in the 352-byte size class, a span without
// it one in the 192-byte class: fields most spans never set live in spanExtra. A field added to
// Span or FinishedSpan that crosses a class costs every span; this test makes that a decision.
func TestSpanSizeClasses(t *testing.T) {
	if n := unsafe.Sizeof(mdcSpan{}); n > 352 {
		t.Errorf("mdcSpan is %d bytes, over the 352-byte size class", n)
	}
	if n := unsafe.Sizeof(Span{}); n > 192 {
		t.Errorf("Span is %d bytes, over the 192-byte size class", n)
	}
}

// The log type, result code, error and tags live in a spanExtra made on first use.
func TestSpanExtra(t *testing.T) {
	rec := &recorder{}
	tr := New("app", WithReporter(rec))

	_, bare := tr.Start(context.Background(), "bare")
	bare.SetError(nil) // clearing an error that was never set makes nothing
	if bare.rec.x != nil {
		t.Fatal("a span that set nothing must not carry a spanExtra")
	}
	bare.Finish()
	f := bare.Record()
	if f.LogType() != "" || f.ResultCode() != "" || f.Err() != nil || f.ErrorMessage() != "" || f.NumTags() != 0 {
		t.Fatalf("bare record: %q %q %v %q %d", f.LogType(), f.ResultCode(), f.Err(), f.ErrorMessage(), f.NumTags())
	}
	if _, ok := f.Tag("k"); ok {
		t.Fatal("bare record has a tag")
	}
	for range f.Tags {
		t.Fatal("bare record yields a tag")
	}

	_, s := tr.Start(context.Background(), "full", WithLogType("http-server"),
		WithTags(String("a", "1"), Int("b", 2)), WithTag("c", "3"))
	for i := range 8 { // past the inline room
		s.SetTagInt(fmt.Sprint("k", i), int64(i))
	}
	s.SetTag("a", "again") // keeps its first position
	s.SetResultCode("200")
	s.SetError(errors.New("boom"))
	s.Finish()
	f = s.Record()
	if f.LogType() != "http-server" || f.ResultCode() != "200" || f.ErrorMessage() != "boom" {
		t.Fatalf("record: %q %q %q", f.LogType(), f.ResultCode(), f.ErrorMessage())
	}
	var got []string
	for tg := range f.Tags {
		got = append(got, tg.Key+"="+tg.Value.String())
	}
	want := "[a=again b=2 c=3 k0=0 k1=1 k2=2 k3=3 k4=4 k5=5 k6=6 k7=7]"
	if fmt.Sprint(got) != want || f.NumTags() != 11 {
		t.Fatalf("tags %v (%d), want %s", got, f.NumTags(), want)
	}
}

// Children of a local span take their start from the parent's plus the monotonic time elapsed
// (kept as an offset until read): their times nest inside their parents' and agree with the wall
// clock read around their Start and Finish calls.
func TestChildTimesNest(t *testing.T) {
	rec := &recorder{}
	tr := New("app", WithReporter(rec))
	before := time.Now()
	ctx, root := tr.Start(context.Background(), "root")
	// The child starts well after the root, so a child given its parent's start shows.
	time.Sleep(10 * time.Millisecond)
	beforeChild := time.Now()
	cctx, child := tr.Start(ctx, "child")
	_, grand := tr.Start(cctx, "grandchild")
	grand.Finish()
	child.Finish()
	// A child finished at an explicit time.
	_, late := tr.Start(ctx, "late")
	lateEnd := time.Now().Add(2 * time.Second)
	late.FinishAt(lateEnd)
	root.Finish()
	after := time.Now()

	byOp := map[string]*FinishedSpan{}
	for _, f := range rec.finished() {
		byOp[f.Operation()] = f
	}
	r, c, g, l := byOp["root"], byOp["child"], byOp["grandchild"], byOp["late"]
	if r == nil || c == nil || g == nil || l == nil {
		t.Fatalf("reported: %v", byOp)
	}
	// The wall clock may be adjusted while the test runs; a millisecond either way is allowed.
	const slack = time.Millisecond
	for _, f := range []*FinishedSpan{r, c, g, l} {
		if f.Start().Before(before.Add(-slack)) || f.Start().After(after.Add(slack)) {
			t.Errorf("%s started at %v, outside [%v, %v]", f.Operation(), f.Start(), before, after)
		}
		if !f.End().Equal(f.Start().Add(f.Duration())) {
			t.Errorf("%s: End %v is not Start %v + Duration %v", f.Operation(), f.End(), f.Start(), f.Duration())
		}
	}
	if c.Start().Before(beforeChild.Add(-slack)) {
		t.Errorf("child started at %v, before %v, read before its Start", c.Start(), beforeChild)
	}
	if c.Start().Before(r.Start()) || g.Start().Before(c.Start()) || g.End().After(c.End()) || c.End().After(r.End()) {
		t.Errorf("times do not nest: root %v–%v, child %v–%v, grandchild %v–%v",
			r.Start(), r.End(), c.Start(), c.End(), g.Start(), g.End())
	}
	if d := l.End().Round(0).Sub(lateEnd.Round(0)); d < -slack || d > slack || l.Duration() < 2*time.Second-slack {
		t.Errorf("FinishAt: end %v (want %v), duration %v", l.End(), lateEnd, l.Duration())
	}
}

// TestBaggageErrorCount: a *BaggageError with Count stands for that many entries (the unread ones of
// a header); ReportError counts them all, and one without Count as one.
func TestBaggageErrorCount(t *testing.T) {
	tr := New("go", WithoutMDC())
	many := &BaggageError{Reason: "size", Size: 20000, Limit: 8192, Count: 5}
	tr.ReportError(errors.Join(many, &BaggageError{Key: "k", Reason: "size", Size: 2000, Limit: 1024}))
	if st := tr.Stats(); st.BaggageRefused != 6 || st.Errors != 1 {
		t.Fatalf("stats %+v, want BaggageRefused 6, Errors 1", st)
	}
	if got, want := many.Error(), "trace: 5 biz baggage entries refused unread: size 20000 over limit 8192"; got != want {
		t.Fatalf("Error() = %q, want %q", got, want)
	}
	if !errors.Is(many, ErrBaggageLimit) {
		t.Fatal("not ErrBaggageLimit")
	}
}
