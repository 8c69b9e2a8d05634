package trace

import "math"

// Sampler decides at the root of a trace whether its spans are sampled (get digest lines).
// Children, local or remote, inherit the decision. Implementations must be safe for concurrent use.
// Unsampled spans still run extensions (their ids are in the MDC) and still reach reporters,
// flagged unsampled, so stat logs count them.
type Sampler interface {
	// ShouldSample reports whether the new trace described by p is sampled.
	ShouldSample(p SamplingParameters) bool
}

// SamplingParameters is what a Sampler decides on.
type SamplingParameters struct {
	TraceID   string // the new trace's id
	Operation string // the operation name given to Start
	Kind      Kind   // the root span's kind (WithKind)
	LogType   string // the root span's log type (WithLogType), may be empty
}

// SamplerFunc is a custom Sampler.
type SamplerFunc func(p SamplingParameters) bool

// ShouldSample calls f.
func (f SamplerFunc) ShouldSample(p SamplingParameters) bool { return f(p) }

type constSampler bool

func (c constSampler) ShouldSample(SamplingParameters) bool { return bool(c) }

// AlwaysSample samples every trace. It is the default.
func AlwaysSample() Sampler { return constSampler(true) }

// NeverSample samples no trace.
func NeverSample() Sampler { return constSampler(false) }

// PercentageSampler samples percent % of the traces (0..100, fractions allowed; below 0 or NaN
// means 0, above 100 means 100), deterministically on the trace id, so that every process, in any
// language, takes the same decision for the same trace:
//
//	h := FNV-1a 64 of the trace id's bytes (offset basis 0xcbf29ce484222325, prime 0x100000001b3)
//	h ^= h >> 33; h *= 0xff51afd7ed558ccd; h ^= h >> 33; h *= 0xc4ceb9fe1a85ec53; h ^= h >> 33
//	sampled := h < uint64(percent / 100 * 2^64)   (percent 100: always)
//
// The middle line is the MurmurHash3 64-bit finalizer; it spreads ids that differ only in a few
// digits (consecutive SOFA ids) evenly over the range.
func PercentageSampler(percent float64) Sampler {
	switch {
	case !(percent > 0):
		return constSampler(false)
	case percent >= 100:
		return constSampler(true)
	}
	return percentSampler{threshold: uint64(math.Ldexp(percent/100, 64))}
}

type percentSampler struct{ threshold uint64 }

func (s percentSampler) ShouldSample(p SamplingParameters) bool {
	return TraceIDHash(p.TraceID) < s.threshold
}

// TraceIDHash is the hash PercentageSampler compares with its threshold: FNV-1a 64 of id followed by
// the MurmurHash3 64-bit finalizer.
func TraceIDHash(id string) uint64 {
	h := uint64(0xcbf29ce484222325)
	for i := 0; i < len(id); i++ {
		h ^= uint64(id[i])
		h *= 0x100000001b3
	}
	h ^= h >> 33
	h *= 0xff51afd7ed558ccd
	h ^= h >> 33
	h *= 0xc4ceb9fe1a85ec53
	h ^= h >> 33
	return h
}
