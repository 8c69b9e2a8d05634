package layout

// A line sent to a stream (stdout in a container, any io.Writer: digest.Config.Output) has no file
// name to say what it is, so it says so itself. A JSON line starts with the keys FieldLogKind and
// FieldLogType, then FieldLogShadow on a load-test line only, then the fields of the line as its file
// would hold it:
//
//	{"log.kind":"digest","log.type":"http-server","time":"2024-05-01 12:00:00.015","local.app":"shop",…}
//	{"log.kind":"stat","log.type":"http-server","log.shadow":true,"time":…,"stat.key":{…},…}
//	{"log.kind":"self","time":"2024-05-01 12:00:01.000","level":"WARN","traceId":"","msg":"…"}
//
// A self line, plain text in tracer-self.log, is a JSON object on a JSON stream: FieldTime,
// FieldSelfLevel (ERROR, WARN, INFO), FieldTraceID and FieldSelfMessage. A CSV line starts with three
// columns, the log kind, the log type (empty for a self line) and the shadow mark (LoadTestValue or
// "F"), then the line exactly as its file holds it (for a self line, SOFATracer's self-log text):
//
//	digest,http-server,F,2024-05-01 12:00:00.015,shop,0ad1348f1403169275002100356696,…
//	self,,F,2024-05-01 12:00:01.000[WARN]  []discarded 3 spans (total 3): the queue of 1024 was full
const (
	FieldLogKind   = "log.kind"   // LogKindDigest, LogKindStat or LogKindSelf
	FieldLogType   = "log.type"   // the log type that names the line's files (<type>-digest.log)
	FieldLogShadow = "log.shadow" // true on the line of a load-test span (files: under ShadowDirName)

	FieldSelfLevel   = "level" // a self line's level, without brackets: ERROR, WARN or INFO
	FieldSelfMessage = "msg"   // a self line's message
)

// Values of FieldLogKind: which file the line would go to.
const (
	LogKindDigest = "digest" // <type>-digest.log
	LogKindStat   = "stat"   // <type>-stat.log
	LogKindSelf   = "self"   // tracer-self.log
)
