package digest

import (
	"encoding/json"
	"math/rand/v2"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
)

func TestAppendJSONString(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain", `"plain"`},
		{`q"b\`, `"q\"b\\"`},
		{"a\nb\rc\td", `"a\nb\rc\td"`},
		{"\x00\x1f", `"\u0000\u001f"`},
		{"del\x7f", `"del\u007f"`},
		{"x\u2028y\u2029z", `"x\u2028y\u2029z"`},
		{"a\xffb", `"a\ufffdb"`},
		{"日本", `"日本"`},
		{"", `""`},
	} {
		if got := string(appendJSONString(nil, tc.in, 0)); got != tc.want {
			t.Errorf("%q: got %s want %s", tc.in, got, tc.want)
		}
	}
}

func TestAppendJSONStringTruncates(t *testing.T) {
	s := strings.Repeat("é", 10) // 20 bytes
	got := string(appendJSONString(nil, s, 5))
	if got != `"éé...(truncated 16 bytes)"` {
		t.Fatalf("got %s", got)
	}
}

func FuzzJSONString(f *testing.F) {
	for _, s := range []string{"", "a\"b", "\n\r\u2028", "\xff\xfe", "日本\\", strings.Repeat("x", 100)} {
		f.Add(s, 0)
		f.Add(s, 7)
	}
	f.Fuzz(func(t *testing.T, s string, limit int) {
		if limit < 0 || limit > 1<<16 {
			limit = 0
		}
		b := appendJSONString(nil, s, limit)
		var out string
		if err := json.Unmarshal(b, &out); err != nil {
			t.Fatalf("invalid JSON %q for %q: %v", b, s, err)
		}
		if strings.ContainsAny(string(b), "\n\r") || strings.Contains(string(b), "\u2028") {
			t.Fatalf("line break in %q", b)
		}
		if i := rawControl(string(b)); i >= 0 {
			t.Fatalf("raw control byte %q in %q", b[i], b)
		}
		if limit == 0 && utf8.ValidString(s) && out != s {
			t.Fatalf("round trip %q -> %q", s, out)
		}
	})
}

// FuzzCSVField: an escaped field holds no separator and no raw control byte (below 0x20, or DEL),
// and the reader (digestread.ParseLine, on a whole line with the field as its one component column)
// gets the value back.
func FuzzCSVField(f *testing.F) {
	for _, s := range []string{"", "a,b", "100%", "x\ny\r", "\xff", "\x1b[31m\x00\x7f", "%1B%7f%0a"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		b := string(appendCSVField(nil, s, 0))
		if strings.ContainsAny(b, ",\n\r") {
			t.Fatalf("separator in %q", b)
		}
		if i := rawControl(b); i >= 0 {
			t.Fatalf("raw control byte %q in %q", b[i], b)
		}
		if !utf8.ValidString(s) {
			return
		}
		line := "2024-05-01 12:00:00.000,app,tid,0,server,00,g,1ms," + b + ",,"
		rec, err := digestread.ParseLine([]byte(line), time.UTC)
		if err != nil {
			t.Fatalf("%q: %v", line, err)
		}
		if got := rec.Fields[len(layout.Common)].Value; got != s {
			t.Fatalf("round trip %q -> %q -> %q", s, b, got)
		}
	})
}

func TestAppendNoAlloc(t *testing.T) {
	buf := make([]byte, 0, 256)
	s := "GET /orders?id=\"1\"\n\u2028"
	if a := testing.AllocsPerRun(100, func() {
		buf = appendJSONString(buf[:0], s, 0)
		buf = appendCSVField(buf, s, 10)
	}); a != 0 {
		t.Fatalf("allocs %v", a)
	}
}

// TestPlain8 checks the 8-bytes-at-once test against the byte-by-byte rule: every byte value at
// every position, and random mixes.
func TestPlain8(t *testing.T) {
	naive := func(s string) bool {
		for i := 0; i < len(s); i++ {
			if c := s[i]; c < 0x20 || c >= 0x7f || c == '"' || c == '\\' {
				return false
			}
		}
		return true
	}
	for pos := 0; pos < 8; pos++ {
		for c := 0; c < 256; c++ {
			for _, bg := range []byte{'a', ' ', '~', '!', '#', '[', ']'} {
				b := []byte(strings.Repeat(string(bg), 8))
				b[pos] = byte(c)
				if got, want := plain8(string(b)), naive(string(b)); got != want {
					t.Fatalf("plain8(%q) = %v, want %v", b, got, want)
				}
			}
		}
	}
	rng := rand.New(rand.NewPCG(1, 2))
	for i := 0; i < 200000; i++ {
		var b [8]byte
		for j := range b {
			b[j] = byte(rng.IntN(256))
			if rng.IntN(4) > 0 {
				b[j] = byte(0x20 + rng.IntN(0x60))
			}
		}
		if got, want := plain8(string(b[:])), naive(string(b[:])); got != want {
			t.Fatalf("plain8(%q) = %v, want %v", b, got, want)
		}
	}
}
