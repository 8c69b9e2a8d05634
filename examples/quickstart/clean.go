package main

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"

	"github.com/tracemdc/tracemdc/digest"
	"github.com/tracemdc/tracemdc/rolling"
)

// demoFiles returns the paths of every file a run of the demo writes under dir: the business log of
// each service and its static-info.log, which are plain files appended to (plain), and the files its
// digest reporter rolls under <service>/tracelog/ (the HTTP digest and stat logs, also under shadow/,
// and tracer-self.log). Rolled backups are not listed (see clearEarlierRun); the plain files have none.
func demoFiles(dir string) (plain, rolled []string) {
	for _, d := range demoServices {
		tl := filepath.Join(dir, d.name, "tracelog")
		plain = append(plain, filepath.Join(dir, d.name+".log"), filepath.Join(tl, "static-info.log"))
		rolled = append(rolled, filepath.Join(tl, "tracer-self.log"))
		for _, sub := range []string{tl, filepath.Join(tl, "shadow")} {
			for _, lt := range []string{digest.LogTypeHTTPServer, digest.LogTypeHTTPClient} {
				rolled = append(rolled, filepath.Join(sub, lt+"-digest.log"), filepath.Join(sub, lt+"-stat.log"))
			}
		}
	}
	return plain, rolled
}

// markerName is the file a run leaves in its logs directory. Only where it is found does the next run
// clear the files of the earlier one: a directory the demo has not written to (another program's logs
// under the same names, say) is never cleared, only appended to.
const markerName = ".tracemdc-quickstart"

const markerText = "Written by go run ./examples/quickstart. Its next run here first removes the log files it\n" +
	"wrote in this directory (and only those). Delete this file to keep them: the next run then appends.\n"

// writeMarker records in dir that the demo writes its files there (see markerName).
func writeMarker(dir string) error {
	return os.WriteFile(filepath.Join(dir, markerName), []byte(markerText), 0o644)
}

// clearEarlierRun removes the files an earlier run of the demo left under dir, and the rolled
// backups of those the reporter rolls (a run on another day leaves http-server-digest.log.2024-05-01
// and the like), so that each run's logs, and what tracetail shows of them, hold that run only. It
// removes only regular files of the names the demo writes (demoFiles): other files (orders.log.2024-05-01
// next to a business log, which the demo never rolls, included), directories and symbolic links are
// left alone, and so are the directories. Without the marker file of an earlier run (markerName)
// it removes nothing. It returns how many files it removed.
func clearEarlierRun(dir string) (int, error) {
	removed := 0
	if fi, err := os.Lstat(filepath.Join(dir, markerName)); err != nil || !fi.Mode().IsRegular() {
		if err != nil && !absent(err) {
			return 0, fmt.Errorf("clear the earlier run: %w", err)
		}
		return 0, nil
	}
	plain, rolled := demoFiles(dir)
	for i, p := range append(rolled, plain...) {
		var backups []string
		if i < len(rolled) {
			var err error
			if backups, err = rolling.Backups(p); err != nil && !absent(err) {
				return removed, fmt.Errorf("clear the earlier run: %w", err)
			}
		}
		for _, f := range append(backups, p) {
			fi, err := os.Lstat(f)
			if err != nil {
				if absent(err) {
					continue
				}
				return removed, fmt.Errorf("clear the earlier run: %w", err)
			}
			if !fi.Mode().IsRegular() {
				continue // not a file the demo writes: leave it (opening it will fail and say why)
			}
			if err := os.Remove(f); err != nil && !absent(err) {
				return removed, fmt.Errorf("clear the earlier run: %w", err)
			}
			removed++
		}
	}
	return removed, nil
}

// absent reports whether err says that a path does not exist or that one of its parents is not a
// directory: there is nothing to remove.
func absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}
