package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"regexp"
	"syscall"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/rs/zerolog"
	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/sink"
	"github.com/sluice-cdc/sluice/source"
)

// worker moves changes from one source server to Kafka. Its position only
// moves after Kafka has committed the transaction that carries it.
type worker struct {
	cfg *Config
	log zerolog.Logger

	sourceCfg source.Config
	server    *source.Server
	producer  *sink.Producer
	tracker   *offsets.FileTracker
	encoder   *codec.JSON
	options   codec.Options
	// operations are the codes of the operations to emit: c, u, d, t.
	operations map[string]bool

	topics map[string]string // topic names by db.table
	// skipped counts the records left out for their size, by topic.
	skipped map[string]int

	// committed is the position that Kafka and the tracker both hold.
	// pending is the end of the last whole source transaction read, which
	// the open Kafka transaction will commit.
	committed offsets.Position
	pending   offsets.Position
	// uncommitted is true while pending is ahead of committed.
	uncommitted bool
	// recordsAtEnd is the number of records in the open Kafka transaction
	// when the last source transaction ended.
	recordsAtEnd int
	// lastCommit is when the last Kafka transaction ended.
	lastCommit time.Time
}

// run starts the worker and streams until stop is done, then finishes the
// open source transaction if it can, commits, and returns nil. Any other
// return is an error that should end the process with a non-zero status.
func (w *worker) run(stop context.Context) error {
	if err := w.start(stop); err != nil {
		return err
	}
	defer w.producer.Close()

	// failures counts lost connections since the committed position last
	// moved; failedAt is the committed position at the last one.
	failures := 0
	var failedAt offsets.Position
	for {
		err := w.stream(stop)
		if err == nil {
			return nil
		}
		if !retryableSourceError(err) {
			return errors.Join(err, w.commitBeforeFailure())
		}
		// The broken source transaction may have sent part of its rows into
		// the open Kafka transaction, so that transaction is dropped and the
		// stream resumes from the last committed position.
		if abortErr := w.producer.Abort(context.Background()); abortErr != nil {
			return errors.Join(err, abortErr)
		}
		if failures > 0 && w.committed.Compare(failedAt) > 0 {
			failures = 0 // the stream made progress since the last failure
		}
		failures++
		failedAt = w.committed
		if failures > 8 {
			return fmt.Errorf("the binlog connection failed %d times in a row: %w", failures, err)
		}
		delay := backoff(failures)
		w.log.Warn().Err(err).Int("attempt", failures).Dur("retry_in", delay).
			Str("position", w.committed.String()).Msg("binlog connection lost; resuming from the last committed position")
		select {
		case <-stop.Done():
			return nil
		case <-time.After(delay):
		}
		w.pending = w.committed
		w.uncommitted = false
	}
}

// commitBeforeFailure commits the whole source transactions read before a
// fatal error, so that a stream stopping at a bad event still delivers
// everything before it, and its position stops right before that event.
// When the failing transaction had already put records into the open Kafka
// transaction, those cannot be taken out: the Kafka transaction is aborted
// and the whole transactions are read and produced again.
func (w *worker) commitBeforeFailure() error {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.TransactionTimeout)
	defer cancel()
	if !w.uncommitted {
		return w.producer.Abort(ctx)
	}
	if w.producer.Records() == w.recordsAtEnd {
		return w.commit(ctx)
	}

	target := w.pending
	if err := w.producer.Abort(ctx); err != nil {
		return err
	}
	w.pending, w.uncommitted = w.committed, false
	w.log.Info().Str("from", w.committed.String()).Str("to", target.String()).
		Msg("committing the transactions read before the error")

	reader, err := source.NewReader(&w.sourceCfg, w.server, w.committed, w.log)
	if err != nil {
		return err
	}
	defer reader.Close()
	for {
		step, err := reader.Next(ctx)
		if err != nil {
			return fmt.Errorf("read again up to %s: %w", target, err)
		}
		for i := range step.Changes {
			if err := w.produce(&step.Changes[i]); err != nil {
				return err
			}
		}
		if err := w.produceStatement(&step); err != nil {
			return err
		}
		if step.End {
			w.pending, w.uncommitted = step.Position, true
			if step.Position.Compare(target) >= 0 {
				return w.commit(ctx)
			}
		}
	}
}

