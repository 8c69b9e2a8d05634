package digest

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/tracemdc/tracemdc/digest/layout"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/internal/tmpfs"
	"github.com/tracemdc/tracemdc/trace"
)

// selfLogLine is the shape of every tracer-self.log line.
var selfLogLine = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3}(\[ERROR\] |\[WARN\]  |\[INFO\]  )\[[^\]]*\]`)

// lostTotal matches the self-log messages that state a file's total of lost lines.
var lostTotal = regexp.MustCompile(`\]((?:shadow/)?[\w.-]+\.log) (?:fails|at Close|written again after \d+ failed writes): (\d+) lines lost in total$`)

// TestFullDisk: a real full disk never tears a line, and what is lost is said exactly. A 16 MiB tmpfs
// is the log root of a Block reporter; spans are written, the file system is filled (first with a
// little room left, so that writes fail part way), spans go on (a third with 2 KB tags, well past
// the 4 MiB a digest file keeps, some load-test spans to shadow/), the space is freed, more spans,
// Close. Then every line of every file parses (digest lines as digest lines, nothing glued; stat
// lines as JSON; self-log lines in SOFA's shape); the digest lines in the files are Stats.Written;
// written + lost = spans finished, for the whole and per file; and the self log's last total of
// lost lines of each file equals what the file lost. Before, a short write left part of a line
// whose kept rest was then dropped: {"time":"2026-{"time":"2026-12-03 …, and the self log said only
// "86 write messages suppressed".
func TestFullDisk(t *testing.T) {
	root := tmpfs.Mount(t, 16<<20)
	r, err := New(Config{Root: root, Policy: Block, StatInterval: 20 * time.Millisecond, Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	tr := trace.New("full", trace.WithReporter(r))
	big := strings.Repeat("x", 2048)
	finished := map[string]int{} // spans finished per digest file
	n := 0
	spans := func(count int) {
		for i := 0; i < count; i++ {
			var opts []trace.StartOption
			file := layout.DigestFileName(LogTypeHTTPServer)
			if n%10 == 9 {
				opts = append(opts, trace.WithLoadTest())
				file = layout.ShadowDirName + "/" + file
			}
			opts = append(opts, trace.WithKind(trace.KindServer), trace.WithLogType(LogTypeHTTPServer))
			_, s := tr.Start(context.Background(), "GET", opts...)
			s.SetTag("request.url", "http://full/"+strconv.Itoa(n))
			s.SetTag("method", "GET")
			s.SetResultCode("200")
			if n%3 == 0 {
				s.SetTag("note", big) // after SOFA's fields: a 2.4 KB line
			}
			s.Finish()
			finished[file]++
			n++
			if n%100 == 0 {
				r.Flush() // a write per hundred spans
			}
		}
	}
	spans(1000)
	r.Flush()
	filler := tmpfs.Fill(t, root)
	fi, err := os.Stat(filler)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.Truncate(filler, fi.Size()-300<<10); err != nil { // 300 KiB of room: writes fail part way
		t.Fatal(err)
	}
	spans(6000)
	time.Sleep(100 * time.Millisecond) // stat intervals and self-log flushes on the full disk
	if err := os.Remove(filler); err != nil {
		t.Fatal(err)
	}
	spans(1000)
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	st := r.Stats()
	dir := filepath.Join(root, layout.DirName)
	written := map[string]int{}
	for _, rel := range listFiles(t, dir) {
		lines := readLines(t, filepath.Join(dir, rel)) // fails on a file not ending in a line end
		switch {
		case strings.HasSuffix(rel, layout.DigestSuffix):
			for i, l := range lines {
				rec, err := digestread.ParseLine([]byte(l), time.UTC)
				if err != nil || !json.Valid([]byte(l)) || strings.Count(l, `{"time":`) != 1 {
					t.Fatalf("%s line %d is torn or glued (%v): %.300q", rel, i, err, l)
				}
				if rec.TraceID == "" {
					t.Fatalf("%s line %d: %q", rel, i, l)
				}
			}
			written[rel] += len(lines)
		case strings.HasSuffix(rel, layout.StatSuffix):
			for i, l := range lines {
				if !json.Valid([]byte(l)) {
					t.Fatalf("%s line %d is torn or glued: %.300q", rel, i, l)
				}
			}
		case rel == layout.SelfLogName:
			for i, l := range lines {
				if !selfLogLine.MatchString(l) {
					t.Fatalf("%s line %d: %.300q", rel, i, l)
				}
			}
		}
	}
	self := readLines(t, filepath.Join(dir, layout.SelfLogName))
	said := map[string]uint64{} // the last total of lost lines the self log gives per file
	for _, l := range self {
		if m := lostTotal.FindStringSubmatch(l); m != nil {
			said[m[1]], _ = strconv.ParseUint(m[2], 10, 64)
		}
	}
	totalWritten := 0
	for file, f := range finished {
		lost := f - written[file]
		t.Logf("%s: %d spans finished, %d lines written, %d lost; the self log says %d lost in total",
			file, f, written[file], lost, said[file])
		if uint64(lost) != said[file] {
			t.Errorf("%s lost %d lines, the self log says %d", file, lost, said[file])
		}
		totalWritten += written[file]
	}
	t.Logf("stats: %+v", st)
	if uint64(totalWritten) != st.Written || st.Written+st.Lost != uint64(n) || st.Accepted != uint64(n) || st.Lost == 0 {
		t.Fatalf("%d spans finished, %d lines in the files; stats %+v", n, totalWritten, st)
	}
	if st.SelfLogLost != 0 || said[layout.SelfLogName] != 0 {
		t.Errorf("self-log lines lost: %d (the self log says %d)", st.SelfLogLost, said[layout.SelfLogName])
	}
	statFile := layout.StatFileName(LogTypeHTTPServer)
	if st.StatLost != said[statFile]+said[layout.ShadowDirName+"/"+statFile] {
		t.Errorf("stat lines lost: %d, the self log says %d + %d", st.StatLost, said[statFile], said[layout.ShadowDirName+"/"+statFile])
	}
}
