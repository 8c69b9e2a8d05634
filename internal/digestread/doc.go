// Package digestread reads the digest logs that tracemdc (and the Java SOFATracer) write: it parses
// JSON and CSV digest lines into Records, streams big and rotated files in bounded memory, follows
// files like `tail -F`, builds the span tree of one trace with a waterfall rendering, and finds the
// business log lines that carry a trace id. It is the engine of cmd/tracetail and of package
// tracetree, the public form of the command's -tree mode (which the quickstart demo uses).
//
// The shortest use prints the tree of one trace found under the default digest directory:
//
//	files := digestread.FindFiles(true, layout.DigestDir(layout.DefaultRoot()))
//	recs, _, _ := digestread.CollectTrace(files, traceID, digestread.ReadOptions{})
//	digestread.RenderTree(os.Stdout, digestread.BuildTree(recs), digestread.RenderOptions{})
package digestread
