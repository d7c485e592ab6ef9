package codec

import (
	"bytes"
	"math"
	"math/big"
	"reflect"
	"strings"
	"sync"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/hamba/avro/v2"
	"github.com/linkedin/goavro/v2"

	"github.com/sluice-cdc/sluice/schema"
)

func newAvro() *Avro {
	return &Avro{Connector: "mysql", Name: "sluice", Version: "1.2.3"}
}

// decodeAvro decodes data with hamba/avro, an Avro implementation written
// apart from goavro, using the schema text that Schemas returns. It also
// checks that goavro reads data and writes it back byte for byte, so the
// direct encoder writes what goavro's map-based encoder would.
func decodeAvro(t *testing.T, schemaText string, data []byte) map[string]any {
	t.Helper()
	checkGoavroRoundTrip(t, schemaText, data)
	// A cache of its own per parse, because tests reuse full names with
	// different fields.
	parsed, err := avro.ParseWithCache(schemaText, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("hamba/avro rejects the schema: %v\n%s", err, schemaText)
	}
	var decoded any
	if err := avro.Unmarshal(parsed, data, &decoded); err != nil {
		t.Fatalf("hamba/avro cannot decode %x: %v", data, err)
	}
	record, ok := decoded.(map[string]any)
	if !ok {
		t.Fatalf("decoded %#v (%T); want a record", decoded, decoded)
	}
	return record
}

// checkGoavroRoundTrip decodes data with goavro and encodes the result
// again, which must give data.
func checkGoavroRoundTrip(t *testing.T, schemaText string, data []byte) {
	t.Helper()
	codec, err := goavro.NewCodec(schemaText)
	if err != nil {
		t.Fatalf("goavro rejects the schema: %v\n%s", err, schemaText)
	}
	native, rest, err := codec.NativeFromBinary(data)
	if err != nil {
		t.Fatalf("goavro cannot decode %x: %v", data, err)
	}
	if len(rest) > 0 {
		t.Fatalf("goavro leaves %d bytes of %x after the record", len(rest), data)
	}
	again, err := codec.BinaryFromNative(nil, native)
	if err != nil {
		t.Fatalf("goavro cannot encode what it decoded from %x: %v", data, err)
	}
	if !bytes.Equal(again, data) {
		t.Errorf("goavro writes the record as\n%x\nwant the direct encoding\n%x", again, data)
	}
}

// unwrapRecord returns the record in a union branch, which hamba/avro
// decodes as a map from the record's full name to the record.
func unwrapRecord(t *testing.T, v any, fullName string) map[string]any {
	t.Helper()
	union, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("union value %#v (%T); want a map", v, v)
	}
	record, ok := union[fullName].(map[string]any)
	if !ok || len(union) != 1 {
		t.Fatalf("union value %#v; want only the branch %s", v, fullName)
	}
	return record
}

// unwrapUnion returns the value of a union branch that hamba/avro decodes
// as a map from the branch's type name to the value, as it does for
// local-timestamp-micros. It returns other values unchanged.
func unwrapUnion(v any) any {
	union, ok := v.(map[string]any)
	if !ok || len(union) != 1 {
		return v
	}
	for name, inner := range union {
		if strings.HasPrefix(name, "long.") || strings.HasPrefix(name, "int.") || strings.HasPrefix(name, "bytes.") {
			return inner
		}
	}
	return v
}

