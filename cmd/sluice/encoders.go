package main

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/sluice-cdc/sluice/codec"
	"github.com/sluice-cdc/sluice/schema"
	"github.com/sluice-cdc/sluice/sink"
)

// recordEncoder turns changes into record keys and values in the format
// SLUICE_FORMAT names. Key returns nil for a table without a key.
type recordEncoder interface {
	Key(ctx context.Context, topic string, table *schema.Table, row []any) ([]byte, error)
	Value(ctx context.Context, topic string, change *codec.Change, nowMs int64) ([]byte, error)
}

// jsonEncoder writes JSON records, which need no schema registry.
type jsonEncoder struct{ codec *codec.JSON }

func (e jsonEncoder) Key(_ context.Context, _ string, table *schema.Table, row []any) ([]byte, error) {
	return e.codec.Key(table, row)
}

func (e jsonEncoder) Value(_ context.Context, _ string, change *codec.Change, nowMs int64) ([]byte, error) {
	return e.codec.Value(change, nowMs)
}

// avroEncoder writes Avro records in the Confluent wire format: a zero
// byte, the 4-byte schema id, then the Avro body. A table's schemas are
// registered under <topic>-key and <topic>-value before its first record,
// and again when its columns change, so no record refers to a schema the
// registry does not have.
type avroEncoder struct {
	codec    *codec.Avro
	registry *sink.Registry
	// timeout bounds the retries of one registration.
	timeout time.Duration

	// versions maps each table version that records were written with to
	// its schemas and their ids. The reader keeps one *schema.Table per
	// version, so the pointer is the key.
	versions map[*schema.Table]*registeredSchemas
	// latest is the last version registered for each table, to describe
	// a column change that the registry rejects.
	latest map[tableID]*schema.Table
}

type registeredSchemas struct {
	schemas *codec.TableSchemas
	keyID   int
	valueID int
}

// maxRegisteredVersions bounds versions: past it the map is cleared, and
// each table's schemas are looked up again, from the registry client's
// cache.
const maxRegisteredVersions = 4096

func newAvroEncoder(c *codec.Avro, registry *sink.Registry, timeout time.Duration) *avroEncoder {
	return &avroEncoder{
		codec: c, registry: registry, timeout: timeout,
		versions: map[*schema.Table]*registeredSchemas{},
		latest:   map[tableID]*schema.Table{},
	}
}

func (e *avroEncoder) Key(ctx context.Context, topic string, table *schema.Table, row []any) ([]byte, error) {
	r, err := e.register(ctx, topic, table)
	if err != nil || r.schemas.KeyCodec == nil {
		return nil, err
	}
	body, err := e.codec.Key(r.schemas, table, row)
	if err != nil {
		return nil, err
	}
	return framed(r.keyID, body), nil
}

func (e *avroEncoder) Value(ctx context.Context, topic string, change *codec.Change, nowMs int64) ([]byte, error) {
	r, err := e.register(ctx, topic, change.Table)
	if err != nil {
		return nil, err
	}
	body, err := e.codec.Value(r.schemas, change, nowMs)
	if err != nil {
		return nil, err
	}
	return framed(r.valueID, body), nil
}

func framed(id int, body []byte) []byte {
	return append(sink.AppendWireHeader(make([]byte, 0, 5+len(body)), id), body...)
}

// register returns the schemas of a table version, registering them first
// when this version has none yet.
func (e *avroEncoder) register(ctx context.Context, topic string, table *schema.Table) (*registeredSchemas, error) {
	if r, ok := e.versions[table]; ok {
		return r, nil
	}
	schemas, err := e.codec.Schemas(table, topic)
	if err != nil {
		return nil, fmt.Errorf("build the Avro schemas: %w", err) // err names the table
	}

	ctx, cancel := context.WithTimeout(ctx, e.timeout)
	defer cancel()
	r := &registeredSchemas{schemas: schemas}
	if schemas.KeySchema != "" {
		if r.keyID, err = e.registry.Register(ctx, topic+"-key", schemas.KeySchema); err != nil {
			return nil, e.explain(table, topic+"-key", err)
		}
	}
	if r.valueID, err = e.registry.Register(ctx, topic+"-value", schemas.ValueSchema); err != nil {
		return nil, e.explain(table, topic+"-value", err)
	}

	if len(e.versions) >= maxRegisteredVersions {
		clear(e.versions)
	}
	e.versions[table] = r
	e.latest[tableID{table.Database, table.Name}] = table
	return r, nil
}

// explain adds the table and its column change to a registration error.
func (e *avroEncoder) explain(table *schema.Table, subject string, err error) error {
	if !errors.Is(err, sink.ErrIncompatible) {
		return fmt.Errorf("table %s: register the schema of subject %s: %w; "+
			"no record of the table is written until its schema is registered", table, subject, err)
	}
	change := "its columns as they are now"
	if previous, ok := e.latest[tableID{table.Database, table.Name}]; ok {
		change = describeColumnChange(previous, table)
	}
	return fmt.Errorf("table %s changed (%s), and the schema registry rejects the new schema of subject %s: %w; "+
		"sluice stops before the first record of the new schema, at the position before it. Change the subject's "+
		"compatibility level, or make the table change compatible (for example add nullable columns with a default), "+
		"then restart", table, change, subject, err)
}

// describeColumnChange lists the columns added and dropped between two
// versions of a table, and those whose type changed.
func describeColumnChange(before, after *schema.Table) string {
	var parts []string
	old := map[string]*schema.Column{}
	for i := range before.Columns {
		old[before.Columns[i].Name] = &before.Columns[i]
	}
	for i := range after.Columns {
		c := &after.Columns[i]
		previous, ok := old[c.Name]
		switch {
		case !ok:
			parts = append(parts, "added column "+c.Name)
		case previous.Type != c.Type || previous.Meta != c.Meta || previous.Unsigned != c.Unsigned:
			parts = append(parts, "changed the type of column "+c.Name)
		}
		delete(old, c.Name)
	}
	var dropped []string
	for name := range old {
		dropped = append(dropped, name)
	}
	slices.Sort(dropped)
	for _, name := range dropped {
		parts = append(parts, "dropped column "+name)
	}
	if len(parts) == 0 {
		return "column attributes changed"
	}
	return strings.Join(parts, ", ")
}