// backoff returns the wait before retry attempt n: exponential from 250ms,
// capped at 10s, with up to 20 % jitter.
func backoff(n int) time.Duration {
	d := 250 * time.Millisecond << min(n-1, 6)
	d = min(d, 10*time.Second)
	return d - time.Duration(time.Now().UnixNano()%int64(d/5+1))
}

// retryableSourceError decides whether a failure to read the binlog is a
// lost connection worth reconnecting for. Everything else is fatal: bad
// data, access denied, a purged binlog.
func retryableSourceError(err error) bool {
	var myErr *mysql.MyError
	switch {
	case errors.Is(err, source.ErrStatementDML), errors.Is(err, source.ErrPartialRowImage):
		return false
	case errors.As(err, &myErr):
		// The server ended the session: it is shutting down, or an operator
		// killed the connection (1927 is MariaDB's ER_CONNECTION_KILLED).
		// Any other server error is a refusal that reconnecting would not
		// change.
		switch myErr.Code {
		case mysql.ER_SERVER_SHUTDOWN, mysql.ER_QUERY_INTERRUPTED, 1927:
			return true
		}
		return false
	case errors.Is(err, mysql.ErrBadConn), errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.EPIPE):
		return true
	}
	var netErr net.Error
	return errors.As(err, &netErr)
}

// start checks the source, connects to Kafka and settles the position to
// resume from.
func (w *worker) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.StartupTimeout)
	defer cancel()

	server, err := source.Inspect(ctx, &w.sourceCfg)
	if err != nil {
		return err
	}
	w.server = server
	w.log.Info().Str("version", server.Version).Str("flavor", server.Flavor).Uint32("server_id", server.ServerID).
		Str("binlog_row_metadata", server.RowMetadata).Msg("source server checked")
	if server.RowMetadata != "FULL" {
		w.log.Warn().Str("binlog_row_metadata", server.RowMetadata).
			Msg("the binlog carries no column names: sluice reads them from information_schema and keeps a schema history. " +
				"A table changed while sluice is stopped can only be read from positions after the change; binlog_row_metadata=FULL avoids this")
	}

	w.producer, err = sink.New(ctx, sink.Config{
		Brokers:            w.cfg.KafkaBrokers,
		TransactionalID:    "sluice-" + w.cfg.StreamID,
		Partitions:         w.cfg.TopicPartitions,
		ReplicationFactor:  w.cfg.TopicReplicationFactor,
		TransactionTimeout: w.cfg.TransactionTimeout,
		MaxRecordBytes:     w.cfg.MaxRecordBytes,
	})
	if err != nil {
		return err
	}
	if err := w.settlePosition(ctx); err != nil {
		w.producer.Close()
		return err
	}

	w.encoder = &codec.JSON{Connector: server.Connector(), Name: w.cfg.TopicPrefix, Version: version, Options: w.options}
	w.topics = map[string]string{}
	w.skipped = map[string]int{}
	if w.cfg.SchemaChangesTopic != "" {
		if err := w.producer.EnsureTopic(ctx, w.cfg.SchemaChangesTopic, nil); err != nil {
			w.producer.Close()
			return err
		}
	}
	w.pending = w.committed
	w.lastCommit = time.Now()
	return nil
}