func TestAvroEnvelope(t *testing.T) {
	rowBefore := []any{uint64(math.MaxUint64), "old \"note\"", "1.10"}
	rowAfter := []any{uint64(math.MaxUint64), "new 😀", "-0.05"}
	cases := []struct {
		name      string
		connector string
		op        Op
		before    []any
		after     []any
		gtid      string
		wantGTID  any
	}{
		{"create", "mysql", OpCreate, nil, rowAfter, "", nil},
		{"update", "mysql", OpUpdate, rowBefore, rowAfter, "3E11FA47-71CA-11E1-9E33-C80AA9429562:23", "3E11FA47-71CA-11E1-9E33-C80AA9429562:23"},
		{"delete mariadb", "mariadb", OpDelete, rowBefore, nil, "0-1-5", "0-1-5"},
		{"truncate", "mysql", OpTruncate, nil, nil, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			encoder := newAvro()
			encoder.Connector = tc.connector
			change := &Change{
				Table:  ordersTable(),
				Op:     tc.op,
				Before: tc.before,
				After:  tc.after,
				Source: Source{
					ServerID:    4294967295,
					GTID:        tc.gtid,
					File:        "mysql-bin.000003",
					Pos:         4000000000,
					Row:         2,
					TimestampMs: 1700000000000,
				},
			}
			s, err := encoder.Schemas(change.Table, "sluice.shop.orders")
			if err != nil {
				t.Fatalf("Schemas error: %v", err)
			}
			if want := `"namespace":"io.debezium.connector.` + tc.connector + `"`; !strings.Contains(s.ValueSchema, want) {
				t.Errorf("value schema does not contain %s:\n%s", want, s.ValueSchema)
			}
			data, err := encoder.Value(s, change, 1700000000123)
			if err != nil {
				t.Fatalf("Value error: %v", err)
			}
			envelope := decodeAvro(t, s.ValueSchema, data)

			checkKeys(t, "envelope", envelope, []string{"before", "after", "source", "op", "ts_ms"})
			checkField(t, "envelope", envelope, "op", string(rune(tc.op)))
			checkField(t, "envelope", envelope, "ts_ms", int64(1700000000123))
			for field, row := range map[string][]any{"before": tc.before, "after": tc.after} {
				if row == nil {
					checkField(t, "envelope", envelope, field, nil)
					continue
				}
				record := unwrapRecord(t, envelope[field], "sluice.shop.orders.Value")
				checkKeys(t, field, record, []string{"id", "note", "price"})
				if note := record["note"]; note != row[1] {
					t.Errorf("%s.note = %#v; want %#v", field, note, row[1])
				}
				if price, ok := record["price"].(*big.Rat); !ok || price.Cmp(rat(row[2].(string))) != 0 {
					t.Errorf("%s.price = %#v; want %s", field, record["price"], row[2])
				}
			}

			source, ok := envelope["source"].(map[string]any)
			if !ok {
				t.Fatalf("source = %#v; want a record", envelope["source"])
			}
			checkKeys(t, "source", source, []string{
				"version", "connector", "name", "ts_ms", "snapshot", "db", "table",
				"server_id", "gtid", "file", "pos", "row",
			})
			checkField(t, "source", source, "version", "1.2.3")
			checkField(t, "source", source, "connector", tc.connector)
			checkField(t, "source", source, "name", "sluice")
			checkField(t, "source", source, "ts_ms", int64(1700000000000))
			checkField(t, "source", source, "snapshot", "false")
			checkField(t, "source", source, "db", "shop")
			checkField(t, "source", source, "table", "orders")
			checkField(t, "source", source, "server_id", int64(4294967295))
			checkField(t, "source", source, "gtid", tc.wantGTID)
			checkField(t, "source", source, "file", "mysql-bin.000003")
			checkField(t, "source", source, "pos", int64(4000000000))
			checkField(t, "source", source, "row", 2)
		})
	}
}

func TestAvroKeyMatchesJSON(t *testing.T) {
	table := &schema.Table{
		Database: "shop",
		Name:     "lines",
		Columns: []schema.Column{
			{Name: "line", Type: mysql.MYSQL_TYPE_SHORT},
			{Name: "qty", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "order_code", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 80, Charset: "latin1"},
			{Name: "secret", Type: mysql.MYSQL_TYPE_LONGLONG, Unsigned: true, Treatment: schema.ColumnHashed},
			{Name: "hidden", Type: mysql.MYSQL_TYPE_DATE, Treatment: schema.ColumnExcluded},
		},
		// Key order differs from column order.
		PrimaryKey: []int{2, 0, 3, 4},
	}
	row := []any{int16(-3), int32(10), "caf\xe9", uint64(math.MaxUint64), "2024-01-31"}

	encoder := newAvro()
	encoder.Options.HashSalt = "pepper"
	s, err := encoder.Schemas(table, "sluice.shop.lines")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	types, names := recordFieldTypes(t, []byte(s.KeySchema))
	if want := []string{"order_code", "line", "secret", "hidden"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Key fields %v; want %v", names, want)
	}
	wantTypes := map[string]string{
		"order_code": `"string"`,
		"line":       `"int"`,
		"secret":     `"string"`,
		// A DATE can be a zero date, which is null, even in a key.
		"hidden": `["null",{"type":"int","logicalType":"date"}]`,
	}
	for name, want := range wantTypes {
		if types[name] != want {
			t.Errorf("Key field %s has type %s; want %s", name, types[name], want)
		}
	}

	key, err := encoder.Key(s, table, row)
	if err != nil {
		t.Fatalf("Key error: %v", err)
	}
	decoded := decodeAvro(t, s.KeySchema, key)

	jsonEncoder := newJSON()
	jsonEncoder.Options.HashSalt = "pepper"
	jsonEncoder.Options.Time = TimeConnect
	jsonKey, err := jsonEncoder.Key(table, row)
	if err != nil {
		t.Fatalf("JSON Key error: %v", err)
	}
	jsonDecoded := decodeEnvelope(t, jsonKey)

	checkKeys(t, "key", decoded, sortedKeys(jsonDecoded))
	for name, jsonValue := range jsonDecoded {
		column := &table.Columns[table.ColumnIndex(name)]
		checkMatchesJSON(t, column, unwrapUnion(decoded[name]), jsonValue)
	}
	checkField(t, "key", decoded, "order_code", "café")
	checkField(t, "key", decoded, "line", -3)
}

