package trace

import (
	"context"
	"encoding/binary"
	"hash/fnv"
	"math"
	"testing"
)

// refHash is TraceIDHash written from its documentation with the standard library's FNV-1a.
func refHash(id string) uint64 {
	f := fnv.New64a()
	f.Write([]byte(id))
	h := binary.BigEndian.Uint64(f.Sum(nil))
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}

func TestTraceIDHashMatchesDocumentation(t *testing.T) {
	for _, id := range []string{"", "0ad1348f1403169275002100356696", "4bf92f3577b34da6a3ce929d0e0e4736", "x"} {
		if got, want := TraceIDHash(id), refHash(id); got != want {
			t.Fatalf("TraceIDHash(%q) = %#x, want %#x", id, got, want)
		}
	}
}

func TestPercentageSamplerDeterministic(t *testing.T) {
	a, b := PercentageSampler(37.5), PercentageSampler(37.5)
	g := SOFAIDGenerator()
	yes, no := 0, 0
	for range 2000 {
		p := SamplingParameters{TraceID: g.TraceID()}
		d := a.ShouldSample(p)
		for range 3 {
			if a.ShouldSample(p) != d || b.ShouldSample(p) != d {
				t.Fatalf("decision for %q changed", p.TraceID)
			}
		}
		if d != (TraceIDHash(p.TraceID) < uint64(math.Ldexp(0.375, 64))) {
			t.Fatalf("decision for %q differs from the documented function", p.TraceID)
		}
		if d {
			yes++
		} else {
			no++
		}
	}
	if yes == 0 || no == 0 {
		t.Fatalf("37.5%% sampler took %d yes and %d no over 2000 ids", yes, no)
	}
}

// TestPercentageSamplerRate checks the rate within one percentage point over 1M ids: consecutive
// SOFA ids of one process (the hardest case: they differ in a few digits only) and random W3C ids.
func TestPercentageSamplerRate(t *testing.T) {
	pcts := []float64{0.5, 1, 10, 25, 33.3, 50, 90, 99.5}
	thresholds := make([]uint64, len(pcts))
	for i, p := range pcts {
		thresholds[i] = PercentageSampler(p).(percentSampler).threshold
	}
	const n = 1_000_000
	ms := int64(1_700_000_000_000)
	sofa := newSOFAIDs("0ad1348f", "5f3a", func() int64 { ms++; return ms / 16 }) // ~16 ids per ms tick
	w3c := W3CIDGenerator()
	for _, gen := range []struct {
		name string
		g    IDGenerator
	}{{"sofa", sofa}, {"w3c", w3c}} {
		counts := make([]int, len(pcts))
		for range n {
			h := TraceIDHash(gen.g.TraceID())
			for i, th := range thresholds {
				if h < th {
					counts[i]++
				}
			}
		}
		for i, p := range pcts {
			rate := 100 * float64(counts[i]) / n
			if math.Abs(rate-p) > 1 {
				t.Errorf("%s ids, %v%% sampler: rate %.3f%%", gen.name, p, rate)
			}
		}
	}
}

func TestPercentageSamplerBounds(t *testing.T) {
	p := SamplingParameters{TraceID: "0ad1348f1403169275002100356696"}
	for _, c := range []struct {
		pct  float64
		want bool
	}{{0, false}, {-3, false}, {math.NaN(), false}, {100, true}, {250, true}, {math.Inf(1), true}} {
		if got := PercentageSampler(c.pct).ShouldSample(p); got != c.want {
			t.Errorf("PercentageSampler(%v) = %v, want %v", c.pct, got, c.want)
		}
	}
	if !AlwaysSample().ShouldSample(p) || NeverSample().ShouldSample(p) {
		t.Fatal("AlwaysSample/NeverSample")
	}
}

func TestSamplingDecidedAtRootInherited(t *testing.T) {
	var got []SamplingParameters
	tr := New("app", WithoutMDC(), WithSampler(SamplerFunc(func(p SamplingParameters) bool {
		got = append(got, p)
		return false
	})))
	ctx, root := tr.Start(context.Background(), "root", WithKind(KindServer), WithLogType("http-server"))
	_, child := tr.Start(ctx, "child")
	if root.Sampled() || child.Sampled() {
		t.Fatal("root and child must be unsampled")
	}
	if len(got) != 1 || got[0].TraceID != root.TraceID() || got[0].Operation != "root" || got[0].Kind != KindServer || got[0].LogType != "http-server" {
		t.Fatalf("sampler called with %+v, want once for the root", got)
	}
	// A remote parent's flag wins over the local sampler, in both directions.
	never := New("app", WithoutMDC(), WithSampler(NeverSample()))
	always := New("app", WithoutMDC())
	for _, c := range []struct {
		tr      *Tracer
		sampled bool
	}{{never, true}, {always, false}} {
		sc, err := NewSpanContext(SpanContextConfig{TraceID: "t1", SpanID: "0.1", ParentID: "0", Sampled: c.sampled})
		if err != nil {
			t.Fatal(err)
		}
		for _, mode := range []ServerSpanMode{ServerSpanChild, ServerSpanKeep} {
			_, s := c.tr.Start(context.Background(), "srv", WithRemoteParent(sc), WithServerSpanMode(mode))
			if s.Sampled() != c.sampled {
				t.Fatalf("remote sampled=%v, mode %v: span sampled=%v", c.sampled, mode, s.Sampled())
			}
		}
	}
}
