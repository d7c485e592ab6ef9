package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/rs/zerolog"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/sink"
	"github.com/sluice-cdc/sluice/source"
)

// worker moves changes from one source server to Kafka. Its position only
// moves after Kafka has committed the transaction that carries it.
type worker struct {
	cfg *Config
	log zerolog.Logger
	// rootLog is the logger without the worker's component field, for the
	// loggers of other components.
	rootLog zerolog.Logger

	sourceCfg source.Config
	server    *source.Server
	producer  *sink.Producer
	// tracker keeps the position outside Kafka; nil with
	// SLUICE_OFFSETS_TYPE=kafka, where the positions topic is the only copy.
	tracker offsets.Tracker
	// hold is the tracker's hold on the stream, when it can hold one.
	hold offsets.Hold
	// encoder writes the JSON records of the schema-changes topic.
	encoder *codec.JSON
	// records writes the records of the table topics, in SLUICE_FORMAT.
	records recordEncoder
	options codec.Options
	// operations are the codes of the operations to emit: c, u, d, t.
	operations map[string]bool

	topics map[tableID]string // topic names by table
	// topicOwners maps each topic name, with '.' read as '_', to the table
	// that writes it. Kafka refuses topics that differ only there, and two
	// tables must never share a topic.
	topicOwners map[string]tableID
	// skipped counts the records left out for their size, by topic, in
	// committed Kafka transactions, and skippedPending those in the open
	// one. A record of an aborted transaction is read again and counted
	// once more otherwise.
	skipped        map[string]int
	skippedPending map[string]int

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
	// pendingTime is when the source logged the end of the transaction
	// at pending.
	pendingTime time.Time
	// reconnecting is true from a lost binlog connection until the stream
	// reads again.
	reconnecting bool

	metrics *metrics
}

// errCommitUncertain is wrapped by commit errors after which the position
// that Kafka holds may differ from the one sluice holds in memory. Neither
// retrying nor committing again is safe then: the process stops, and the
// next start reconciles its position with the positions topic.
var errCommitUncertain = errors.New("the outcome of the Kafka commit is unknown, so sluice stops; its next start resumes from the position that Kafka holds")

// idleCommitInterval is the shortest time between two commits that carry
// no records, only a position moved past transactions of tables sluice
// does not capture.
const idleCommitInterval = 10 * time.Second

// errHoldLost is wrapped by the error of a commit refused because the
// tracker's hold on the stream was lost: another worker may own the
// stream now, so this one stops without committing.
var errHoldLost = errors.New("the tracker's hold on the stream was lost, so sluice stops without committing; " +
	"another worker may have taken the stream over")

// sourceError marks an error of reading the binlog. Only such an error
// may be a lost connection that the stream resumes after: a network error
// of Kafka or the schema registry is not.
type sourceError struct{ err error }

func (e *sourceError) Error() string { return e.err.Error() }
func (e *sourceError) Unwrap() error { return e.err }

