// Package asyncwriter takes writes off the caller's path with a disruptor-style ring: many
// producers claim slots with atomics, fill them in place and publish them; one consumer goroutine
// takes every published slot in a batch. Ring[T] carries any items to a Handler. Writer, an
// io.Writer, does the same with lines in a shared byte ring: each line is copied once, into the
// ring, and the consumer hands every contiguous run of waiting lines to the destination in one
// Write, straight from the ring.
//
// Ring is what package digest queues finished spans on. Writer is for a business logger's file: put
// it between a log/slog handler, a zap core (zapcore.AddSync) or logrus and a rolling.File, and a log
// call costs a copy into the ring instead of a write system call; the quickstart demo's frontend logs
// this way.
//
// Block policy never loses an accepted item; Discard policy never waits and counts every drop.
// Close drains everything and stops the goroutine.
//
//	w, err := asyncwriter.NewWriter(file)
//	if err != nil { ... }
//	defer w.Close()
//	w.Write([]byte("one whole line\n"))
package asyncwriter