// settlePosition picks the position to resume from: the newer of the one
// in the file tracker and the one committed to the positions topic. The
// topic is ahead when sluice stopped between a Kafka commit and the file
// save. It is never behind, because the file is saved only after a commit.
func (w *worker) settlePosition(ctx context.Context) error {
	if err := w.producer.EnsureTopic(ctx, w.cfg.PositionsTopic, offsets.TopicConfigs); err != nil {
		return err
	}
	saved, err := w.tracker.Load(ctx, w.cfg.StreamID)
	if err != nil {
		return err
	}
	inKafka, err := offsets.LatestInTopic(ctx, w.producer.Client(), w.cfg.KafkaBrokers, w.cfg.PositionsTopic, w.cfg.StreamID)
	if err != nil {
		return err
	}

	position := saved
	switch {
	case saved.IsZero() && inKafka.IsZero():
		position, err = source.CurrentPosition(ctx, &w.sourceCfg, w.server)
		if err != nil {
			return err
		}
		w.log.Info().Str("position", position.String()).Msg("no saved position; starting at the server's current binlog position")
	case saved.IsZero() || saved.Compare(inKafka) < 0:
		w.log.Info().Str("file_position", saved.String()).Str("kafka_position", inKafka.String()).
			Msg("Kafka holds a newer committed position than the position file; resuming from Kafka's")
		position = inKafka
	default:
		w.log.Info().Str("position", position.String()).Msg("resuming from the saved position")
	}

	if position.ServerID != 0 && position.ServerID != w.server.ServerID {
		return fmt.Errorf("the saved position %s was taken from the server with server_id %d, but %s:%d has server_id %d; "+
			"a binlog position is only valid on the server that wrote it: point sluice at the original server, "+
			"or use a new SLUICE_STREAM_ID to start from the current position",
			position, position.ServerID, w.cfg.MySQLHost, w.cfg.MySQLPort, w.server.ServerID)
	}
	position.ServerID = w.server.ServerID

	// Saving at once means a restart never falls back to "current position"
	// and skips changes made while sluice was down.
	if err := w.tracker.Save(ctx, w.cfg.StreamID, position); err != nil {
		return err
	}
	w.committed = position
	return nil
}

// stream reads from the committed position until stop is done or reading
// fails.
func (w *worker) stream(stop context.Context) error {
	reader, err := source.NewReader(&w.sourceCfg, w.server, w.committed, w.log)
	if err != nil {
		return err
	}
	defer reader.Close()

	// drainDeadline is set once stop is done while a source transaction is
	// open: reading goes on until it ends or the shutdown timeout passes.
	var drainDeadline time.Time
	var contexts readContexts
	defer contexts.release()
	for {
		step, err := reader.Next(w.readContext(&contexts, stop, drainDeadline))

		if err != nil {
			switch {
			case stop.Err() != nil && drainDeadline.IsZero() && reader.InTransaction() && w.cfg.ShutdownTimeout > 0:
				drainDeadline = time.Now().Add(w.cfg.ShutdownTimeout)
				w.log.Info().Msg("stopping: finishing the open source transaction first")
				continue
			case stop.Err() != nil:
				return w.shutdown(reader.InTransaction())
			case errors.Is(err, context.DeadlineExceeded):
				// The commit interval passed with no event.
				if err := w.commitIfDue(reader.InTransaction()); err != nil {
					return err
				}
				continue
			}
			return err
		}

		for i := range step.Changes {
			if err := w.produce(&step.Changes[i]); err != nil {
				return err
			}
		}
		if err := w.produceStatement(&step); err != nil {
			return err
		}
		if step.End {
			w.pending = step.Position
			w.uncommitted = true
			w.recordsAtEnd = w.producer.Records()
			if !drainDeadline.IsZero() {
				return w.shutdown(false)
			}
			if err := w.commitIfDue(false); err != nil {
				return err
			}
		}
	}
}

// readContext bounds one read: by the stop signal, by the drain deadline
// while stopping, and by the next due commit while source transactions
// wait in the open Kafka transaction.
func (w *worker) readContext(contexts *readContexts, stop context.Context, drainDeadline time.Time) context.Context {
	switch {
	case !drainDeadline.IsZero():
		return contexts.get(context.Background(), drainDeadline)
	case w.uncommitted:
		return contexts.get(stop, w.lastCommit.Add(w.cfg.CommitInterval))
	}
	return contexts.get(stop, time.Time{})
}

// readContexts reuses one context for as long as its parent and deadline
// stay the same. A new context with its timer for every binlog event cost
// about a sixth of the worker's CPU time when profiled.
type readContexts struct {
	parent   context.Context
	deadline time.Time
	ctx      context.Context
	cancel   context.CancelFunc
}

