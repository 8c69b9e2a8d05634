package digest

import (
	"encoding"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/trace"
)

// TestConfigOutOfRange: every value out of range is an error of New naming the field, and New
// creates nothing. Before, Format(7), Policy(9), Period(5) and QueueCapacity -5 silently became the
// defaults, a sub-millisecond StatInterval was raised and a nil Encoder ignored.
func TestConfigOutOfRange(t *testing.T) {
	nop := EncoderFunc(func(*trace.FinishedSpan, FieldEncoder) {})
	for _, c := range []struct {
		field string
		cfg   Config
	}{
		{"Format", Config{Format: 7}},
		{"Format", Config{Format: -1}},
		{"Policy", Config{Policy: 9}},
		{"Wait", Config{Wait: 2}},
		{"Rolling", Config{Rolling: 5}},
		{"QueueCapacity", Config{QueueCapacity: -5}},
		{"QueueCapacity", Config{QueueCapacity: 1<<24 + 1}},
		{"MaxSizeMB", Config{MaxSizeMB: -1}},
		{"MaxBackups", Config{MaxBackups: -2}},
		{"FileMode", Config{FileMode: os.ModeDir | 0o644}},
		{"StatInterval", Config{StatInterval: time.Microsecond}},
		{`Encoders["redis"]`, Config{Encoders: map[string]Encoder{"redis": nil}}},
		{`Encoders[""]`, Config{Encoders: map[string]Encoder{"": nop}}},
		{"OutputOnly", Config{OutputOnly: true}},
	} {
		root := t.TempDir()
		c.cfg.Root = root
		r, err := New(c.cfg)
		var ce *ConfigError
		if !errors.As(err, &ce) || ce.Field != c.field || !strings.Contains(err.Error(), "Config."+c.field) {
			if r != nil {
				r.Close()
			}
			t.Errorf("%s: New returned %v, want a *ConfigError naming the field", c.field, err)
			continue
		}
		if entries, _ := os.ReadDir(root); len(entries) != 0 {
			t.Errorf("%s: New created %v before refusing the config", c.field, entries)
		}
	}
}

// TestConfigMeaningfulNegatives: the negatives that mean something are accepted.
func TestConfigMeaningfulNegatives(t *testing.T) {
	r, dir := newReporter(t, Config{MaxAgeDays: -1, StatInterval: -1, MaxValueBytes: -1})
	r.Close()
	if _, err := os.Stat(filepath.Join(dir, "tracer-self.log")); err != nil {
		t.Fatal(err)
	}
}

// TestTextForms: Format, Policy, Wait and Period round-trip through their text forms (JSON strings, env
// values), ignore case, take "" as the default and refuse unknown names and out-of-range values.
func TestTextForms(t *testing.T) {
	type pair struct {
		v    encoding.TextMarshaler
		p    encoding.TextUnmarshaler
		text string
	}
	var f Format
	var p Policy
	var per Period
	var w Wait
	for _, c := range []pair{
		{JSON, &f, "json"}, {CSV, &f, "csv"},
		{Discard, &p, "discard"}, {Block, &p, "block"},
		{Batched, &w, "batched"}, {Prompt, &w, "prompt"},
		{Daily, &per, "daily"}, {Hourly, &per, "hourly"}, {SizeOnly, &per, "size-only"},
	} {
		b, err := c.v.MarshalText()
		if err != nil || string(b) != c.text || c.v.(interface{ String() string }).String() != c.text {
			t.Errorf("%v: MarshalText %q %v", c.v, b, err)
		}
		if err := c.p.UnmarshalText([]byte(" " + strings.ToUpper(c.text) + " ")); err != nil {
			t.Errorf("UnmarshalText(%q): %v", c.text, err)
		}
		if got, _ := c.p.(encoding.TextMarshaler).MarshalText(); string(got) != c.text {
			t.Errorf("UnmarshalText(%q) gave %q", c.text, got)
		}
	}
	for _, v := range []encoding.TextMarshaler{Format(7), Policy(9), Period(5), Wait(2)} {
		if b, err := v.MarshalText(); err == nil {
			t.Errorf("%v: MarshalText gave %q, want an error", v, b)
		}
	}
	if s := Format(7).String(); s != "Format(7)" {
		t.Errorf("Format(7).String() = %q", s)
	}
	for _, u := range []encoding.TextUnmarshaler{&f, &p, &per, &w} {
		if err := u.UnmarshalText([]byte("weekly")); err == nil {
			t.Errorf("%T accepted weekly", u)
		}
	}

	// A JSON configuration file.
	var cfg Config
	if err := json.Unmarshal([]byte(`{"Format":"csv","Policy":"block","Rolling":"hourly","QueueCapacity":64}`), &cfg); err != nil {
		t.Fatal(err)
	}
	if cfg.Format != CSV || cfg.Policy != Block || cfg.Rolling != Hourly || cfg.QueueCapacity != 64 {
		t.Fatalf("decoded %+v", cfg)
	}
	out, err := json.Marshal(struct {
		Format  Format
		Policy  Policy
		Rolling Period
	}{cfg.Format, cfg.Policy, cfg.Rolling})
	if err != nil || string(out) != `{"Format":"csv","Policy":"block","Rolling":"hourly"}` {
		t.Fatalf("encoded %s %v", out, err)
	}
	if err := json.Unmarshal([]byte(`{"Rolling":"weekly"}`), &cfg); err == nil {
		t.Fatal("an unknown period decoded without error")
	}
}
