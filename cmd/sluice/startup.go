package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/twmb/franz-go/pkg/kerr"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/offsets"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/sink"
	"github.com/sluice-cdc/sluice/source"
)

// start checks the source, connects to Kafka and settles the position to
// resume from.
func (w *worker) start(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.StartupTimeout)
	defer cancel()

	var server *source.Server
	err := w.retryStart(ctx, "MySQL is not reachable yet", func() (err error) {
		server, err = source.Inspect(ctx, &w.sourceCfg)
		return err
	}, retryableSourceError)
	if err != nil {
		return err
	}
	w.server = server
	w.log.Info().Str("version", server.Version).Str("flavor", server.Flavor).Uint32("server_id", server.ServerID).
		Str("binlog_row_metadata", server.RowMetadata).Msg("source server checked")
	if server.RowMetadata != "FULL" {
		w.log.Warn().Str("binlog_row_metadata", server.RowMetadata).
			Msg("the binlog carries no column names: sluice reads them from information_schema and keeps a schema history " +
				"that follows ALTER TABLE; binlog_row_metadata=FULL is exact for every kind of DDL")
	}

	// The hold comes before the transactional producer, whose start would
	// fence a worker that already runs this stream.
	// A hold left by a worker that was killed expires by itself, such as a
	// blob lease, so a held stream is retried within the startup timeout.
	if holder, ok := w.tracker.(offsets.Holder); ok {
		err = w.retryStart(ctx, "another worker holds the stream, or held it until it was killed", func() (err error) {
			w.hold, err = holder.Hold(ctx, w.cfg.StreamID)
			return err
		}, func(err error) bool { return errors.Is(err, offsets.ErrHeld) })
		if err != nil {
			return fmt.Errorf("offsets type %s: %w", w.cfg.OffsetsType, err)
		}
	}

	err = w.retryStart(ctx, "Kafka is not reachable yet", func() (err error) {
		w.producer, err = sink.New(ctx, sink.Config{
			Brokers:            w.cfg.KafkaBrokers,
			TransactionalID:    "sluice-" + w.cfg.StreamID,
			Partitions:         w.cfg.TopicPartitions,
			ReplicationFactor:  w.cfg.TopicReplicationFactor,
			TransactionTimeout: w.cfg.TransactionTimeout,
			MaxRecordBytes:     w.cfg.MaxRecordBytes,
			Log:                w.rootLog.With().Str("component", "kafka").Str("stream", w.cfg.StreamID).Logger(),
		})
		return err
	}, func(err error) bool { return !errors.Is(err, kerr.ProducerFenced) })
	if err != nil {
		w.release()
		return err
	}
	if err := w.settlePosition(ctx); err != nil {
		w.producer.Close()
		w.release()
		return err
	}

	w.encoder = &codec.JSON{Connector: server.Connector(), Name: w.cfg.TopicPrefix, Version: version, Options: w.options}
	w.records = jsonEncoder{w.encoder}
	if w.cfg.Format == "avro" {
		registry, err := sink.NewRegistry(sink.RegistryConfig{
			URL:                w.cfg.SchemaRegistryURL,
			Username:           w.cfg.SchemaRegistryUsername,
			Password:           w.cfg.SchemaRegistryPassword,
			CAFile:             w.cfg.SchemaRegistryCAFile,
			InsecureSkipVerify: w.cfg.SchemaRegistryInsecureSkipVerify,
			Log:                w.rootLog.With().Str("component", "schema-registry").Str("stream", w.cfg.StreamID).Logger(),
		})
		if err != nil {
			w.producer.Close()
			w.release()
			return err
		}
		checkCtx, cancelCheck := context.WithTimeout(ctx, w.cfg.SchemaRegistryTimeout)
		err = registry.Check(checkCtx)
		cancelCheck()
		if err != nil {
			w.producer.Close()
			w.release()
			return err
		}
		avro := &codec.Avro{Connector: server.Connector(), Name: w.cfg.TopicPrefix, Version: version, Options: w.options}
		w.records = newAvroEncoder(avro, registry, w.cfg.SchemaRegistryTimeout)
	}
	w.topics = map[tableID]string{}
	w.topicOwners = map[string]tableID{}
	w.skipped = map[string]int{}
	w.skippedPending = map[string]int{}
	if w.cfg.SchemaChangesTopic != "" {
		if err := w.producer.EnsureTopic(ctx, w.cfg.SchemaChangesTopic, nil); err != nil {
			w.producer.Close()
			return err
		}
	}
	if w.cfg.CreateTopicsAtStart {
		if err := w.createTopics(ctx); err != nil {
			w.producer.Close()
			return err
		}
	}
	w.pending = w.committed
	w.lastCommit = time.Now()
	w.log.Info().Str("position", w.committed.String()).Msg("streaming")
	return nil
}

