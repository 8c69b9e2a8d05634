package rolling

import (
	"errors"
	"path/filepath"
	"sync"
)

// ErrFileInUse is returned by New when another open File of this process has the same Filename:
// each would roll, compress and prune the other's backups (see File). Close the first, or share it.
// Two processes writing one file are not detected.
var ErrFileInUse = errors.New("rolling: the file is already open in another File")

// inUse holds the absolute names of the open Files of this process.
var inUse struct {
	sync.Mutex
	names map[string]bool
}

// claimName registers name for a new File; releaseName gives it back on Close (or when New fails).
func claimName(name string) (string, error) {
	key, err := filepath.Abs(name)
	if err != nil {
		key = filepath.Clean(name)
	}
	inUse.Lock()
	defer inUse.Unlock()
	if inUse.names[key] {
		return "", ErrFileInUse
	}
	if inUse.names == nil {
		inUse.names = map[string]bool{}
	}
	inUse.names[key] = true
	return key, nil
}

func releaseName(key string) {
	inUse.Lock()
	delete(inUse.names, key)
	inUse.Unlock()
}
