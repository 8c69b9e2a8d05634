package trace

import (
	"math/bits"
	"math/rand/v2"
	"net"
	"os"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// IDGenerator makes trace and span ids. Implementations must be safe for concurrent use and return
// ids of [0-9A-Za-z._-] only, so that NewSpanContext accepts them from a peer.
type IDGenerator interface {
	// TraceID returns a new trace id.
	TraceID() string
	// RootSpanID returns the span id of a root span.
	RootSpanID() string
	// ChildSpanID returns the span id of the n-th child (n = 1, 2, 3…) of the span parent.
	ChildSpanID(parent string, n uint64) string
}

// SOFAIDGenerator returns the default generator, compatible with SOFATracer.
//
// Trace id: IP8 + millis13 + counter4 + pid, no separators, e.g.
// "0ad1348f1403169275002100356696": IP8 is the first non-loopback IPv4 address of the host, two
// lowercase hex digits per octet ("ffffffff" if there is none); millis13 the Unix time in
// milliseconds; counter4 a number in 1000..9000; pid the process id in decimal, as SOFATracer writes
// it (Java takes it from the runtime name pid@host). An id is 25 + len(pid) characters (at most 32 on
// Linux, where pids stay below 2^22), every one a lowercase hex digit.
//
// The (millis, counter) pair is drawn from one atomic sequence, so ids of a process never repeat:
// the counter restarts at 1000 when the millisecond changes, and when 8001 ids are taken within
// one millisecond, or the clock steps back, the millis part runs ahead of the clock until it
// catches up (SOFATracer would repeat ids in both cases).
//
// Span ids are rpcId style: a root is "0", the n-th child of span p is p + "." + n ("0.1", "0.1.1").
// Under a W3C parent (16 lowercase hex digits, which no SOFA span id is), a trace an OpenTelemetry or
// Zipkin peer started, a child gets a random W3C span id instead, as W3CIDGenerator gives: the trace
// keeps ids its peers can carry in a traceparent.
func SOFAIDGenerator() IDGenerator { return defaultSOFA() }

// isW3CSpanID reports whether id has the form of a W3C span id: 16 lowercase hex digits.
func isW3CSpanID(id string) bool {
	if len(id) != 16 {
		return false
	}
	for i := 0; i < len(id); i++ {
		if c := id[i]; (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

var defaultSOFA = sync.OnceValue(func() *sofaIDs {
	return newSOFAIDs(localIP8(), strconv.Itoa(os.Getpid()), func() int64 {
		return time.Now().UnixMilli()
	})
})

// sofaIDs is the SOFA id generator; its fields are fixed at construction except seq.
type sofaIDs struct {
	ip8, pid string
	now      func() int64 // Unix milliseconds
	seq      atomic.Uint64
}

func newSOFAIDs(ip8, pid string, now func() int64) *sofaIDs {
	return &sofaIDs{ip8: ip8, pid: pid, now: now}
}

const (
	counterMin   = 1000
	counterSpan  = 8001 // 1000..9000 inclusive
	maxIDBufSize = 96
)

// next returns the millis and counter of a new trace id. seq = millis*counterSpan + (counter-1000);
// it only grows, so no two calls return the same pair.
func (g *sofaIDs) next() (int64, uint64) {
	base := uint64(g.now()) * counterSpan
	for {
		old := g.seq.Load()
		n := base
		if n <= old {
			n = old + 1
		}
		if g.seq.CompareAndSwap(old, n) {
			return int64(n / counterSpan), counterMin + n%counterSpan
		}
	}
}

func (g *sofaIDs) TraceID() string {
	ms, c := g.next()
	var buf [maxIDBufSize]byte
	b := append(buf[:0], g.ip8...)
	b = strconv.AppendInt(b, ms, 10)
	b = strconv.AppendUint(b, c, 10)
	b = append(b, g.pid...)
	return string(b)
}

func (g *sofaIDs) RootSpanID() string { return "0" }

func (g *sofaIDs) ChildSpanID(parent string, n uint64) string {
	if isW3CSpanID(parent) {
		// The trace came from a W3C peer (OpenTelemetry, Zipkin): "<16 hex>.1" could not go back to
		// it in a traceparent, so the trace goes on in its own format.
		return w3cSpanID()
	}
	var buf [maxIDBufSize]byte
	return string(appendChildID(buf[:0], parent, n))
}

// appendChildID appends the SOFA id of the n-th child of parent to dst.
func appendChildID(dst []byte, parent string, n uint64) []byte {
	l := childIDLen(parent, n)
	dst = slices.Grow(dst, l)
	putChildID(dst[len(dst):len(dst)+l], parent, n)
	return dst[:len(dst)+l]
}

// childIDLen returns the length of the SOFA id of the n-th child of parent.
func childIDLen(parent string, n uint64) int { return len(parent) + 1 + decimalLen(n) }

// putChildID writes the SOFA id of the n-th child of parent into b, which is exactly
// childIDLen(parent, n) bytes long. The tracer writes short ids straight into a span.
func putChildID(b []byte, parent string, n uint64) {
	for i := 0; i < len(parent); i++ { // a few bytes: cheaper than copy's call
		b[i] = parent[i]
	}
	b[len(parent)] = '.'
	i := len(b)
	for n >= 100 { // two digits at a time, from the end
		q := n / 100
		j := (n - q*100) * 2
		i -= 2
		b[i], b[i+1] = digitPairs[j], digitPairs[j+1]
		n = q
	}
	if n >= 10 {
		b[i-2], b[i-1] = digitPairs[n*2], digitPairs[n*2+1]
	} else {
		b[i-1] = byte('0' + n)
	}
}

// decimalLen returns the number of decimal digits of n.
func decimalLen(n uint64) int {
	// bits.Len64(n) * log10(2), then one correction.
	d := bits.Len64(n) * 1233 >> 12
	if d < len(pow10) && n >= pow10[d] {
		d++
	}
	return max(d, 1)
}

// digitPairs holds "00" to "99".
const digitPairs = "00010203040506070809" +
	"10111213141516171819" +
	"20212223242526272829" +
	"30313233343536373839" +
	"40414243444546474849" +
	"50515253545556575859" +
	"60616263646566676869" +
	"70717273747576777879" +
	"80818283848586878889" +
	"90919293949596979899"

var pow10 = [...]uint64{1, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19}

// localIP8 returns the first non-loopback IPv4 address as 8 lowercase hex digits, or "ffffffff".
func localIP8() string {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return "ffffffff"
	}
	for _, a := range addrs {
		ipn, ok := a.(*net.IPNet)
		if !ok {
			continue
		}
		if ip4 := ipn.IP.To4(); ip4 != nil && !ip4.IsLoopback() && !ip4.IsUnspecified() {
			return ip8(ip4)
		}
	}
	return "ffffffff"
}

func ip8(ip4 net.IP) string {
	const hex = "0123456789abcdef"
	var b [8]byte
	for i, o := range ip4[:4] {
		b[2*i] = hex[o>>4]
		b[2*i+1] = hex[o&0xf]
	}
	return string(b[:])
}

// W3CIDGenerator returns a generator of W3C Trace Context ids, for OpenTelemetry and Zipkin peers:
// 32 lowercase hex digits for a trace id and 16 for a span id, random (never all zero). A child's
// span id is random too; the parent id links it.
func W3CIDGenerator() IDGenerator { return w3cIDs{} }

type w3cIDs struct{}

func (w3cIDs) TraceID() string {
	hi, lo := rand.Uint64(), rand.Uint64()
	for hi == 0 && lo == 0 {
		lo = rand.Uint64()
	}
	var b [32]byte
	putHex(b[:16], hi)
	putHex(b[16:], lo)
	return string(b[:])
}

func (w3cIDs) RootSpanID() string { return w3cSpanID() }

func (w3cIDs) ChildSpanID(string, uint64) string { return w3cSpanID() }

func w3cSpanID() string {
	v := rand.Uint64()
	for v == 0 {
		v = rand.Uint64()
	}
	var b [16]byte
	putHex(b[:], v)
	return string(b[:])
}

func putHex(dst []byte, v uint64) {
	const hex = "0123456789abcdef"
	for i := len(dst) - 1; i >= 0; i-- {
		dst[i] = hex[v&0xf]
		v >>= 4
	}
}