// createTopics creates the topic of every captured table that exists now.
func (w *worker) createTopics(ctx context.Context) error {
	tables, err := source.CapturedTables(ctx, &w.sourceCfg)
	if err != nil {
		return err
	}
	for _, t := range tables {
		if _, err := w.topic(ctx, &schema.Table{Database: t[0], Name: t[1]}); err != nil {
			return err
		}
	}
	if len(tables) == 0 {
		w.log.Warn().Strs("databases", w.cfg.Databases).Strs("tables", w.cfg.Tables).
			Strs("exclude_databases", w.cfg.ExcludeDatabases).Strs("exclude_tables", w.cfg.ExcludeTables).
			Msg("no table on the source matches the capture filter; tables created later are captured when they match")
		return nil
	}
	w.log.Info().Int("topics", len(tables)).Msg("topics of the captured tables are ready")
	return nil
}

// retryStart calls connect until it succeeds, fails with an error that
// retryable rejects, or ctx (bounded by SLUICE_STARTUP_TIMEOUT) ends, so
// that sluice may start before its servers are ready.
func (w *worker) retryStart(ctx context.Context, problem string, connect func() error, retryable func(error) bool) error {
	for attempt := 1; ; attempt++ {
		err := connect()
		if err == nil || !retryable(err) {
			return err
		}
		delay := backoff(attempt)
		deadline, _ := ctx.Deadline()
		if time.Until(deadline) < delay {
			return fmt.Errorf("%w (still failing after %d attempts within SLUICE_STARTUP_TIMEOUT=%s)", err, attempt, w.cfg.StartupTimeout)
		}
		w.log.Warn().Err(err).Int("attempt", attempt).Str("retry_in", delay.Round(time.Millisecond).String()).Msg(problem + "; retrying")
		select {
		case <-ctx.Done():
			return err
		case <-time.After(delay):
		}
	}
}

// checkPurged returns position when the server still has its binlog file.
// When the file was purged, it fails with the ways out, or with
// SLUICE_PURGED_POSITION=current returns the server's current position.
func (w *worker) checkPurged(ctx context.Context, position offsets.Position) (offsets.Position, error) {
	ok, err := source.HasBinlog(ctx, &w.sourceCfg, position.File)
	if err != nil || ok {
		return position, err
	}
	if w.cfg.PurgedPosition != "current" {
		return position, fmt.Errorf("the saved position %s of stream %q names binlog file %s, which the server does not have: "+
			"it was purged (or never existed), and the changes after that position are not in the binlog. Either take a new snapshot of the "+
			"captured tables and start from the current position (sluice offsets delete %s, or SLUICE_PURGED_POSITION=current), "+
			"or restore the purged binlog files", position, w.cfg.StreamID, position.File, w.cfg.StreamID)
	}
	current, err := source.CurrentPosition(ctx, &w.sourceCfg, w.server)
	if err != nil {
		return position, err
	}
	w.log.Warn().Str("saved_position", position.String()).Str("position", current.String()).
		Msg("the saved position's binlog file was purged; starting at the current position as SLUICE_PURGED_POSITION=current asks. " +
			"Changes between the two positions are not emitted")
	return current, nil
}