func TestAvroKeyNoPrimaryKey(t *testing.T) {
	table := ordersTable()
	table.PrimaryKey = nil
	encoder := newAvro()

	s, err := encoder.Schemas(table, "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	if s.KeySchema != "" {
		t.Errorf("KeySchema = %s; want empty", s.KeySchema)
	}
	if s.KeyCodec != nil {
		t.Errorf("KeyCodec = %v; want nil", s.KeyCodec)
	}
	key, err := encoder.Key(s, table, []any{uint64(1), "x", "1.10"})
	if err != nil {
		t.Errorf("Key error: %v; want nil", err)
	}
	if key != nil {
		t.Errorf("Key = %x; want nil", key)
	}
}

func TestAvroKeyNullValue(t *testing.T) {
	encoder := newAvro()
	s, err := encoder.Schemas(ordersTable(), "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	_, err = encoder.Key(s, ordersTable(), []any{nil, "x", "1.10"})
	if err == nil {
		t.Fatal("Key with a NULL primary-key value returned no error")
	}
	for _, text := range []string{"shop.orders", "key column id", "NULL"} {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}
}

func TestAvroHashedAndExcludedColumns(t *testing.T) {
	table := &schema.Table{
		Database: "shop",
		Name:     "people",
		Columns: []schema.Column{
			{Name: "id", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "email", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 256, Charset: "utf8mb4", Treatment: schema.ColumnHashed},
			{Name: "born", Type: mysql.MYSQL_TYPE_DATE, Treatment: schema.ColumnHashed},
			{Name: "salary", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 10<<8 | 2, Treatment: schema.ColumnHashed},
			{Name: "note", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 256, Charset: "utf8mb4", Treatment: schema.ColumnHashed},
			{Name: "password", Type: mysql.MYSQL_TYPE_BLOB, Meta: 2, Charset: "binary", Treatment: schema.ColumnExcluded},
		},
		PrimaryKey: []int{0},
	}
	row := []any{int32(1), "ada@example.com", "0000-00-00", "1.10", nil, []byte("secret")}
	change := &Change{Table: table, Op: OpCreate, After: row}
	options := Options{HashSalt: "pepper"}

	encoder := newAvro()
	encoder.Options = options
	s, err := encoder.Schemas(table, "sluice.shop.people")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	types, names := valueFieldTypes(t, s)
	if want := []string{"id", "email", "born", "salary", "note"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Value fields %v; want %v (password left out)", names, want)
	}
	for _, name := range []string{"email", "born", "salary", "note"} {
		if want := `["null","string"]`; types[name] != want {
			t.Errorf("hashed field %s has type %s; want %s", name, types[name], want)
		}
	}

	data, err := encoder.Value(s, change, 1)
	if err != nil {
		t.Fatalf("Value error: %v", err)
	}
	after := unwrapRecord(t, decodeAvro(t, s.ValueSchema, data)["after"], s.Namespace+".Value")

	jsonEncoder := newJSON()
	jsonEncoder.Options = options
	jsonData, err := jsonEncoder.Value(change, 1)
	if err != nil {
		t.Fatalf("JSON Value error: %v", err)
	}
	jsonAfter := decodeEnvelope(t, jsonData)["after"].(map[string]any)

	checkKeys(t, "after", after, sortedKeys(jsonAfter))
	for _, name := range []string{"email", "born", "salary", "note"} {
		checkField(t, "after", after, name, jsonAfter[name])
	}
	if hash, _ := after["email"].(string); len(hash) != 64 {
		t.Errorf("email hash %q; want 64 hex digits", hash)
	}
}

func TestAvroSchemasCached(t *testing.T) {
	encoder := newAvro()
	table := ordersTable()
	first, err := encoder.Schemas(table, "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}

	again, err := encoder.Schemas(table, "sluice.shop.orders")
	if err != nil {
		t.Fatalf("second Schemas error: %v", err)
	}
	if again != first {
		t.Error("Schemas of the same table returned a new TableSchemas")
	}
	// A table decoded again from another TABLE_MAP event is a new value
	// with the same columns.
	copied, err := encoder.Schemas(ordersTable(), "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas of a copy error: %v", err)
	}
	if copied != first {
		t.Error("Schemas of an equal table at another address returned a new TableSchemas")
	}

	changes := []struct {
		name   string
		change func(*schema.Table)
		topic  string
	}{
		{"column type", func(table *schema.Table) { table.Columns[2].Meta = 12<<8 | 2 }, "sluice.shop.orders"},
		{"column added", func(table *schema.Table) {
			table.Columns = append(table.Columns, schema.Column{Name: "qty", Type: mysql.MYSQL_TYPE_LONG})
		}, "sluice.shop.orders"},
		{"column renamed", func(table *schema.Table) { table.Columns[1].Name = "comment" }, "sluice.shop.orders"},
		{"column hashed", func(table *schema.Table) { table.Columns[1].Treatment = schema.ColumnHashed }, "sluice.shop.orders"},
		{"primary key", func(table *schema.Table) { table.PrimaryKey = []int{0, 1} }, "sluice.shop.orders"},
		{"topic", func(*schema.Table) {}, "other"},
	}
	for _, tc := range changes {
		t.Run(tc.name, func(t *testing.T) {
			// The same *Table changed in place must not find the old entry.
			changed := ordersTable()
			before, err := encoder.Schemas(changed, "sluice.shop.orders")
			if err != nil || before != first {
				t.Fatalf("Schemas before the change = %p, %v; want the cached %p", before, err, first)
			}
			tc.change(changed)
			after, err := encoder.Schemas(changed, tc.topic)
			if err != nil {
				t.Fatalf("Schemas after the change error: %v", err)
			}
			if after == first {
				t.Error("Schemas after the change returned the cached TableSchemas of the old version")
			}
		})
	}

	encoder.Options.Decimal = DecimalDouble
	withOptions, err := encoder.Schemas(table, "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas with other options error: %v", err)
	}
	if withOptions == first {
		t.Error("Schemas with another decimal mode returned the cached TableSchemas")
	}
}

