package codec

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/schema"
)

// allTypesTable is shop.every(id INT PRIMARY KEY, and a column of each
// type).
func allTypesTable() *schema.Table {
	return &schema.Table{
		Database: "shop",
		Name:     "every",
		Columns: []schema.Column{
			{Name: "id", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "tiny", Type: mysql.MYSQL_TYPE_TINY},
			{Name: "small_u", Type: mysql.MYSQL_TYPE_SHORT, Unsigned: true},
			{Name: "medium", Type: mysql.MYSQL_TYPE_INT24},
			{Name: "int_s", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "int_u", Type: mysql.MYSQL_TYPE_LONG, Unsigned: true},
			{Name: "big", Type: mysql.MYSQL_TYPE_LONGLONG},
			{Name: "big_u", Type: mysql.MYSQL_TYPE_LONGLONG, Unsigned: true},
			{Name: "yr", Type: mysql.MYSQL_TYPE_YEAR},
			{Name: "f", Type: mysql.MYSQL_TYPE_FLOAT},
			{Name: "d", Type: mysql.MYSQL_TYPE_DOUBLE},
			{Name: "dec", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 65<<8 | 30},
			{Name: "flag", Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0001},
			{Name: "bits", Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0800},
			{Name: "day", Type: mysql.MYSQL_TYPE_DATE},
			{Name: "dt", Type: mysql.MYSQL_TYPE_DATETIME2, Meta: 6},
			{Name: "ts", Type: mysql.MYSQL_TYPE_TIMESTAMP2, Meta: 3},
			{Name: "tm", Type: mysql.MYSQL_TYPE_TIME2, Meta: 0},
			{Name: "vc", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 256, Charset: "utf8mb4"},
			{Name: "txt", Type: mysql.MYSQL_TYPE_BLOB, Meta: 2, Charset: "latin1"},
			{Name: "bin", Type: mysql.MYSQL_TYPE_STRING, Meta: stringMeta(4), Charset: "binary"},
			{Name: "blb", Type: mysql.MYSQL_TYPE_BLOB, Meta: 2, Charset: "binary"},
			{Name: "e", Type: mysql.MYSQL_TYPE_ENUM, Charset: "utf8mb4", EnumValues: []string{"x"}},
			{Name: "s", Type: mysql.MYSQL_TYPE_SET, Charset: "utf8mb4", SetValues: []string{"x"}},
			{Name: "doc", Type: mysql.MYSQL_TYPE_JSON},
			{Name: "geo", Type: mysql.MYSQL_TYPE_GEOMETRY},
			{Name: "uid", Type: mysql.MYSQL_TYPE_STRING, Meta: stringMeta(16), Charset: "binary", DataType: "uuid"},
			{Name: "ip4", Type: mysql.MYSQL_TYPE_STRING, Meta: stringMeta(4), Charset: "binary", DataType: "inet4"},
		},
		PrimaryKey: []int{0},
	}
}

