package rolling_test

import (
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"github.com/tracemdc/tracemdc/rolling"
)

// A daily file rolls on the first write after midnight; the backup is named
// for the day of its lines. The clock is faked to show it.
func Example() {
	dir, err := os.MkdirTemp("", "rolling-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	var now atomic.Int64 // Unix seconds of the fake clock
	now.Store(time.Date(2024, 5, 1, 23, 59, 0, 0, time.UTC).Unix())

	f, err := rolling.New(rolling.Config{
		Filename: filepath.Join(dir, "rpc-client-digest.log"),
		Rolling:  rolling.Daily,
		Location: time.UTC,
		Clock:    func() time.Time { return time.Unix(now.Load(), 0) },
	})
	if err != nil {
		panic(err)
	}
	fmt.Fprintln(f, "a line of May 1st")
	now.Add(120) // 00:01 on May 2nd
	fmt.Fprintln(f, "a line of May 2nd")
	if err := f.Close(); err != nil {
		panic(err)
	}

	backups, _ := rolling.Backups(f.Name())
	for _, b := range backups {
		data, _ := os.ReadFile(b)
		fmt.Printf("%s: %s", filepath.Base(b), data)
	}
	data, _ := os.ReadFile(f.Name())
	fmt.Printf("%s: %s", filepath.Base(f.Name()), data)
	// Output:
	// rpc-client-digest.log.2024-05-01: a line of May 1st
	// rpc-client-digest.log: a line of May 2nd
}

// Size rolling: a write that would take the file past MaxSizeMB first moves
// it aside, so no line is ever split between two files.
func ExampleConfig_size() {
	dir, err := os.MkdirTemp("", "rolling-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	f, err := rolling.New(rolling.Config{
		Filename:   filepath.Join(dir, "tracer-self.log"),
		MaxSizeMB:  100,
		MaxAgeDays: 7,
		MaxBackups: 20,
		Compress:   true,
	})
	if err != nil {
		panic(err)
	}
	defer f.Close()
	fmt.Fprintln(f, "started")
	fmt.Println(filepath.Base(f.Name()))
	// Output: tracer-self.log
}

// Rotate forces a roll, for example on SIGHUP; on an empty file it only
// reopens (re-creating a file removed from outside).
func ExampleFile_Rotate() {
	dir, err := os.MkdirTemp("", "rolling-example")
	if err != nil {
		panic(err)
	}
	defer os.RemoveAll(dir)

	f, err := rolling.New(rolling.Config{Filename: filepath.Join(dir, "app.log"), Location: time.UTC,
		Clock: func() time.Time { return time.Date(2024, 5, 1, 8, 0, 0, 0, time.UTC) }})
	if err != nil {
		panic(err)
	}
	defer f.Close()
	for i := 0; i < 3; i++ {
		fmt.Fprintf(f, "line %d\n", i)
		if err := f.Rotate(); err != nil {
			panic(err)
		}
	}
	backups, _ := rolling.Backups(f.Name())
	for _, b := range backups {
		fmt.Println(filepath.Base(b))
	}
	// Output:
	// app.log.2024-05-01
	// app.log.2024-05-01.1
	// app.log.2024-05-01.2
}
