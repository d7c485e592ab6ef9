package codec

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/sluice-cdc/sluice/schema"
)

// ordersTable is shop.orders(id BIGINT UNSIGNED PRIMARY KEY,
// note VARCHAR(64) utf8mb4, price DECIMAL(10,2)).
func ordersTable() *schema.Table {
	return &schema.Table{
		Database: "shop",
		Name:     "orders",
		Columns: []schema.Column{
			{Name: "id", Type: mysql.MYSQL_TYPE_LONGLONG, Unsigned: true},
			{Name: "note", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 256, Collation: 255, Charset: "utf8mb4"},
			{Name: "price", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 10<<8 | 2},
		},
		PrimaryKey: []int{0},
	}
}

func newJSON() *JSON {
	return &JSON{Connector: "mysql", Name: "sluice", Version: "1.2.3"}
}

func TestJSONKeySingle(t *testing.T) {
	key, err := newJSON().Key(ordersTable(), []any{uint64(18446744073709551615), "x", "1.10"})
	if err != nil {
		t.Fatalf("Key error: %v", err)
	}
	if want := `{"id":18446744073709551615}`; string(key) != want {
		t.Errorf("Key = %s; want %s", key, want)
	}
}

func TestJSONKeyComposite(t *testing.T) {
	table := &schema.Table{
		Database: "shop",
		Name:     "lines",
		Columns: []schema.Column{
			{Name: "line", Type: mysql.MYSQL_TYPE_SHORT},
			{Name: "qty", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "order_code", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 80, Collation: 45, Charset: "utf8mb4"},
		},
		// PRIMARY KEY (order_code, line): key order differs from column order.
		PrimaryKey: []int{2, 0},
	}

	key, err := newJSON().Key(table, []any{int16(3), int32(10), "A-1"})
	if err != nil {
		t.Fatalf("Key error: %v", err)
	}
	if want := `{"order_code":"A-1","line":3}`; string(key) != want {
		t.Errorf("Key = %s; want %s", key, want)
	}
}

func TestJSONKeyNoPrimaryKey(t *testing.T) {
	table := ordersTable()
	table.PrimaryKey = nil

	key, err := newJSON().Key(table, []any{uint64(1), "x", "1.10"})
	if err != nil {
		t.Errorf("Key error: %v; want nil", err)
	}
	if key != nil {
		t.Errorf("Key = %q; want nil", key)
	}
}

func TestJSONKeyInvalidValue(t *testing.T) {
	_, err := newJSON().Key(ordersTable(), []any{"not a number", "x", "1.10"})
	if err == nil {
		t.Fatal("Key with a string in a BIGINT column returned no error")
	}
	for _, text := range []string{"shop.orders", "id"} {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}
}

// decodeEnvelope decodes a record value with json.Number for numbers, and
// fails the test unless it is exactly one JSON object.
func decodeEnvelope(t *testing.T, value []byte) map[string]any {
	t.Helper()
	if !json.Valid(value) {
		t.Fatalf("value is not valid JSON: %s", value)
	}
	decoder := json.NewDecoder(bytes.NewReader(value))
	decoder.UseNumber()
	var envelope map[string]any
	if err := decoder.Decode(&envelope); err != nil {
		t.Fatalf("decode value %s: %v", value, err)
	}
	if _, err := decoder.Token(); !errors.Is(err, io.EOF) {
		t.Fatalf("value %s has data after the object (err %v)", value, err)
	}
	return envelope
}

func sortedKeys(m map[string]any) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

func checkKeys(t *testing.T, objectName string, m map[string]any, want []string) {
	t.Helper()
	want = slices.Sorted(slices.Values(want))
	if got := sortedKeys(m); !slices.Equal(got, want) {
		t.Errorf("%s has fields %v; want %v", objectName, got, want)
	}
}

func checkField(t *testing.T, objectName string, m map[string]any, field string, want any) {
	t.Helper()
	got, ok := m[field]
	if !ok {
		t.Errorf("%s.%s is missing; want %#v", objectName, field, want)
		return
	}
	if got != want {
		t.Errorf("%s.%s = %#v (%T); want %#v (%T)", objectName, field, got, got, want, want)
	}
}

// checkRow checks a before or after field: null when want is nil, and
// otherwise an object with exactly the fields of want.
func checkRow(t *testing.T, envelope map[string]any, field string, want map[string]any) {
	t.Helper()
	got, ok := envelope[field]
	if !ok {
		t.Errorf("%s is missing", field)
		return
	}
	if want == nil {
		if got != nil {
			t.Errorf("%s = %#v; want null", field, got)
		}
		return
	}
	row, ok := got.(map[string]any)
	if !ok {
		t.Errorf("%s = %#v (%T); want an object", field, got, got)
		return
	}
	checkKeys(t, field, row, sortedKeys(want))
	for name, value := range want {
		checkField(t, field, row, name, value)
	}
}