// openTracker opens the tracker that SLUICE_OFFSETS_TYPE names. A tracker
// server that is not reachable yet is retried within SLUICE_STARTUP_TIMEOUT,
// as MySQL and Kafka are, so sluice may start before it.
func (w *worker) openTracker(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, w.cfg.StartupTimeout)
	defer cancel()
	return w.retryStart(ctx, "the tracker's server is not reachable yet", func() (err error) {
		w.tracker, err = offsets.Open(ctx, w.cfg.OffsetsType)
		return err
	}, unreachable)
}

// release gives up the tracker's hold on the stream, if it has one.
func (w *worker) release() {
	if w.hold == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := w.hold.Release(ctx); err != nil {
		w.log.Warn().Err(err).Msg("could not release the tracker's hold on the stream; it expires by itself")
	}
	w.hold = nil
}

// settlePosition picks the position to resume from: the newer of the one
// in the tracker and the one committed to the positions topic. The topic
// is ahead when sluice stopped between a Kafka commit and the tracker's
// save. It is never behind, because the tracker saves only after a commit.
func (w *worker) settlePosition(ctx context.Context) error {
	if err := w.producer.EnsureTopic(ctx, w.cfg.PositionsTopic, offsets.TopicConfigs); err != nil {
		return err
	}
	var saved offsets.Position
	if w.tracker != nil {
		var err error
		if saved, err = w.tracker.Load(ctx, w.cfg.StreamID); err != nil {
			return fmt.Errorf("offsets type %s: load the position of stream %q: %w", w.cfg.OffsetsType, w.cfg.StreamID, err)
		}
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
		if err := source.DescribeCapturedTables(ctx, &w.sourceCfg, w.server, position); err != nil {
			return err
		}
		w.log.Info().Str("position", position.String()).Msg("no saved position; starting at the server's current binlog position")
	case saved.IsZero() || saved.Compare(inKafka) < 0:
		if w.tracker != nil {
			w.log.Info().Str("tracker_position", saved.String()).Str("kafka_position", inKafka.String()).
				Msg("Kafka holds a newer committed position than the tracker; resuming from Kafka's")
		} else {
			w.log.Info().Str("position", inKafka.String()).Msg("resuming from the position in the positions topic")
		}
		position = inKafka
	case !inKafka.IsZero() && saved.Compare(inKafka) > 0:
		// The tracker saves only after Kafka commits, so it can be ahead
		// only when the positions topic was deleted or the position
		// restored from elsewhere.
		w.log.Warn().Str("tracker_position", saved.String()).Str("kafka_position", inKafka.String()).
			Msg("the tracker's position is ahead of the positions topic; resuming from the tracker's. " +
				"If it came from a backup or another stream, stop and delete it (sluice offsets delete) to resume from Kafka's position")
	default:
		w.log.Info().Str("position", position.String()).Msg("resuming from the saved position")
	}

	if position, err = w.checkPurged(ctx, position); err != nil {
		return err
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
	if w.tracker != nil {
		if err := w.tracker.Save(ctx, w.cfg.StreamID, position); err != nil {
			return fmt.Errorf("offsets type %s: save the position of stream %q: %w", w.cfg.OffsetsType, w.cfg.StreamID, err)
		}
	} else if inKafka.IsZero() || position.Compare(inKafka) != 0 {
		// The positions topic is the only copy, so a start position that it
		// does not contain yet is committed there in a Kafka transaction of
		// its own.
		if err := w.commitStartPosition(ctx, position); err != nil {
			return err
		}
	}
	w.committed = position
	return nil
}

// commitStartPosition commits position to the positions topic in a Kafka
// transaction that holds nothing else.
func (w *worker) commitStartPosition(ctx context.Context, position offsets.Position) error {
	record, err := offsets.PositionRecord(w.cfg.PositionsTopic, w.cfg.StreamID, position)
	if err != nil {
		return err
	}
	if err := w.producer.Produce(ctx, record); err != nil {
		return err
	}
	if err := w.producer.Commit(ctx); err != nil {
		return fmt.Errorf("commit the start position %s of stream %q to the positions topic: %w", position, w.cfg.StreamID, err)
	}
	return nil
}
