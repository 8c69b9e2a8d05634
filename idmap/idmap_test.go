package idmap

import (
	"encoding/hex"
	"hash/fnv"
	"strings"
	"testing"
)

// The vectors of SOFATracer's Zipkin reporter (SOFA-FACTS.md, "Export").
func TestSpanIDSOFAVectors(t *testing.T) {
	for id, want := range map[string]string{
		"0":     "af63ad4c86019caf",
		"0.1":   "4e18dd181d0a2066",
		"0.1.1": "b1ecc5b0e1cf206b",
	} {
		if got := SpanHex(id); got != want {
			t.Errorf("SpanHex(%q) = %s, want %s", id, got, want)
		}
		b := SpanID(id)
		if got := hex.EncodeToString(b[:]); got != want {
			t.Errorf("SpanID(%q) = %s, want %s", id, got, want)
		}
	}
}

func TestSpanIDW3CKept(t *testing.T) {
	for id, want := range map[string]string{
		"00f067aa0ba902b7": "00f067aa0ba902b7",
		"00F067AA0BA902B7": "00f067aa0ba902b7",
		"":                 "",
	} {
		if got := SpanHex(id); got != want {
			t.Errorf("SpanHex(%q) = %q, want %q", id, got, want)
		}
	}
	// An all-zero or non-hex 16-character id is not a W3C id: it is hashed like any other string.
	for _, id := range []string{"0000000000000000", "0.1.1.1.1.1.1.1x"} {
		h := fnv.New64a()
		h.Write([]byte(id))
		want := hex.EncodeToString(h.Sum(nil))
		if got := SpanHex(id); got != want {
			t.Errorf("SpanHex(%q) = %s, want the FNV-1a hash %s", id, got, want)
		}
	}
	if SpanID("") != ([8]byte{}) {
		t.Error("SpanID of the empty id is not the zero id")
	}
}

func TestTraceID(t *testing.T) {
	sofa := "0ad1348f1403169275002100356696" // 30 characters: IP8 + millis13 + counter4 + pid
	for id, want := range map[string]string{
		sofa:                               "00" + sofa,
		sofa + "T":                         "00" + sofa, // a load-test copy's T is dropped
		"4BF92F3577B34DA6A3CE929D0E0E4736": "4bf92f3577b34da6a3ce929d0e0e4736",
		"4bf92f3577b34da6a3ce929d0e0e4736": "4bf92f3577b34da6a3ce929d0e0e4736",
		"abc":                              strings.Repeat("0", 29) + "abc",
		"":                                 "",
	} {
		if got := TraceHex(id); got != want {
			t.Errorf("TraceHex(%q) = %q, want %q", id, got, want)
		}
		b := TraceID(id)
		if id != "" && hex.EncodeToString(b[:]) != want {
			t.Errorf("TraceID(%q) = %x, want %s", id, b, want)
		}
	}
	// Not hex, too long, all zero: a stable 128-bit FNV-1a hash, never the zero id.
	for _, id := range []string{"not-hex", strings.Repeat("a", 33), strings.Repeat("0", 32), "T"} {
		h := fnv.New128a()
		h.Write([]byte(id))
		want := hex.EncodeToString(h.Sum(nil))
		if got := TraceHex(id); got != want {
			t.Errorf("TraceHex(%q) = %s, want the FNV-1a hash %s", id, got, want)
		}
	}
}

func TestValidity(t *testing.T) {
	if !IsW3CTraceID("4bf92f3577b34da6a3ce929d0e0e4736") || IsW3CTraceID(strings.Repeat("0", 32)) ||
		IsW3CTraceID("0ad1348f1403169275002100356696") {
		t.Error("IsW3CTraceID")
	}
	if !IsW3CSpanID("00f067aa0ba902b7") || IsW3CSpanID("0.1") || IsW3CSpanID(strings.Repeat("0", 16)) {
		t.Error("IsW3CSpanID")
	}
}

func TestAllocs(t *testing.T) {
	buf := make([]byte, 0, 64)
	n := testing.AllocsPerRun(100, func() {
		buf = AppendTraceHex(buf[:0], "0ad1348f1403169275002100356696")
		buf = AppendSpanHex(buf, "0.1.1")
		_ = TraceID("0ad1348f1403169275002100356696")
		_ = SpanID("0.1")
		_ = TraceHex("4bf92f3577b34da6a3ce929d0e0e4736")
		_ = SpanHex("00f067aa0ba902b7")
	})
	if n != 0 {
		t.Errorf("%v allocs per run, want 0", n)
	}
}