// get returns a context of parent that ends at deadline, or never when
// deadline is zero.
func (r *readContexts) get(parent context.Context, deadline time.Time) context.Context {
	if r.ctx != nil && r.parent == parent && r.deadline.Equal(deadline) && r.ctx.Err() == nil {
		return r.ctx
	}
	r.release()
	r.parent, r.deadline = parent, deadline
	if deadline.IsZero() {
		r.ctx, r.cancel = context.WithCancel(parent)
	} else {
		r.ctx, r.cancel = context.WithDeadline(parent, deadline)
	}
	return r.ctx
}

func (r *readContexts) release() {
	if r.cancel != nil {
		r.cancel()
		r.ctx, r.cancel = nil, nil
	}
}

// shutdown commits what is whole and drops what is not. When inTxn is true,
// the open Kafka transaction contains part of a source transaction, so it is
// aborted and the position stays where Kafka last committed.
func (w *worker) shutdown(inTxn bool) error {
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.TransactionTimeout)
	defer cancel()
	if inTxn {
		w.log.Warn().Str("position", w.committed.String()).
			Msg("stopping inside a source transaction: aborting the open Kafka transaction; it is read again at the next start")
		return w.producer.Abort(ctx)
	}
	if err := w.commit(ctx); err != nil {
		return err
	}
	w.log.Info().Str("position", w.committed.String()).Msg("stopped")
	return nil
}

// commitIfDue commits when the open Kafka transaction holds whole source
// transactions and either the commit interval has passed or it holds
// enough records.
func (w *worker) commitIfDue(inTxn bool) error {
	if inTxn || !w.uncommitted {
		return nil
	}
	if w.producer.Records() < w.cfg.CommitRecords && time.Since(w.lastCommit) < w.cfg.CommitInterval {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.TransactionTimeout)
	defer cancel()
	return w.commit(ctx)
}

// commit writes the pending position into the open Kafka transaction,
// commits it, and then saves the position to the tracker.
func (w *worker) commit(ctx context.Context) error {
	if w.pending.Compare(w.committed) <= 0 && !w.producer.InTransaction() {
		return nil
	}
	record, err := offsets.PositionRecord(w.cfg.PositionsTopic, w.cfg.StreamID, w.pending)
	if err != nil {
		return err
	}
	if err := w.producer.Produce(ctx, record); err != nil {
		return err
	}
	records := w.producer.Records()
	if err := w.producer.Commit(ctx); err != nil {
		return fmt.Errorf("commit up to %s: %w", w.pending, err)
	}
	// Kafka now holds the position; a crash before the save below is
	// reconciled at the next start from the positions topic.
	if err := w.tracker.Save(ctx, w.cfg.StreamID, w.pending); err != nil {
		return fmt.Errorf("save position %s after the Kafka commit: %w", w.pending, err)
	}
	w.committed = w.pending
	w.uncommitted = false
	w.recordsAtEnd = 0
	w.lastCommit = time.Now()
	w.log.Debug().Int("records", records).Str("position", w.committed.String()).Msg("committed")
	return nil
}

