package digest

import (
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/rolling"
)

// Format is the line format of digest and stat logs.
type Format int

const (
	// JSON writes one JSON object per line. It is the default.
	JSON Format = iota
	// CSV writes comma-separated values in the same field order; '%' and ',' inside a value are
	// written %25 and %2C, and every ASCII control character %XX of its code ('\n' %0A, '\r' %0D,
	// NUL %00, ESC %1B, DEL %7F).
	CSV
)

// Policy says what Report does when the queue is full.
type Policy int

const (
	// Discard drops the span (counted in Stats.Discarded and reported in tracer-self.log): the
	// request never waits for the disk. It is the default, as in SOFATracer.
	Discard Policy = iota
	// Block makes Report wait for a free slot: no span is ever lost to a full queue.
	Block
)

// Wait says when the reporter's consumer goroutine takes the spans reported to it off the queue
// and writes their lines.
type Wait int

const (
	// Batched makes the consumer sleep between looks at the queue (asyncwriter.WaitBackoff): 1 ms
	// after it found spans, up to 8 ms when it finds none, and after 100 ms without spans it parks
	// until the next Report. While spans flow, Report never pays for waking it, and each look
	// writes every span reported since as one batch: one write per file instead of one per span
	// when requests come one at a time. A line reaches its file (or Output) at most about 8 ms
	// after its Report; Flush and Close write everything at once, and a queue half full wakes the
	// consumer at once. It is the default.
	Batched Wait = iota
	// Prompt makes the consumer park when the queue is empty (asyncwriter.WaitPark): the next
	// Report wakes it and its line is written at once. Each Report made while it is parked pays
	// for the wake-up (a system call, microseconds on the request path), and spans reported one
	// at a time are written one write each.
	Prompt
)

// Period says when the log files roll by time.
type Period int

const (
	// Daily rolls every file on the first write after local midnight (name.log.2024-05-01). It is
	// the default, as in SOFATracer.
	Daily Period = iota
	// Hourly rolls every hour (name.log.2024-05-01_13).
	Hourly
	// SizeOnly rolls by size only (Config.MaxSizeMB), never by time: rolling.SizeOnly.
	SizeOnly
)

// Defaults of Config.
const (
	DefaultQueueCapacity = 1024
	DefaultStatInterval  = 60 * time.Second
	// MinStatInterval is the shortest stat interval: a shorter one would keep a ticker spinning.
	MinStatInterval      = time.Millisecond
	DefaultMaxValueBytes = 8 << 10
	DefaultLogType       = layout.LogTypeDefault
	// MaxStatKeys is the most stat keys a log type aggregates at once; a new key past it prints
	// them all at once, then clears them (as SOFATracer does: no count is lost), and the self log
	// says so.
	MaxStatKeys = 5000
	// MaxLogTypes is the most distinct log types a reporter opens files for; spans of further log
	// types are written as DefaultLogType, and the self log says so (rate-limited).
	MaxLogTypes = 256
)