func FuzzMapping(f *testing.F) {
	for _, s := range []string{"0", "0.1.1", "0ad1348f1403169275002100356696T", "00f067aa0ba902b7", "", "\xff"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, id string) {
		th, sh := TraceHex(id), SpanHex(id)
		if id == "" {
			if th != "" || sh != "" {
				t.Fatalf("empty id mapped to %q %q", th, sh)
			}
			return
		}
		if !IsW3CTraceID(th) || !IsW3CSpanID(sh) {
			t.Fatalf("%q mapped to invalid ids %q %q", id, th, sh)
		}
		tb, sb := TraceID(id), SpanID(id)
		if hex.EncodeToString(tb[:]) != th || hex.EncodeToString(sb[:]) != sh {
			t.Fatalf("%q: bytes and hex disagree", id)
		}
		if tb != oracleTraceID(id) || sb != oracleSpanID(id) {
			t.Fatalf("%q: %x %x, the rules say %x %x", id, tb, sb, oracleTraceID(id), oracleSpanID(id))
		}
	})
}

// oracleTraceID and oracleSpanID say the package doc's rules in the plainest way, with the standard
// library, for the mapping's one-pass decoders to be checked against.
func oracleTraceID(id string) (out [16]byte) {
	if id == "" {
		return out
	}
	h := id
	if len(h) > 1 && strings.HasSuffix(h, "T") {
		h = h[:len(h)-1]
	}
	if len(h) <= 32 {
		b, err := hex.DecodeString(strings.Repeat("0", 32-len(h)) + strings.ToLower(h))
		if err == nil && strings.Trim(h, "0") != "" {
			copy(out[:], b)
			return out
		}
	}
	f := fnv.New128a()
	f.Write([]byte(id))
	f.Sum(out[:0])
	if out == ([16]byte{}) {
		out[15] = 1
	}
	return out
}

func oracleSpanID(id string) (out [8]byte) {
	if id == "" {
		return out
	}
	if len(id) == 16 {
		b, err := hex.DecodeString(strings.ToLower(id))
		if err == nil && strings.Trim(id, "0") != "" {
			copy(out[:], b)
			return out
		}
	}
	f := fnv.New64a()
	f.Write([]byte(id))
	f.Sum(out[:0])
	if out == ([8]byte{}) {
		out[7] = 1
	}
	return out
}

// The one-pass decoders agree with the rules on ids of every shape near the boundaries.
func TestMappingOracle(t *testing.T) {
	ids := []string{"0", "T", "0T", "00", "1", "1T", "0.1", "0.1.1", "f", "F", "g", "0ad1348f1403169275002100356696",
		"0ad1348f1403169275002100356696T", "0AD1348F1403169275002100356696", "4bf92f3577b34da6a3ce929d0e0e4736",
		"4BF92F3577B34DA6A3CE929D0E0E4736", "00000000000000000000000000000000", "00000000000000000000000000000001",
		"4bf92f3577b34da6a3ce929d0e0e47361", "4bf92f3577b34da6a3ce929d0e0e4736T", "4bf92f3577b34da6a3ce929d0e0e473g",
		"00f067aa0ba902b7", "00F067AA0BA902B7", "0000000000000000", "0000000000000001", "00f067aa0ba902bx", "00f067aa0ba902b7T",
		"\xff", "0ad1348f140316927500210035669\x00", strings.Repeat("a", 31), strings.Repeat("a", 33)}
	for _, id := range ids {
		if got, want := TraceID(id), oracleTraceID(id); got != want {
			t.Errorf("TraceID(%q) = %x, want %x", id, got, want)
		}
		if got, want := SpanID(id), oracleSpanID(id); got != want {
			t.Errorf("SpanID(%q) = %x, want %x", id, got, want)
		}
		w3cT := len(id) == 32 && isHexOracle(id) && strings.Trim(id, "0") != ""
		w3cS := len(id) == 16 && isHexOracle(id) && strings.Trim(id, "0") != ""
		if IsW3CTraceID(id) != w3cT || IsW3CSpanID(id) != w3cS {
			t.Errorf("IsW3C(%q): %v %v, want %v %v", id, IsW3CTraceID(id), IsW3CSpanID(id), w3cT, w3cS)
		}
	}
}

func isHexOracle(s string) bool {
	_, err := hex.DecodeString(s)
	return err == nil && s != ""
}