func TestAvroSchemasCacheBounded(t *testing.T) {
	encoder := newAvro()
	encoder.MaxCachedSchemas = 2
	tableNamed := func(name string) *schema.Table {
		table := ordersTable()
		table.Name = name
		return table
	}

	first, err := encoder.Schemas(tableNamed("a"), "a")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	second, _ := encoder.Schemas(tableNamed("b"), "b")
	// Using a makes b the least recently used entry.
	if again, _ := encoder.Schemas(tableNamed("a"), "a"); again != first {
		t.Error("a was not cached")
	}
	if _, err := encoder.Schemas(tableNamed("c"), "c"); err != nil {
		t.Fatalf("Schemas error: %v", err)
	}

	if got := len(encoder.cache); got != 2 {
		t.Errorf("cache has %d entries; want 2", got)
	}
	if got := encoder.recent.Len(); got != 2 {
		t.Errorf("recency list has %d entries; want 2", got)
	}
	if again, _ := encoder.Schemas(tableNamed("a"), "a"); again != first {
		t.Error("a, used recently, was dropped")
	}
	if again, _ := encoder.Schemas(tableNamed("b"), "b"); again == second {
		t.Error("b, the least recently used, was kept beyond the limit")
	}
}

func TestAvroSchemasConcurrent(t *testing.T) {
	encoder := newAvro()
	table := ordersTable()
	var wg sync.WaitGroup
	results := make([]*TableSchemas, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := encoder.Schemas(ordersTable(), "sluice.shop.orders")
			if err != nil {
				t.Errorf("Schemas error: %v", err)
				return
			}
			if _, err := encoder.Value(s, &Change{Table: table, Op: OpCreate, After: []any{uint64(i), "x", "1.00"}}, 1); err != nil {
				t.Errorf("Value error: %v", err)
			}
			results[i] = s
		}()
	}
	wg.Wait()
	for i, s := range results {
		if s != results[0] {
			t.Errorf("goroutine %d got TableSchemas %p; goroutine 0 got %p", i, s, results[0])
		}
	}
}
