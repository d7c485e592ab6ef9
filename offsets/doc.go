// Package offsets stores where in the binlog a stream has got to, so that a
// restarted sluice resumes exactly where Kafka's committed data ends.
//
// # What a position means
//
// A Position names the point after the last event of a source transaction:
// a binlog file and offset, plus the GTID set executed up to there. Reading
// resumes only at such a point, never inside a transaction, so a resumed
// stream starts with a whole transaction. A saved position is always one
// whose transaction Kafka has already committed.
//
// # The protocol
//
// The worker writes records into a Kafka transaction as it reads rows.
// When a source transaction ends, its end position becomes pending. The
// Kafka transaction is committed at such a boundary once the commit
// interval has passed or enough records are waiting. A commit goes:
//
//  1. Produce the pending position, keyed by stream id, to the compacted
//     positions topic inside the same Kafka transaction as the changes it
//     covers.
//  2. Commit the Kafka transaction. Changes and position become visible to
//     read_committed consumers together, or, on abort, not at all.
//  3. Save the position to the tracker that SLUICE_OFFSETS_TYPE names: a
//     file (temporary file, fsync, rename, fsync of the directory), a blob,
//     or a table row. With the kafka tracker, step 1 is the only save.
//
// The tracker is never ahead of Kafka: it saves only after step 2. A crash
// between steps 2 and 3 leaves the tracker one or more commits behind; the
// positions topic then holds the newer position.
//
// # Start
//
//  0. Take the tracker's hold on the stream when the tracker is a Holder:
//     a file lock, or a blob lease. A second worker of the same stream
//     stops here, before it can fence the first. A hold that is lost later
//     stops the worker before its next commit.
//  1. Initialize the transactional producer (transactional id
//     "sluice-<stream>"). The broker fences any older producer with that id
//     and aborts the transaction it left open, so its records never become
//     visible and nothing it wrote is counted twice.
//  2. Read the stream's newest position from the positions topic with
//     read_committed isolation, and the position from the tracker.
//  3. Resume from the newer of the two. When neither exists, start at the
//     server's current binlog position and save it at once, so that a stop
//     before the first commit cannot skip changes made meanwhile.
//
// Every Kafka transaction ends at a source transaction boundary, or at a
// rows event boundary of a split transaction (below), and carries its own
// end position. So the position resumed from is exactly the end of
// the last committed data. No change is lost, because nothing after that
// position was committed. No change is duplicated, because nothing before
// it is read again.
//
// # Transactions too large for one Kafka transaction
//
// A source transaction still being read when the open Kafka transaction
// has lasted half of SLUICE_TRANSACTION_TIMEOUT is split. The Kafka
// transaction is committed after the last rows event read. Its position
// names the source transaction's start and how many of its rows events are
// committed (SkipRowsEvents). A restart reads that transaction
// from its start and drops those rows events. Consumers see such a source
// transaction in parts, and sluice logs each split.
//
// # Keeping the position fresh
//
// Every transaction end moves the pending position, also for transactions
// that touch no captured table, and so does every binlog rotation. Such a
// position is committed in a Kafka transaction with only the position
// record. That happens at once when it reaches a new binlog file, and else
// at most every 10 seconds, because with a tracker table on the source
// server each save is a transaction of its own. A stream whose tables stay quiet thus keeps a
// position in a binlog file that the server still has. A start from a
// position whose file was purged stops with an error that names the
// position and the ways out, unless SLUICE_PURGED_POSITION=current asks to
// start at the server's current position.
//
// A position saved by one server is not valid on another: start refuses a
// position whose server_id differs from the source's.
package offsets
