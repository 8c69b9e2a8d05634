package digestread

import (
	"fmt"
	"io"
	"os"
)

// ColorFor decides whether output written to w gets ANSI colours, for the value of a -color flag:
// "always", "never", or "auto" (colour only when w is a terminal, NO_COLOR is unset and TERM is not
// "dumb"). Any other value is an error.
func ColorFor(mode string, w io.Writer) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return IsTerminal(w) && os.Getenv("NO_COLOR") == "" && os.Getenv("TERM") != "dumb", nil
	}
	return false, fmt.Errorf("-color must be auto, always or never, not %q", mode)
}

// IsTerminal reports whether w is a character device (a terminal).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}