// Config configures a Reporter. The zero Config works: JSON lines under $HOME/logs/tracelog (see
// Root), daily rolling kept 7 days, a queue of 1024 spans that drops when full, stats every minute.
//
// One rule holds for every field: 0 (or the zero value) means the default, a negative number means
// what its field says only where one is documented (MaxAgeDays: keep forever; StatInterval: no stat
// logs; MaxValueBytes: no limit), and any other value out of range makes New fail with a *ConfigError
// naming the field. Format, Policy and Rolling read and write their names as text ("csv", "block",
// "hourly"), so a YAML, JSON or environment configuration can set them.
type Config struct {
	// Root is the log root; files go to <Root>/tracelog/ and load-test spans to
	// <Root>/tracelog/shadow/. Empty means $TRACEMDC_LOG_PATH, else $SOFA_TRACER_LOGGING_PATH, else
	// $HOME/logs.
	Root string
	// Format is the line format, JSON (default) or CSV; any other value is an error of New.
	Format Format
	// QueueCapacity is the number of spans the queue holds (rounded up to a power of two); 0 means
	// DefaultQueueCapacity; a negative value or one past asyncwriter.MaxCapacity is an error of New.
	QueueCapacity int
	// Policy is what Report does when the queue is full: Discard (default) or Block; any other
	// value is an error of New.
	Policy Policy
	// Wait is when queued spans are written: Batched (default: within about 8 ms, in batches) or
	// Prompt (at once, a wake-up per span when traffic is sparse); any other value is an error of
	// New.
	Wait Wait
	// Rolling is the time rolling of every file: Daily (default), Hourly or SizeOnly; any other
	// value is an error of New.
	Rolling Period
	// MaxSizeMB rolls a file when it would grow past this many megabytes; 0 means no size limit;
	// negative is an error of New.
	MaxSizeMB int
	// MaxAgeDays is the retention of rolled files in calendar days; 0 means 7, negative forever.
	MaxAgeDays int
	// MaxBackups is the most rolled files kept per log file; 0 means no limit; negative is an error
	// of New.
	MaxBackups int
	// Compress gzips rolled files.
	Compress bool
	// FileMode is the permission of new files; 0 means 0644; bits other than permission bits are an
	// error of New.
	FileMode os.FileMode
	// Location is the time zone of the time fields and of rolling; nil means time.Local.
	Location *time.Location
	// StatInterval is the stat log interval; 0 means DefaultStatInterval, a negative value turns
	// stat logs off, and a positive value below MinStatInterval is an error of New.
	StatInterval time.Duration
	// Disabled lists log types that get neither digest nor stat lines; their spans are counted in
	// Stats.Disabled and go no further.
	Disabled []string
	// Encoders maps log types to their encoders. http-server, http-client, rpc-client and
	// rpc-server have built-in encoders (HTTPServerEncoder, HTTPClientEncoder, RPCClientEncoder,
	// RPCServerEncoder), which an entry here replaces. In other log types without an entry the
	// layout follows the span: an HTTP span (kind server or client, with the request.url and method
	// tags, as tracehttp makes them) gets the HTTP layout of its kind, with the HTTP stat key and
	// success rule (so tracehttp.WithLogType("spring-mvc") alone writes SOFA's Spring MVC layout),
	// and every other span GenericEncoder's. A nil Encoder or an empty log type in the map is an
	// error of New.
	Encoders map[string]Encoder
	// DefaultLogType is the log type of spans that have none; empty means DefaultLogType ("span").
	DefaultLogType string
	// MaxValueBytes is the longest value written; longer values are cut at a character boundary
	// and end with "...(truncated N bytes)". The ids (trace, span, parent) and the span kind are
	// never cut. 0 means DefaultMaxValueBytes, negative no limit.
	MaxValueBytes int
	// LogDroppedIDs writes the trace id and span id of every discarded span to tracer-self.log (at
	// most 100 a second; the rest are counted), besides the counts that are always written.
	LogDroppedIDs bool
	// Zone is the zone written in static-info.log (SOFA's LDC zone); empty by default.
	Zone string
	// Output, when not nil, receives every digest, stat and self-log line too (or only, with
	// OutputOnly): os.Stdout for a container's log collector, or any io.Writer. Each line is one
	// Write call of its own, written off the request path by the consumer (digest lines) and
	// background (stat and self lines) goroutines, never two at once, and names what it is: its log
	// kind, log type and load-test mark (see layout.FieldLogKind). Lost lines are counted
	// (Stats.OutputLost, Stats.OutputErrors) and self-logged, rate-limited; when any was lost, Close
	// writes the total, "Config.Output lost N lines in all, M of them digest lines", as the last line
	// it gives Output, after every other line, so no later Write can change it. The copy in
	// tracer-self.log is made after that Write: its N and M are Stats.OutputErrors and
	// Stats.OutputLost after Close, counting the total line itself if Output refused it (stderr then
	// says the total too). Close does not close it. A writer that several
	// reporters, or a logger too, write to must be safe for concurrent use, as os.Stdout is.
	Output io.Writer
	// OutputOnly sends the lines to Output only: no file is written, no directory created (Root is
	// not used). It needs Output.
	OutputOnly bool
	// Observer, when not nil, is told of every span the stat lines count, with its stat key,
	// result code and success, on the consumer goroutine (see Observer): the hook for metrics, such
	// as the Prometheus ones of module github.com/tracemdc/tracemdc/promdigest. It works with stat
	// logs off too.
	Observer Observer
	// Clock returns the current time for stat and self-log lines and for rolling; nil means
	// time.Now. Span times come from the spans. Meant for tests.
	Clock func() time.Time

	// openFile opens a log file; nil means rolling.New. Tests replace it to inject disk faults.
	openFile func(rolling.Config) (io.WriteCloser, error)
}