// produceStatement adds the records of a TRUNCATE or DDL statement: an
// op "t" change with no rows on the table's topic, and a record on the
// schema-changes topic when one is configured.
func (w *worker) produceStatement(step *source.Step) error {
	ctx := context.Background()
	if step.Truncated != nil && w.operations["t"] {
		topic, err := w.topic(ctx, step.Truncated)
		if err != nil {
			return err
		}
		change := &codec.Change{Table: step.Truncated, Op: codec.OpTruncate, Source: step.DDL.Source}
		value, err := w.encoder.Value(change, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		if err := w.producer.Produce(ctx, &kgo.Record{Topic: topic, Value: value}); err != nil {
			return err
		}
	}
	if step.DDL != nil && w.cfg.SchemaChangesTopic != "" {
		key, value := w.encoder.SchemaChange(step.DDL.Database, step.DDL.Statement, &step.DDL.Source, time.Now().UnixMilli())
		if err := w.producer.Produce(ctx, &kgo.Record{Topic: w.cfg.SchemaChangesTopic, Key: key, Value: value}); err != nil {
			return err
		}
	}
	return nil
}

// produce encodes a change into records and adds them to the open Kafka
// transaction. An update that changes the primary key becomes a delete of
// the old key, its tombstone, and a create with the new key.
func (w *worker) produce(change *codec.Change) error {
	if !w.operations[string(change.Op)] {
		return nil
	}
	ctx := context.Background()
	topic, err := w.topic(ctx, change.Table)
	if err != nil {
		return err
	}

	switch change.Op {
	case codec.OpCreate:
		return w.send(ctx, topic, change, change.After)
	case codec.OpDelete:
		return w.sendDelete(ctx, topic, change)
	}

	oldKey, err := w.encoder.Key(change.Table, change.Before)
	if err != nil {
		return err
	}
	newKey, err := w.encoder.Key(change.Table, change.After)
	if err != nil {
		return err
	}
	if bytes.Equal(oldKey, newKey) {
		return w.send(ctx, topic, change, change.After)
	}
	deleted := *change
	deleted.Op, deleted.After = codec.OpDelete, nil
	if err := w.sendDelete(ctx, topic, &deleted); err != nil {
		return err
	}
	created := *change
	created.Op, created.Before = codec.OpCreate, nil
	return w.send(ctx, topic, &created, created.After)
}

func (w *worker) sendDelete(ctx context.Context, topic string, change *codec.Change) error {
	if err := w.send(ctx, topic, change, change.Before); err != nil {
		return err
	}
	if !w.cfg.Tombstones {
		return nil
	}
	key, err := w.encoder.Key(change.Table, change.Before)
	if err != nil {
		return err
	}
	if key == nil {
		// A tombstone deletes the records of its key, so without a key it
		// deletes nothing, and a compacted topic rejects it.
		return nil
	}
	return w.producer.Produce(ctx, &kgo.Record{Topic: topic, Key: key})
}

// send produces one change keyed by the primary key of keyRow.
func (w *worker) send(ctx context.Context, topic string, change *codec.Change, keyRow []any) error {
	key, err := w.encoder.Key(change.Table, keyRow)
	if err != nil {
		return err
	}
	value, err := w.encoder.Value(change, time.Now().UnixMilli())
	if err != nil {
		return err
	}
	if err := w.producer.CheckSize(topic, key, value); err != nil {
		if w.cfg.OversizeRecords != "skip" {
			return fmt.Errorf("table %s, key %s, binlog %s:%d: %w; raise the topic's max.message.bytes and SLUICE_MAX_RECORD_BYTES, "+
				"or set SLUICE_OVERSIZE_RECORDS=skip to leave such records out", change.Table, key, change.Source.File, change.Source.Pos, err)
		}
		w.skipped[topic]++
		w.log.Warn().Err(err).Str("table", change.Table.String()).Bytes("key", key).Str("op", string(change.Op)).
			Str("file", change.Source.File).Uint32("pos", change.Source.Pos).Int("skipped_in_topic", w.skipped[topic]).
			Msg("record left out: larger than its topic takes")
		return nil
	}
	return w.producer.Produce(ctx, &kgo.Record{Topic: topic, Key: key, Value: value})
}

var invalidTopicChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// topic returns the topic of a table, <prefix>.<db>.<table>, creating it on
// first use. Characters Kafka does not allow in topic names become '_'.
func (w *worker) topic(ctx context.Context, table *schema.Table) (string, error) {
	qualified := table.String()
	if topic, ok := w.topics[qualified]; ok {
		return topic, nil
	}
	topic := w.cfg.TopicPrefix + "." + invalidTopicChars.ReplaceAllString(table.Database, "_") +
		"." + invalidTopicChars.ReplaceAllString(table.Name, "_")
	if err := w.producer.EnsureTopic(ctx, topic, nil); err != nil {
		return "", err
	}
	w.topics[qualified] = topic
	return topic, nil
}
