package digest

import (
	"fmt"
	"os"
	"strings"

	"github.com/tracemdc/tracemdc/asyncwriter"
)

// ConfigError is the error New returns for a Config field out of range.
type ConfigError struct {
	Field  string // the field, as "QueueCapacity" or `Encoders["rpc"]`
	Value  any    // the value given
	Reason string // what is wrong, and what is accepted
}

// Error returns "digest: Config.<Field> = <Value>: <Reason>".
func (e *ConfigError) Error() string {
	return fmt.Sprintf("digest: Config.%s = %v: %s", e.Field, e.Value, e.Reason)
}

// validate checks every field of c by the rule of Config's documentation.
func (c *Config) validate() error {
	bad := func(field string, v any, reason string) error {
		return &ConfigError{Field: field, Value: v, Reason: reason}
	}
	switch {
	case c.Format != JSON && c.Format != CSV:
		return bad("Format", int(c.Format), "unknown format (JSON or CSV)")
	case c.Policy != Discard && c.Policy != Block:
		return bad("Policy", int(c.Policy), "unknown policy (Discard or Block)")
	case c.Wait != Batched && c.Wait != Prompt:
		return bad("Wait", int(c.Wait), "unknown wait (Batched or Prompt)")
	case c.Rolling != Daily && c.Rolling != Hourly && c.Rolling != SizeOnly:
		return bad("Rolling", int(c.Rolling), "unknown period (Daily, Hourly or SizeOnly)")
	case c.QueueCapacity < 0 || c.QueueCapacity > asyncwriter.MaxCapacity:
		return bad("QueueCapacity", c.QueueCapacity, fmt.Sprintf("out of range (0 for %d, or 1 to %d)", DefaultQueueCapacity, asyncwriter.MaxCapacity))
	case c.MaxSizeMB < 0:
		return bad("MaxSizeMB", c.MaxSizeMB, "negative (0 for no size limit)")
	case c.MaxBackups < 0:
		return bad("MaxBackups", c.MaxBackups, "negative (0 for no limit)")
	case c.FileMode&^os.ModePerm != 0:
		return bad("FileMode", c.FileMode, "more than permission bits")
	case c.OutputOnly && c.Output == nil:
		return bad("OutputOnly", c.OutputOnly, "set with a nil Output: the lines would go nowhere")
	case c.StatInterval > 0 && c.StatInterval < MinStatInterval:
		return bad("StatInterval", c.StatInterval, fmt.Sprintf("below MinStatInterval %v (0 for %v, negative for no stat logs)", MinStatInterval, DefaultStatInterval))
	}
	for t, e := range c.Encoders {
		switch {
		case t == "":
			return bad(`Encoders[""]`, e, "empty log type")
		case e == nil:
			return bad(fmt.Sprintf("Encoders[%q]", t), e, "nil Encoder")
		}
	}
	return nil
}

// Text forms: MarshalText and UnmarshalText make Format, Policy, Wait and Period settable from YAML, JSON
// (as strings) and environment variables. UnmarshalText ignores case and surrounding spaces, takes
// the empty text as the zero value (the default) and refuses anything else it does not know.

var (
	formatNames = []string{JSON: "json", CSV: "csv"}
	policyNames = []string{Discard: "discard", Block: "block"}
	waitNames   = []string{Batched: "batched", Prompt: "prompt"}
	periodNames = []string{Daily: "daily", Hourly: "hourly", SizeOnly: "size-only"}
)

func name(names []string, v int, typ string) string {
	if v >= 0 && v < len(names) {
		return names[v]
	}
	return fmt.Sprintf("%s(%d)", typ, v)
}

func marshal(names []string, v int, typ string) ([]byte, error) {
	if v < 0 || v >= len(names) {
		return nil, fmt.Errorf("digest: %s(%d) has no name (one of %s)", typ, v, strings.Join(names, ", "))
	}
	return []byte(names[v]), nil
}

func unmarshal(names []string, text []byte, typ string) (int, error) {
	s := strings.ToLower(strings.TrimSpace(string(text)))
	if s == "" {
		return 0, nil
	}
	for i, n := range names {
		if s == n {
			return i, nil
		}
	}
	return 0, fmt.Errorf("digest: unknown %s %q (one of %s)", typ, text, strings.Join(names, ", "))
}

// String returns "json", "csv", or Format(N) for a value out of range.
func (f Format) String() string { return name(formatNames, int(f), "Format") }

// MarshalText returns "json" or "csv"; a value out of range is an error.
func (f Format) MarshalText() ([]byte, error) { return marshal(formatNames, int(f), "Format") }

// UnmarshalText reads "json" or "csv" (any case; empty means JSON).
func (f *Format) UnmarshalText(text []byte) error {
	v, err := unmarshal(formatNames, text, "Format")
	if err == nil {
		*f = Format(v)
	}
	return err
}

// String returns "discard", "block", or Policy(N) for a value out of range.
func (p Policy) String() string { return name(policyNames, int(p), "Policy") }

// MarshalText returns "discard" or "block"; a value out of range is an error.
func (p Policy) MarshalText() ([]byte, error) { return marshal(policyNames, int(p), "Policy") }

// UnmarshalText reads "discard" or "block" (any case; empty means Discard).
func (p *Policy) UnmarshalText(text []byte) error {
	v, err := unmarshal(policyNames, text, "Policy")
	if err == nil {
		*p = Policy(v)
	}
	return err
}

// String returns "batched", "prompt", or Wait(N) for a value out of range.
func (w Wait) String() string { return name(waitNames, int(w), "Wait") }

// MarshalText returns "batched" or "prompt"; a value out of range is an error.
func (w Wait) MarshalText() ([]byte, error) { return marshal(waitNames, int(w), "Wait") }

// UnmarshalText reads "batched" or "prompt" (any case; empty means Batched).
func (w *Wait) UnmarshalText(text []byte) error {
	v, err := unmarshal(waitNames, text, "Wait")
	if err == nil {
		*w = Wait(v)
	}
	return err
}

// String returns "daily", "hourly", "size-only", or Period(N) for a value out of range.
func (p Period) String() string { return name(periodNames, int(p), "Period") }

// MarshalText returns "daily", "hourly" or "size-only"; a value out of range is an error.
func (p Period) MarshalText() ([]byte, error) { return marshal(periodNames, int(p), "Period") }

// UnmarshalText reads "daily", "hourly" or "size-only" (any case; empty means Daily).
func (p *Period) UnmarshalText(text []byte) error {
	v, err := unmarshal(periodNames, text, "Period")
	if err == nil {
		*p = Period(v)
	}
	return err
}