// config is Config with its defaults filled in.
type config struct {
	Config
	dir      string // <root>/tracelog
	disabled map[string]bool
	encoders map[string]Encoder
	limit    int
}

func (c Config) resolve() config {
	cfg := config{Config: c}
	if cfg.Root == "" {
		cfg.Root = layout.DefaultRoot()
	}
	cfg.dir = layout.DigestDir(cfg.Root)
	if cfg.QueueCapacity <= 0 {
		cfg.QueueCapacity = DefaultQueueCapacity
	}
	if cfg.Location == nil {
		cfg.Location = time.Local
	}
	if cfg.StatInterval == 0 {
		cfg.StatInterval = DefaultStatInterval
	}
	if cfg.DefaultLogType == "" {
		cfg.DefaultLogType = DefaultLogType
	}
	cfg.DefaultLogType = safeName(cfg.DefaultLogType)
	switch {
	case cfg.MaxValueBytes == 0:
		cfg.limit = DefaultMaxValueBytes
	case cfg.MaxValueBytes > 0:
		cfg.limit = cfg.MaxValueBytes
	}
	if cfg.Clock == nil {
		cfg.Clock = time.Now
	}
	if cfg.openFile == nil {
		cfg.openFile = func(rc rolling.Config) (io.WriteCloser, error) { return rolling.New(rc) }
	}
	cfg.disabled = make(map[string]bool, len(cfg.Disabled))
	for _, t := range cfg.Disabled {
		cfg.disabled[t] = true
	}
	cfg.encoders = map[string]Encoder{LogTypeHTTPServer: httpServerEnc, LogTypeHTTPClient: httpClientEnc,
		LogTypeRPCClient: rpcClientEnc, LogTypeRPCServer: rpcServerEnc}
	for t, e := range cfg.Encoders {
		cfg.encoders[t] = e
	}
	return cfg
}

// rollingConfig returns the rolling configuration of the file name in dir.
func (c *config) rollingConfig(path string) rolling.Config {
	rc := rolling.Config{
		Filename:   path,
		MaxSizeMB:  c.MaxSizeMB,
		Location:   c.Location,
		MaxAgeDays: c.MaxAgeDays,
		MaxBackups: c.MaxBackups,
		Compress:   c.Compress,
		FileMode:   c.FileMode,
		Clock:      c.Clock,
	}
	switch c.Rolling {
	case Hourly:
		rc.Rolling = rolling.Hourly
	case SizeOnly:
		rc.Rolling = rolling.SizeOnly
	default:
		rc.Rolling = rolling.Daily
	}
	return rc
}

// path returns the path of a log file: <dir>/[shadow/]<name>.
func (c *config) path(name string, shadow bool) string {
	if shadow {
		return filepath.Join(c.dir, layout.ShadowDirName, name)
	}
	return filepath.Join(c.dir, name)
}

// safeName makes a log type usable in a file name: characters outside [0-9A-Za-z._-] become '_',
// a leading '.' too, and it is cut to 64 bytes. It allocates only for names it changes.
func safeName(s string) string {
	ok := s != "" && len(s) <= 64 && s[0] != '.'
	for i := 0; ok && i < len(s); i++ {
		ok = nameChar(s[i])
	}
	if ok {
		return s
	}
	if s == "" {
		return "_"
	}
	if len(s) > 64 {
		s = s[:64]
	}
	b := []byte(s)
	for i, c := range b {
		if !nameChar(c) || (i == 0 && c == '.') {
			b[i] = '_'
		}
	}
	return string(b)
}

func nameChar(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c == '.' || c == '_' || c == '-'
}
