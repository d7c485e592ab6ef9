package main

import (
	"bytes"
	"context"
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/source"
)

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
		if w.producer.Compacted(topic) {
			// A compacted topic rejects the truncate record, which has no
			// key, and could not apply it to its rows anyway.
			w.log.Warn().Str("table", step.Truncated.String()).Str("topic", topic).Str("file", step.DDL.Source.File).
				Uint32("pos", step.DDL.Source.Pos).Msg("TRUNCATE not written: the table's topic is compacted and takes only keyed records")
			return w.produceSchemaChange(ctx, step)
		}
		change := &codec.Change{Table: step.Truncated, Op: codec.OpTruncate, Source: step.DDL.Source}
		value, err := w.records.Value(ctx, topic, change, time.Now().UnixMilli())
		if err != nil {
			return err
		}
		if err := w.producer.Produce(ctx, &kgo.Record{Topic: topic, Value: value}); err != nil {
			return err
		}
	}
	return w.produceSchemaChange(ctx, step)
}

// produceSchemaChange adds the record of a DDL statement to the
// schema-changes topic, when one is configured. These records are JSON in
// every format.
func (w *worker) produceSchemaChange(ctx context.Context, step *source.Step) error {
	if step.DDL == nil || w.cfg.SchemaChangesTopic == "" {
		return nil
	}
	key, value := w.encoder.SchemaChange(step.DDL.Database, step.DDL.Statement, &step.DDL.Source, time.Now().UnixMilli())
	return w.producer.Produce(ctx, &kgo.Record{Topic: w.cfg.SchemaChangesTopic, Key: key, Value: value})
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

	oldKey, err := w.records.Key(ctx, topic, change.Table, change.Before)
	if err != nil {
		return err
	}
	newKey, err := w.records.Key(ctx, topic, change.Table, change.After)
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
	key, err := w.records.Key(ctx, topic, change.Table, change.Before)
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
	key, err := w.records.Key(ctx, topic, change.Table, keyRow)
	if err != nil {
		return err
	}
	if key == nil && w.producer.Compacted(topic) {
		return fmt.Errorf("table %s has no primary key and no unique index on NOT NULL columns, so its records have no key, "+
			"but its topic %q is compacted (cleanup.policy=compact) and rejects records without a key: "+
			"add a primary key, use cleanup.policy=delete for the topic, or leave the table out with SLUICE_EXCLUDE_TABLES",
			change.Table, topic)
	}
	value, err := w.records.Value(ctx, topic, change, time.Now().UnixMilli())
	if err != nil {
		return err
	}
	if err := w.producer.CheckSize(topic, key, value); err != nil {
		if w.cfg.OversizeRecords != "skip" {
			return fmt.Errorf("table %s, key %s, binlog %s:%d: %w; raise max.message.bytes of every captured topic "+
				"(or the broker's message.max.bytes) and then SLUICE_MAX_RECORD_BYTES, which sizes the batches of all topics "+
				"and must not exceed the smallest of them, or set SLUICE_OVERSIZE_RECORDS=skip to leave such records out",
				change.Table, key, change.Source.File, change.Source.Pos, err)
		}
		w.skippedPending[topic]++
		w.log.Warn().Err(err).Str("table", change.Table.String()).Bytes("key", key).Str("op", string(change.Op)).
			Str("file", change.Source.File).Uint32("pos", change.Source.Pos).
			Int("skipped_in_topic", w.skipped[topic]+w.skippedPending[topic]).
			Msg("record left out: larger than its topic takes")
		return nil
	}
	return w.producer.Produce(ctx, &kgo.Record{Topic: topic, Key: key, Value: value})
}

var invalidTopicChars = regexp.MustCompile(`[^A-Za-z0-9._-]`)

// topic returns the topic of a table, <prefix>.<db>.<table>, creating it on
// first use. Characters Kafka does not allow in topic names become '_'.
func (w *worker) topic(ctx context.Context, table *schema.Table) (string, error) {
	id := tableID{table.Database, table.Name}
	if topic, ok := w.topics[id]; ok {
		return topic, nil
	}
	topic := w.cfg.TopicPrefix + "." + invalidTopicChars.ReplaceAllString(table.Database, "_") +
		"." + invalidTopicChars.ReplaceAllString(table.Name, "_")
	collisionKey := strings.ReplaceAll(topic, ".", "_")
	if owner, owned := w.topicOwners[collisionKey]; owned && owner != id {
		return "", fmt.Errorf("tables `%s`.`%s` and `%s`.`%s` both map to topic %q (or to names Kafka treats as the same, "+
			"since it reads '.' as '_'): their records would mix. Leave one out with SLUICE_EXCLUDE_TABLES, or rename it",
			owner.db, owner.name, id.db, id.name, topic)
	}
	if err := w.producer.EnsureTopic(ctx, topic, nil); err != nil {
		return "", err
	}
	w.topics[id] = topic
	w.topicOwners[collisionKey] = id
	return topic, nil
}

// tableID names a table without the ambiguity of "db.table", since either
// name may contain a dot.
type tableID struct {
	db, name string
}