// valueFieldTypes returns the JSON text of each Value record field's
// type, by field name, and the field names in order.
func valueFieldTypes(t *testing.T, s *TableSchemas) (map[string]string, []string) {
	t.Helper()
	var envelope struct {
		Fields []struct {
			Name string
			Type json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(s.ValueSchema), &envelope); err != nil {
		t.Fatalf("value schema is not JSON: %v", err)
	}
	var beforeUnion []json.RawMessage
	if err := json.Unmarshal(envelope.Fields[0].Type, &beforeUnion); err != nil || len(beforeUnion) != 2 {
		t.Fatalf("before type %s; want a union of null and Value (%v)", envelope.Fields[0].Type, err)
	}
	return recordFieldTypes(t, beforeUnion[1])
}

func recordFieldTypes(t *testing.T, recordSchema []byte) (map[string]string, []string) {
	t.Helper()
	var record struct {
		Fields []struct {
			Name string
			Type json.RawMessage
		}
	}
	if err := json.Unmarshal(recordSchema, &record); err != nil {
		t.Fatalf("record schema %s: %v", recordSchema, err)
	}
	types := map[string]string{}
	var names []string
	for _, f := range record.Fields {
		types[f.Name] = string(f.Type)
		names = append(names, f.Name)
	}
	return types, names
}

func TestAvroSchemaColumnTypes(t *testing.T) {
	s, err := newAvro().Schemas(allTypesTable(), "sluice.shop.every")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	types, _ := valueFieldTypes(t, s)

	nullable := func(typ string) string { return `["null",` + typ + `]` }
	want := map[string]string{
		"id":      `"int"`,
		"tiny":    nullable(`"int"`),
		"small_u": nullable(`"int"`),
		"medium":  nullable(`"int"`),
		"int_s":   nullable(`"int"`),
		"int_u":   nullable(`"long"`),
		"big":     nullable(`"long"`),
		"big_u":   nullable(`{"type":"bytes","logicalType":"decimal","precision":20,"scale":0}`),
		"yr":      nullable(`"int"`),
		"f":       nullable(`"float"`),
		"d":       nullable(`"double"`),
		"dec":     nullable(`{"type":"bytes","logicalType":"decimal","precision":65,"scale":30}`),
		"flag":    nullable(`"boolean"`),
		"bits":    nullable(`"bytes"`),
		"day":     nullable(`{"type":"int","logicalType":"date"}`),
		"dt":      nullable(`{"type":"long","logicalType":"local-timestamp-micros"}`),
		"ts":      nullable(`{"type":"long","logicalType":"timestamp-micros"}`),
		"tm":      nullable(`"long"`),
		"vc":      nullable(`"string"`),
		"txt":     nullable(`"string"`),
		"bin":     nullable(`"bytes"`),
		"blb":     nullable(`"bytes"`),
		"e":       nullable(`"string"`),
		"s":       nullable(`"string"`),
		"doc":     nullable(`"string"`),
		"geo":     nullable(`"bytes"`),
		"uid":     nullable(`"string"`),
		"ip4":     nullable(`"string"`),
	}
	for name, wantType := range want {
		if got, ok := types[name]; !ok {
			t.Errorf("Value has no field %s", name)
		} else if got != wantType {
			t.Errorf("Value field %s has type %s; want %s", name, got, wantType)
		}
	}
	if len(types) != len(want) {
		t.Errorf("Value has %d fields; want %d", len(types), len(want))
	}
}

func TestAvroSchemaDecimalModes(t *testing.T) {
	table := &schema.Table{
		Database: "shop", Name: "prices",
		Columns: []schema.Column{{Name: "price", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 10<<8 | 2}},
	}
	exact := `["null",{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}]`
	cases := []struct {
		mode DecimalMode
		want string
	}{
		{DecimalString, exact},
		{DecimalPrecise, exact},
		{DecimalDouble, `["null","double"]`},
	}
	for _, tc := range cases {
		encoder := newAvro()
		encoder.Options.Decimal = tc.mode
		s, err := encoder.Schemas(table, "t")
		if err != nil {
			t.Fatalf("mode %d: Schemas error: %v", tc.mode, err)
		}
		types, _ := valueFieldTypes(t, s)
		if types["price"] != tc.want {
			t.Errorf("mode %d: price has type %s; want %s", tc.mode, types["price"], tc.want)
		}
	}
}

func TestAvroNamespace(t *testing.T) {
	cases := []struct {
		prefix, database, table string
		want                    string
	}{
		{"sluice", "shop", "orders", "sluice.shop.orders"},
		{"my-server", "shop", "orders", "my_server.shop.orders"},
		{"prod.cdc", "shop", "orders", "prod.cdc.shop.orders"},
		{"", "shop", "orders", "shop.orders"},
		{"sluice", "2024db", "1st", "sluice._024db._st"},
		{"sluice", "shop", "order.items", "sluice.shop.order_items"},
		{"sluice", "café", "t$x y", "sluice.caf_.t_x_y"},
		{"9lives", "a", "b", "_lives.a.b"},
		{"a..b", "", "t", "a._.b._.t"},
	}
	for _, tc := range cases {
		if got := avroNamespace(tc.prefix, tc.database, tc.table); got != tc.want {
			t.Errorf("avroNamespace(%q, %q, %q) = %q; want %q", tc.prefix, tc.database, tc.table, got, tc.want)
		}
	}
}

func TestAvroSchemaNames(t *testing.T) {
	table := &schema.Table{
		Database: "my-shop",
		Name:     "2024.orders",
		Columns: []schema.Column{
			{Name: "order-id", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "1st", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "naïve", Type: mysql.MYSQL_TYPE_VARCHAR, Charset: "utf8mb4"},
		},
		PrimaryKey: []int{0},
	}
	encoder := &Avro{Connector: "mariadb", Name: "edge-1", Version: "v"}
	s, err := encoder.Schemas(table, "edge-1.my-shop.2024.orders")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	if want := "edge_1.my_shop._024_orders"; s.Namespace != want {
		t.Errorf("Namespace = %q; want %q", s.Namespace, want)
	}
	if s.Topic != "edge-1.my-shop.2024.orders" {
		t.Errorf("Topic = %q; want the topic given", s.Topic)
	}
	_, names := valueFieldTypes(t, s)
	if want := []string{"order_id", "_st", "na_ve"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Value fields %v; want %v", names, want)
	}
	for _, text := range []string{
		`"name":"Envelope","namespace":"edge_1.my_shop._024_orders"`,
		`"name":"Value"`,
		`"name":"Source","namespace":"io.debezium.connector.mariadb"`,
		`["null","edge_1.my_shop._024_orders.Value"]`,
	} {
		if !strings.Contains(s.ValueSchema, text) {
			t.Errorf("value schema does not contain %s:\n%s", text, s.ValueSchema)
		}
	}
	if want := `"name":"Key","namespace":"edge_1.my_shop._024_orders"`; !strings.Contains(s.KeySchema, want) {
		t.Errorf("key schema does not contain %s:\n%s", want, s.KeySchema)
	}

	// hamba/avro checks every name against Avro's rules.
	change := &Change{Table: table, Op: OpCreate, After: []any{int32(1), int32(2), "x"}}
	data, err := encoder.Value(s, change, 1)
	if err != nil {
		t.Fatalf("Value error: %v", err)
	}
	after := unwrapRecord(t, decodeAvro(t, s.ValueSchema, data)["after"], "edge_1.my_shop._024_orders.Value")
	checkField(t, "after", after, "order_id", 1)
	checkField(t, "after", after, "_st", 2)
	key, err := encoder.Key(s, table, change.After)
	if err != nil {
		t.Fatalf("Key error: %v", err)
	}
	checkField(t, "key", decodeAvro(t, s.KeySchema, key), "order_id", 1)
}

func TestAvroFieldNameCollision(t *testing.T) {
	table := &schema.Table{
		Database: "shop",
		Name:     "t",
		Columns: []schema.Column{
			{Name: "a-b", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "a_b", Type: mysql.MYSQL_TYPE_LONG},
		},
	}
	_, err := newAvro().Schemas(table, "t")
	if err == nil {
		t.Fatal("Schemas with columns a-b and a_b returned no error")
	}
	for _, text := range []string{"shop.t", `"a-b"`, `"a_b"`} {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}

	// Leaving one of them out resolves the collision.
	table.Columns[0].Treatment = schema.ColumnExcluded
	if _, err := newAvro().Schemas(table, "t"); err != nil {
		t.Errorf("Schemas with a-b excluded: %v", err)
	}
}

func TestAvroSchemasErrors(t *testing.T) {
	cases := []struct {
		name     string
		column   schema.Column
		wantText []string
	}{
		{"vector type", schema.Column{Name: "v", Type: mysql.MYSQL_TYPE_VECTOR}, []string{"242"}},
		{"decimal without precision", schema.Column{Name: "v", Type: mysql.MYSQL_TYPE_NEWDECIMAL}, []string{"precision 0"}},
		{"decimal scale above precision", schema.Column{Name: "v", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 2<<8 | 3}, []string{"scale 3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table := &schema.Table{Database: "shop", Name: "bad", Columns: []schema.Column{tc.column}}
			_, err := newAvro().Schemas(table, "t")
			if err == nil {
				t.Fatal("Schemas returned no error")
			}
			for _, text := range append([]string{"shop.bad", "column v"}, tc.wantText...) {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
		})
	}
}
