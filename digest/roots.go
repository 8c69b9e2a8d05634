package digest

import (
	"errors"
	"path/filepath"
	"sync"
)

// ErrRootInUse is returned by New when another open Reporter of this process writes to the same
// tracelog directory: two reporters would each roll and prune the same files (see package rolling,
// which allows one writer per file name). Share one Reporter between tracers instead — every line
// carries its span's own local.app — or give each its own Root.
var ErrRootInUse = errors.New("digest: the log directory is already used by another open Reporter")

// roots holds the tracelog directories of the open Reporters of this process.
var roots struct {
	sync.Mutex
	open map[string]bool
}

// claimRoot registers dir for a new Reporter; releaseRoot gives it back on Close.
func claimRoot(dir string) (string, error) {
	key, err := filepath.Abs(dir)
	if err != nil {
		key = filepath.Clean(dir)
	}
	roots.Lock()
	defer roots.Unlock()
	if roots.open[key] {
		return "", ErrRootInUse
	}
	if roots.open == nil {
		roots.open = map[string]bool{}
	}
	roots.open[key] = true
	return key, nil
}

func releaseRoot(key string) {
	roots.Lock()
	delete(roots.open, key)
	roots.Unlock()
}
