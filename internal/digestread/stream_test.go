package digestread_test

import (
	"bytes"
	"context"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/internal/digestread"
	"github.com/tracemdc/tracemdc/slogmdc"
	"github.com/tracemdc/tracemdc/trace"
)

// TestReadStream: a container's stdout as kubectl logs saves it — a reporter's digest, stat and self
// lines (digest.Config.Output) mixed with the service's slog lines — read as a digest file: every
// digest line is a record with the log type and load-test mark its line names, whatever the file's
// name; the other lines are skipped.
func TestReadStream(t *testing.T) {
	for _, format := range []digest.Format{digest.JSON, digest.CSV} {
		t.Run(format.String(), func(t *testing.T) { testReadStream(t, format) })
	}
}

// testReadStream is TestReadStream in one format: in CSV a stream line starts with the columns
// kind,type,T|F (a CSV stream's digest lines were all malformed before).
func testReadStream(t *testing.T, format digest.Format) {
	var stream bytes.Buffer
	r, err := digest.New(digest.Config{Output: &stream, OutputOnly: true, Policy: digest.Block, Format: format})
	if err != nil {
		t.Fatal(err)
	}
	logger := slog.New(slogmdc.New(slog.NewJSONHandler(&stream, nil)))
	tr := trace.New("pod", trace.WithReporter(r))
	for i, lt := range []string{"http-server", "rpc-server", "job", "http-server"} {
		var opts []trace.StartOption
		if i == 3 {
			opts = append(opts, trace.WithLoadTest())
		}
		ctx, s := tr.Start(context.Background(), "op", append(opts, trace.WithLogType(lt))...)
		logger.InfoContext(ctx, "working") // ids in the line, but not a digest line
		s.SetResultCode("00")
		s.Finish()
		r.Flush() // the logger and the reporter take turns on the buffer
	}
	r.ReportError(os.ErrPermission)   // a self line
	if err := r.Close(); err != nil { // and the stat lines
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "pod.log")
	if err := os.WriteFile(path, stream.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	var got []string
	st, err := digestread.ScanFile(digestread.DigestFile{Path: path, LogType: "pod"}, digestread.ReadOptions{},
		func(rec *digestread.Record) error {
			mark := ""
			if rec.LoadTest {
				mark = "+load"
			}
			got = append(got, rec.LogType+mark)
			return nil
		})
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"http-server", "rpc-server", "job", "http-server+load"}
	if len(got) != len(want) || got[0] != want[0] || got[1] != want[1] || got[2] != want[2] || got[3] != want[3] {
		t.Fatalf("records %q, want %q", got, want)
	}
	if st.Records != 4 || st.Malformed < 4+1+1 { // 4 slog lines, a self line, stat lines
		t.Fatalf("stats %+v", st)
	}
}