// run starts the worker and streams until stop is done, then finishes the
// open source transaction if it can, commits, and returns nil. Any other
// return is an error that should end the process with a non-zero status.
func (w *worker) run(stop context.Context) error {
	if err := w.start(stop); err != nil {
		if stop.Err() != nil {
			// Stopped while starting: whatever start saved is consistent.
			w.log.Info().Err(err).Msg("stopped while starting")
			return nil
		}
		return err
	}
	defer w.producer.Close()
	defer w.release()

	// failures counts lost connections since the committed position last
	// moved; failedAt is the committed position at the last one.
	failures := 0
	var failedAt offsets.Position
	for {
		err := w.stream(stop)
		if err == nil {
			return nil
		}
		if errors.Is(err, errCommitUncertain) || errors.Is(err, errHoldLost) {
			return errors.Join(w.explain(err), w.producer.Abort(context.Background()))
		}
		var fromSource *sourceError
		if !errors.As(err, &fromSource) || !retryableSourceError(err) {
			return errors.Join(w.explain(err), w.commitBeforeFailure())
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
		w.reconnecting = true
		if failures > 8 {
			return fmt.Errorf("the binlog connection failed %d times in a row: %w", failures, err)
		}
		delay := backoff(failures)
		w.log.Warn().Err(err).Int("attempt", failures).Str("retry_in", delay.Round(time.Millisecond).String()).
			Str("position", w.committed.String()).Msg("binlog connection lost; resuming from the last committed position")
		select {
		case <-stop.Done():
			return nil
		case <-time.After(delay):
		}
		w.pending = w.committed
		w.setUncommitted(false)
		clear(w.skippedPending)
	}
}

// stream reads from the committed position until stop is done or reading
// fails.
func (w *worker) stream(stop context.Context) error {
	reader, err := source.NewReader(&w.sourceCfg, w.server, w.committed, w.log)
	if err != nil {
		return &sourceError{err}
	}
	defer reader.Close()
	if w.reconnecting {
		w.reconnecting = false
		w.metrics.reconnects.Inc()
		w.log.Info().Str("position", w.committed.String()).Msg("binlog connection restored")
	}
	w.metrics.setStreaming(true)
	defer w.metrics.setStreaming(false)

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
			return &sourceError{err}
		}

		for i := range step.Changes {
			if err := w.produce(&step.Changes[i]); err != nil {
				return err
			}
		}
		if len(step.Changes) > 0 && reader.InTransaction() && w.producer.TransactionAge() > w.cfg.TransactionTimeout/2 {
			if err := w.split(reader); err != nil {
				return err
			}
		}
		if err := w.produceStatement(&step); err != nil {
			return err
		}
		if step.End {
			w.pending, w.pendingTime = step.Position, step.Time
			w.setUncommitted(true)
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

// split commits the open Kafka transaction inside a source transaction
// that has taken half of SLUICE_TRANSACTION_TIMEOUT, before the broker
// would abort it. The split falls between two rows events, and the saved
// position records how many of the transaction's rows events are
// committed, so a restart skips them. read_committed consumers then see
// that source transaction in parts.
func (w *worker) split(reader *source.Reader) error {
	w.pending, w.pendingTime = reader.SplitPosition(), reader.EventTime()
	w.setUncommitted(true)
	age := w.producer.TransactionAge()
	ctx, cancel := context.WithTimeout(context.Background(), w.cfg.TransactionTimeout)
	defer cancel()
	if err := w.commit(ctx); err != nil {
		return err
	}
	w.log.Warn().Str("position", w.committed.String()).Dur("transaction_age", age).
		Msg("source transaction too large for one Kafka transaction: committed the part read so far")
	return nil
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

// setUncommitted records whether pending is ahead of committed. The
// uncommitted-time metric starts when the first uncommitted transaction
// ends, and clears when none is left.
func (w *worker) setUncommitted(on bool) {
	switch {
	case on && !w.uncommitted:
		w.metrics.setUncommittedSince(time.Now())
	case !on:
		w.metrics.setUncommittedSince(time.Time{})
	}
	w.uncommitted = on
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
	// A position that only moved past transactions of other tables waits
	// longer, unless it reached a new binlog file. Each save to a tracker
	// on the source server is itself such a transaction, and committing it
	// at once would keep the stream busy with its own saves.
	if w.producer.Records() == 0 && w.pending.File == w.committed.File && time.Since(w.lastCommit) < idleCommitInterval {
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
	if w.hold != nil {
		select {
		case <-w.hold.Lost():
			return fmt.Errorf("commit up to %s skipped: %w", w.pending, errHoldLost)
		default:
		}
	}
	record, err := offsets.PositionRecord(w.cfg.PositionsTopic, w.cfg.StreamID, w.pending)
	if err != nil {
		return err
	}
	if err := w.producer.Produce(ctx, record); err != nil {
		return err
	}
	records, topicRecords, began := w.producer.Records(), w.producer.TopicRecords(), time.Now()
	if err := w.producer.Commit(ctx); err != nil {
		return fmt.Errorf("commit up to %s: %w: %w", w.pending, err, errCommitUncertain)
	}
	// Kafka now holds the position; a crash before the save below is
	// reconciled at the next start from the positions topic.
	if w.tracker != nil {
		if err := w.tracker.Save(ctx, w.cfg.StreamID, w.pending); err != nil {
			if errors.Is(err, offsets.ErrHeld) || errors.Is(err, offsets.ErrConflict) {
				return fmt.Errorf("Kafka committed up to %s, but the tracker rejected the position because another "+
					"worker holds the stream or changed its position: %w: %w", w.pending, err, errHoldLost)
			}
			// Kafka holds the position, and the tracker may lag behind it:
			// the next commit saves again, and a start takes Kafka's.
			w.log.Warn().Err(err).Str("position", w.pending.String()).Str("offsets_type", w.cfg.OffsetsType).
				Msg("saving the position to the tracker failed after the Kafka commit; the next commit tries again")
		}
	}
	w.committed = w.pending
	w.setUncommitted(false)
	w.recordsAtEnd = 0
	w.lastCommit = time.Now()
	w.metrics.committed(topicRecords, w.cfg.PositionsTopic, began, w.pendingTime)
	for topic, n := range w.skippedPending {
		w.skipped[topic] += n
		w.metrics.skipped.WithLabelValues(topic).Add(float64(n))
	}
	clear(w.skippedPending)
	w.log.Debug().Int("records", records).Str("position", w.committed.String()).Msg("committed")
	return nil
}
