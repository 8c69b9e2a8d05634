// Package rolling writes log files that roll like SOFATracer's: by day or by
// hour (boundaries in local time), by size, with retention in calendar days, a
// maximum number of backups and optional gzip compression. It is what the
// digest, stat and self logs of tracemdc write through.
//
// Shortest use:
//
//	f, err := rolling.New(rolling.Config{Filename: "logs/rpc-client-digest.log", Rolling: rolling.Daily})
//	if err != nil { ... }
//	defer f.Close()
//	f.Write([]byte("one whole line\n"))
//
// # File names
//
// The live file is always Config.Filename. A rolled file (a backup) is named
// after the period its lines belong to: name.log.2024-05-01 (Daily and SizeOnly)
// or name.log.2024-05-01_13 (Hourly), as SOFATracer names them. Further
// backups of the same period (size rolls, or the repeated hour when daylight
// saving time ends) get an increasing index: name.log.2024-05-01.1,
// name.log.2024-05-01.2, ... so backups sort chronologically by (stamp,
// index), with no index meaning 0. Compressed backups add ".gz". [Backups]
// lists them oldest first.
//
// # How much of lumberjack is used, and why
//
// The live file is opened, appended to and closed by a
// gopkg.in/natefinch/lumberjack.v2 Logger (one per File, for the File's whole
// life). Its own rotation and cleanup are switched off (MaxSize set to
// math.MaxInt32 megabytes, about 2 PiB; MaxAge, MaxBackups and Compress left
// zero) and done here instead, because they carry its known problems:
//
//   - Backup names with millisecond resolution: two rotations in one
//     millisecond rename onto the same name and the first backup is lost.
//     Here a backup name is the period stamp plus an index that only grows,
//     and a name is used only if neither it nor its ".gz" exists.
//   - Retention off by the timezone offset: lumberjack formats backup
//     timestamps in local time (LocalTime) but parses them as UTC. Here
//     stamps are written and parsed in the same Location.
//   - A live file deleted (or moved away) by an operator is never re-created:
//     lumberjack keeps writing to the unlinked inode. Here the name is
//     checked with os.Stat/os.SameFile at most once per [CheckInterval] of
//     Clock time, on a Write or on [File.RollIfDue], and reopened when it is
//     gone or replaced.
//   - A single write larger than MaxSize fails. Here it is written whole into
//     a fresh file of its own.
//   - lumberjack's timestamp names and its MaxAge of 24-hour days do not
//     match SOFATracer's daily and hourly names and calendar-day retention
//     anyway.
//
// What is kept from lumberjack is opening, appending to and closing the live
// file. The File creates the live file itself just before (with FileMode), so
// lumberjack always finds it and appends; its create path, with a fixed 0600
// mode and O_TRUNC, is never taken.
//
// # The lumberjack goroutine
//
// lumberjack v2.2.1 starts one goroutine per Logger (Logger.millRun, started
// through a sync.Once on the Logger's first open, which New does) and never
// stops it: Logger.Close closes the file only, and the channel the goroutine
// ranges over is never closed, so it stays blocked receiving for the rest of
// the process. Each later open pokes it, and it returns at once because all
// its cleanup options are zero. Each File keeps a single Logger for its whole
// life (reopening after a roll or a deleted file reuses it), so each File
// costs exactly one such goroutine, never one per roll or reopen. It outlives
// [File.Close]; nothing outside lumberjack can stop it. The File's own
// goroutine (compression and retention) does stop in Close. Tests that check
// for leaked goroutines with go.uber.org/goleak can ignore exactly this one:
//
//	goleak.IgnoreTopFunction("gopkg.in/natefinch/lumberjack%2ev2.(*Logger).millRun")
//
// Like lumberjack, a File assumes it is the only writer of its Filename: two
// Files or two processes must not share one. New refuses a Filename that an
// open File of the same process has, with ErrFileInUse.
package rolling
