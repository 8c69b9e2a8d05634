// Package digest writes SOFATracer-compatible digest and stat logs for package trace: a Reporter
// turns every finished sampled span into exactly one line of <root>/tracelog/<logType>-digest.log
// (load-test spans: tracelog/shadow/), aggregates every span into <logType>-stat.log lines once per
// interval, and writes the tracer's own errors, rate-limited, to tracer-self.log. All of it happens
// off the request path, on one consumer goroutine fed by an asyncwriter.Ring.
//
//	r, err := digest.New(digest.Config{}) // JSON, $HOME/logs/tracelog, daily rolling, 1024-span queue
//	if err != nil { ... }
//	defer r.Close()
//	tracer := trace.New("shop", trace.WithReporter(r))
//
// # Lines
//
// A digest line holds, in this order: time (span end, yyyy-MM-dd HH:mm:ss.SSS in Config.Location),
// local.app, traceId, spanId, span.kind, result.code, current.thread.name, time.cost.milliseconds
// ("<n>ms"), then the fields of the log type's Encoder, then sys.baggage and biz.baggage (k=v&k=v&,
// with '%', '&' and '=' escaped as %25, %26, %3D). The built-in encoders write the SOFA HTTP layouts
// (http-server: request.url, method, req.size.bytes, resp.size.bytes, error, the sizes written 5B in
// CSV as SOFA's Spring MVC layout does; http-client: the same with remote.app instead of error, sizes
// without a unit, and in JSON lines an error key after remote.app when the span has an error text,
// which SOFA's client layout has no field for); other log types get operation and their tags. Go has
// no thread names: current.thread.name is the span's TagThreadName tag when set, else "goroutine".
// The layout follows what the span is, not its file name: in a log type without an encoder of its
// own (say "spring-mvc"), an HTTP span (server or client, with the request.url and method tags) gets
// the HTTP layout of its side and its stat key and success rule; other spans the generic layout.
//
// After SOFA's fields, JSON lines carry what SOFA's layouts have no field for: an HTTP span's tags
// that are not fields of its layout (a handler's span.SetTag("user.tier", "gold") gives
// "user.tier":"gold"; numbers and booleans keep their type), in the order they were first set; then
// parent.span.id when the span has a parent and its id is not rpcId-style (W3C ids, whose parent
// cannot be read off the id), so tracetail -tree can build the tree. CSV lines keep SOFA's columns
// exactly and carry neither. Tags named like a common or baggage field, or like the keys a
// Config.Output line starts with (log.kind, log.type, log.shadow), are left out.
//
// rpc-client and rpc-server spans get SOFARPC's own layout instead (RPCClientEncoder,
// RPCServerEncoder): "timestamp", "tracerId", "spanId", …, "baggage" in SOFARPC's documented key order,
// numbers as JSON strings, every value escaped. An Encoder that writes whole lines like these
// implements LineEncoder; in CSV such log types keep the common columns.
//
// Every value is escaped, so no line holds a raw control byte (JSON: quotes, backslashes, the ASCII
// control characters and DEL as \n, \r, \t or \u00XX, U+2028/2029, invalid UTF-8 replaced; CSV: %,
// comma and the ASCII control characters and DEL as %XX of their code: %25, %2C, %0A, %1B, %7F),
// and cut at Config.MaxValueBytes with a "...(truncated N bytes)" marker (the ids and the span kind
// never), so one span is always exactly one line. Encoding reuses the reporter's buffers: no allocation per span once they have
// grown.
//
// # Stat lines
//
// Every span, sampled or not, counts in the stat table of its log type, keyed by local.app and
// request.url + method (spans of the HTTP layouts; request.url is the route template, such as
// /orders/{id}, when the span has one: trace.Span.SetRoute, which tracehttp's middleware sets from
// Go's ServeMux pattern, so every id of a route is one key), remote.app + service + method (rpc
// encoders, without the load-test field, as SOFARPC) or the operation (others), plus success and the
// load-test mark. Success is SOFA's rule: an HTTP status 1xx, 2xx, 301 or 302 (clients also
// "00"); "00" or blank for rpc log types (SOFARPC's rule); "00" for the others. A span of a log
// type without an HTTP encoder that set no result code is written, and counted, with "99" if it
// has an error and "00" if not (SOFATracer would leave the field empty, a failure).
// An HTTP span without a status gets "99" if it has an error (a client call that got no response,
// as SOFATracer's RestTemplate plugin writes it) and keeps the empty code
// if not; both count as failures, and tracetail -errors lists them. Each interval
// (Config.StatInterval) prints one line per key with count > 0, and Close prints the partial last
// interval; load-test keys go to shadow/. A new key in a table of MaxStatKeys keys prints the table
// at once, before the interval ends, then clears it (as SOFATracer: no count is lost), and the self
// log says so.
//
// # Queue, errors and Close
//
// With the Discard policy (the default) a full queue drops the span, counted in Stats.Discarded
// and written to the self log once a second (with every dropped id when Config.LogDroppedIDs is
// on); Block makes Report wait instead. Each file's lines of a batch are written with one Write.
// By default (Config.Wait Batched) the consumer sleeps between looks at the queue, so a Report
// never pays for waking it while spans flow, and a line reaches its file within about 8 ms (Flush
// and Close write everything at once); Prompt writes each line as soon as its span is reported, at
// the price of a wake-up on the request path for each span that finds the consumer idle.
//
// A file never holds a torn line, a full disk included: a Write that fails part way is taken back to
// the last whole line it wrote (see rolling.File.Write). What a failed write did not write is
// counted, self-logged (rate-limited) and kept, whole lines only, to be written first with the next
// batch: up to 4 MiB per digest file, 1 MiB per stat file, 256 KiB for tracer-self.log; beyond that
// the kept lines are given up and counted (Stats.Lost, StatLost, SelfLogLost). Every count reaches
// the self log: when a file gives lines up, when it works again, and at Close, a line states its
// total, "http-server-digest.log written again after 57 failed writes: 2709 lines lost in total".
// Such a line is never rate-limited away; a later total of the same file replaces one not yet
// written. So after Close, spans finished = Written + Lost (+ the other counts of Stats), and the
// last total the self log gives for a file is what that file lost. A tracer-self.log line is
// SOFATracer's yyyy-MM-dd HH:mm:ss.SSS, a level prefix padded to 8 characters ("[ERROR] ",
// "[WARN]  ", "[INFO]  "), then [traceId]msg, one per event: line ends and other
// control characters of a message are escaped (\n, \u00XX), quotes are left as they are, and
// [traceId] holds the trace the event concerns when there is one (a depth reset, a discarded span
// id). Close drains the queue, writes the last stat interval and closes every file. Each open log
// file costs one goroutine of lumberjack that outlives Close (see package rolling, which gives the
// goleak option that ignores it).
//
// # Lines on stdout or any io.Writer
//
// Config.Output sends every digest, stat and self-log line to an io.Writer besides the files, or
// instead of them with Config.OutputOnly (no file, no directory): os.Stdout for a container whose
// log collector (Fluent Bit, Vector, Filebeat) ships stdout. The lines take the same road as the
// files' — the queue, its policy, the consumer and background goroutines — so the request path
// never writes to the pipe, Discard drops and counts when a stalled pipe fills the queue, and Block
// waits. Each line is one Write call of its own, so it interleaves with the program's own logger on
// the same stdout without tearing: writers sharing os.Stdout are serialized by Go's lock on the
// file, whatever a line's length; on a pipe the kernel keeps whole any write of at most PIPE_BUF
// bytes (4096 on Linux) against writes through another descriptor or from another process, while a
// longer one may be split where the pipe is full. Since no file name says what a line is, each line says it
// itself: a JSON line starts with "log.kind" (digest, stat or self), "log.type" and, for a load-test
// span, "log.shadow":true; a CSV line starts with the columns kind,type,T|F; self lines are JSON
// objects on a JSON stream (see package digest/layout). A failed Write loses that line, counted in
// Stats.OutputLost (digest lines) and Stats.OutputErrors (every kind), and a fragment it left is
// ended before the next line, so no two lines merge.
//
// # Metrics
//
// Config.Observer is told of every span the stat lines count, with the stat key, result code,
// success and duration the stat aggregation derived, on the consumer goroutine: module
// github.com/tracemdc/tracemdc/promdigest turns it into Prometheus counters and histograms.
package digest