func TestJSONValue(t *testing.T) {
	rowBefore := []any{uint64(18446744073709551615), "old \"note\"", "1.10"}
	rowAfter := []any{uint64(18446744073709551615), "new 😀", "-0.05"}
	wantBefore := map[string]any{"id": json.Number("18446744073709551615"), "note": `old "note"`, "price": "1.10"}
	wantAfter := map[string]any{"id": json.Number("18446744073709551615"), "note": "new 😀", "price": "-0.05"}

	cases := []struct {
		name       string
		op         Op
		before     []any
		after      []any
		gtid       string
		wantOp     string
		wantBefore map[string]any
		wantAfter  map[string]any
		wantGTID   any
	}{
		{"create", OpCreate, nil, rowAfter, "", "c", nil, wantAfter, nil},
		{
			"update", OpUpdate, rowBefore, rowAfter, "3E11FA47-71CA-11E1-9E33-C80AA9429562:23",
			"u", wantBefore, wantAfter, "3E11FA47-71CA-11E1-9E33-C80AA9429562:23",
		},
		{"delete", OpDelete, rowBefore, nil, "0-1-5", "d", wantBefore, nil, "0-1-5"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
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
			value, err := newJSON().Value(change, 1700000000123)
			if err != nil {
				t.Fatalf("Value error: %v", err)
			}

			envelope := decodeEnvelope(t, value)
			checkKeys(t, "envelope", envelope, []string{"before", "after", "source", "op", "ts_ms"})
			checkRow(t, envelope, "before", tc.wantBefore)
			checkRow(t, envelope, "after", tc.wantAfter)
			checkField(t, "envelope", envelope, "op", tc.wantOp)
			checkField(t, "envelope", envelope, "ts_ms", json.Number("1700000000123"))

			source, ok := envelope["source"].(map[string]any)
			if !ok {
				t.Fatalf("source = %#v; want an object", envelope["source"])
			}
			checkKeys(t, "source", source, []string{
				"version", "connector", "name", "ts_ms", "snapshot", "db", "table",
				"server_id", "gtid", "file", "pos", "row",
			})
			checkField(t, "source", source, "version", "1.2.3")
			checkField(t, "source", source, "connector", "mysql")
			checkField(t, "source", source, "name", "sluice")
			checkField(t, "source", source, "ts_ms", json.Number("1700000000000"))
			checkField(t, "source", source, "snapshot", "false")
			checkField(t, "source", source, "db", "shop")
			checkField(t, "source", source, "table", "orders")
			checkField(t, "source", source, "server_id", json.Number("4294967295"))
			checkField(t, "source", source, "gtid", tc.wantGTID)
			checkField(t, "source", source, "file", "mysql-bin.000003")
			checkField(t, "source", source, "pos", json.Number("4000000000"))
			checkField(t, "source", source, "row", json.Number("2"))
		})
	}
}

func TestJSONValueEscapesNames(t *testing.T) {
	table := &schema.Table{
		Database: `we"ird`,
		Name:     "tab\\le",
		Columns:  []schema.Column{{Name: "col\n1", Type: mysql.MYSQL_TYPE_TINY}},
	}
	encoder := &JSON{Connector: "mariadb", Name: "pre\tfix", Version: "v"}
	change := &Change{Table: table, Op: OpCreate, After: []any{int8(-1)}, Source: Source{File: "b.000001", Pos: 4}}

	value, err := encoder.Value(change, 0)
	if err != nil {
		t.Fatalf("Value error: %v", err)
	}
	envelope := decodeEnvelope(t, value)
	checkRow(t, envelope, "after", map[string]any{"col\n1": json.Number("-1")})

	source, ok := envelope["source"].(map[string]any)
	if !ok {
		t.Fatalf("source = %#v; want an object", envelope["source"])
	}
	checkField(t, "source", source, "connector", "mariadb")
	checkField(t, "source", source, "name", "pre\tfix")
	checkField(t, "source", source, "db", `we"ird`)
	checkField(t, "source", source, "table", "tab\\le")
}

func TestJSONValueBufferNotShared(t *testing.T) {
	encoder := newJSON()
	first := &Change{Table: ordersTable(), Op: OpCreate, After: []any{uint64(1), "first", "1.00"}}
	second := &Change{Table: ordersTable(), Op: OpDelete, Before: []any{uint64(2), "second value, longer", "2.00"}}

	value1, err := encoder.Value(first, 1)
	if err != nil {
		t.Fatalf("first Value error: %v", err)
	}
	saved1 := bytes.Clone(value1)

	value2, err := encoder.Value(second, 2)
	if err != nil {
		t.Fatalf("second Value error: %v", err)
	}
	if !bytes.Equal(value1, saved1) {
		t.Errorf("first value changed by the second Value call:\n got %s\nwant %s", value1, saved1)
	}

	// Writing into a returned value must not reach the internal buffer
	// that the next call encodes into.
	saved2 := bytes.Clone(value2)
	for i := range value1 {
		value1[i] = 'X'
	}
	value3, err := encoder.Value(second, 2)
	if err != nil {
		t.Fatalf("third Value error: %v", err)
	}
	if !bytes.Equal(value3, saved2) {
		t.Errorf("Value after writing into an earlier result:\n got %s\nwant %s", value3, saved2)
	}
	if !bytes.Equal(value2, saved2) {
		t.Errorf("second value changed by a later call:\n got %s\nwant %s", value2, saved2)
	}
}

func TestJSONValueRowLengthMismatch(t *testing.T) {
	change := &Change{Table: ordersTable(), Op: OpCreate, After: []any{uint64(1), "x"}}
	_, err := newJSON().Value(change, 0)
	if err == nil {
		t.Fatal("Value with 2 values for 3 columns returned no error")
	}
	for _, text := range []string{"shop.orders", "2", "3"} {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}
}

func TestJSONValueInvalidColumn(t *testing.T) {
	change := &Change{Table: ordersTable(), Op: OpUpdate, Before: []any{uint64(1), "x", 1.5}, After: []any{uint64(1), "x", "1.50"}}
	_, err := newJSON().Value(change, 0)
	if err == nil {
		t.Fatal("Value with a float64 in a DECIMAL column returned no error")
	}
	for _, text := range []string{"shop.orders", "price"} {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}
}
