package schema

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
)

func TestRealType(t *testing.T) {
	cases := []struct {
		name string
		typ  byte
		meta uint16
		want byte
	}{
		// ENUM and SET are written as MYSQL_TYPE_STRING with the real type
		// in the high byte and the storage size (1, 2 or up to 8) in the low.
		{"enum one byte", mysql.MYSQL_TYPE_STRING, 0xf701, mysql.MYSQL_TYPE_ENUM},
		{"enum two bytes", mysql.MYSQL_TYPE_STRING, 0xf702, mysql.MYSQL_TYPE_ENUM},
		{"set one byte", mysql.MYSQL_TYPE_STRING, 0xf801, mysql.MYSQL_TYPE_SET},
		{"set eight bytes", mysql.MYSQL_TYPE_STRING, 0xf808, mysql.MYSQL_TYPE_SET},
		{"binary 16", mysql.MYSQL_TYPE_STRING, 0xfe10, mysql.MYSQL_TYPE_STRING},
		{"char 255 latin1", mysql.MYSQL_TYPE_STRING, 0xfeff, mysql.MYSQL_TYPE_STRING},
		// CHAR(255) in utf8mb4 is 1020 bytes: 0x3fc, so the high byte is
		// 0xfe XOR 0x30.
		{"char 1020 bytes", mysql.MYSQL_TYPE_STRING, 0xcefc, mysql.MYSQL_TYPE_STRING},
		{"char 256 bytes", mysql.MYSQL_TYPE_STRING, 0xee00, mysql.MYSQL_TYPE_STRING},
		{"string short meta", mysql.MYSQL_TYPE_STRING, 0x00f7, mysql.MYSQL_TYPE_STRING},
		{"varchar with enum byte", mysql.MYSQL_TYPE_VARCHAR, 0xf701, mysql.MYSQL_TYPE_VARCHAR},
		{"long", mysql.MYSQL_TYPE_LONG, 0, mysql.MYSQL_TYPE_LONG},
		{"blob", mysql.MYSQL_TYPE_BLOB, 2, mysql.MYSQL_TYPE_BLOB},
		{"decimal", mysql.MYSQL_TYPE_NEWDECIMAL, 0x0a02, mysql.MYSQL_TYPE_NEWDECIMAL},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got := realType(tc.typ, tc.meta); got != tc.want {
				t.Errorf("realType(%d, %#04x) = %d; want %d", tc.typ, tc.meta, got, tc.want)
			}
		})
	}
}

// Collation ids of the server: 8 latin1_swedish_ci, 45 utf8mb4_general_ci,
// 63 binary, 255 utf8mb4_0900_ai_ci.
const (
	latin1SwedishCI  = 8
	utf8mb4GeneralCI = 45
	utf8mb40900AICI  = 255
)

// shopItemsEvent builds the TABLE_MAP event of
//
//	CREATE TABLE shop.items (
//	  id BIGINT UNSIGNED,          -- 0
//	  name VARCHAR(64),            -- 1, utf8mb4_0900_ai_ci
//	  price DECIMAL(10,2),         -- 2
//	  status ENUM('new','done'),   -- 3, utf8mb4_general_ci
//	  tags SET('a','b','c'),       -- 4, latin1_swedish_ci
//	  digest BINARY(16),           -- 5, binary
//	  note TEXT,                   -- 6, latin1_swedish_ci
//	  small TINYINT UNSIGNED,      -- 7
//	  PRIMARY KEY (id))
//
// as a server with binlog_row_metadata=FULL writes it, with the character
// sets in the DEFAULT_CHARSET form.
func shopItemsEvent() *replication.TableMapEvent {
	return &replication.TableMapEvent{
		Schema:      []byte("shop"),
		Table:       []byte("items"),
		ColumnCount: 8,
		ColumnType: []byte{
			mysql.MYSQL_TYPE_LONGLONG,
			mysql.MYSQL_TYPE_VARCHAR,
			mysql.MYSQL_TYPE_NEWDECIMAL,
			mysql.MYSQL_TYPE_STRING,
			mysql.MYSQL_TYPE_STRING,
			mysql.MYSQL_TYPE_STRING,
			mysql.MYSQL_TYPE_BLOB,
			mysql.MYSQL_TYPE_TINY,
		},
		ColumnMeta: []uint16{0, 256, 0x0a02, 0xf701, 0xf801, 0xfe10, 2, 0},
		ColumnName: [][]byte{
			[]byte("id"), []byte("name"), []byte("price"), []byte("status"),
			[]byte("tags"), []byte("digest"), []byte("note"), []byte("small"),
		},
		// One bit per numeric column (id, price, small), most significant
		// bit first: id unsigned, price signed, small unsigned.
		SignednessBitmap: []byte{0b1010_0000},
		// The default collation of character columns, then pairs of
		// (index among character columns, collation) for the exceptions.
		// The character columns are name, digest and note.
		DefaultCharset:        []uint64{utf8mb40900AICI, 1, BinaryCollation, 2, latin1SwedishCI},
		EnumSetDefaultCharset: []uint64{utf8mb4GeneralCI, 1, latin1SwedishCI},
		EnumStrValue:          [][][]byte{{[]byte("new"), []byte("done")}},
		SetStrValue:           [][][]byte{{[]byte("a"), []byte("b"), []byte("c")}},
		PrimaryKey:            []uint64{0},
	}
}

func wantShopItemsColumns() []Column {
	return []Column{
		{Name: "id", Type: mysql.MYSQL_TYPE_LONGLONG, Meta: 0, Unsigned: true},
		{Name: "name", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 256, Collation: utf8mb40900AICI},
		{Name: "price", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 0x0a02},
		{Name: "status", Type: mysql.MYSQL_TYPE_ENUM, Meta: 0xf701, Collation: utf8mb4GeneralCI, EnumValues: []string{"new", "done"}},
		{Name: "tags", Type: mysql.MYSQL_TYPE_SET, Meta: 0xf801, Collation: latin1SwedishCI, SetValues: []string{"a", "b", "c"}},
		{Name: "digest", Type: mysql.MYSQL_TYPE_STRING, Meta: 0xfe10, Collation: BinaryCollation},
		{Name: "note", Type: mysql.MYSQL_TYPE_BLOB, Meta: 2, Collation: latin1SwedishCI},
		{Name: "small", Type: mysql.MYSQL_TYPE_TINY, Meta: 0, Unsigned: true},
	}
}

func checkColumns(t *testing.T, got, want []Column) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%d columns; want %d", len(got), len(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.Name != w.Name {
			t.Errorf("column %d name = %q; want %q", i, g.Name, w.Name)
		}
		if g.Type != w.Type {
			t.Errorf("column %s type = %d; want %d", w.Name, g.Type, w.Type)
		}
		if g.Meta != w.Meta {
			t.Errorf("column %s meta = %#04x; want %#04x", w.Name, g.Meta, w.Meta)
		}
		if g.Unsigned != w.Unsigned {
			t.Errorf("column %s unsigned = %t; want %t", w.Name, g.Unsigned, w.Unsigned)
		}
		if g.Collation != w.Collation {
			t.Errorf("column %s collation = %d; want %d", w.Name, g.Collation, w.Collation)
		}
		if g.Charset != "" {
			t.Errorf("column %s charset = %q; want \"\" (the reader fills it in)", w.Name, g.Charset)
		}
		if !slices.Equal(g.EnumValues, w.EnumValues) {
			t.Errorf("column %s ENUM members = %q; want %q", w.Name, g.EnumValues, w.EnumValues)
		}
		if !slices.Equal(g.SetValues, w.SetValues) {
			t.Errorf("column %s SET members = %q; want %q", w.Name, g.SetValues, w.SetValues)
		}
	}
}

func TestFromTableMap(t *testing.T) {
	table, err := FromTableMap(shopItemsEvent())
	if err != nil {
		t.Fatalf("FromTableMap error: %v", err)
	}
	if table.Database != "shop" {
		t.Errorf("Database = %q; want %q", table.Database, "shop")
	}
	if table.Name != "items" {
		t.Errorf("Name = %q; want %q", table.Name, "items")
	}
	if got := table.String(); got != "shop.items" {
		t.Errorf("String() = %q; want %q", got, "shop.items")
	}
	if !slices.Equal(table.PrimaryKey, []int{0}) {
		t.Errorf("PrimaryKey = %v; want [0]", table.PrimaryKey)
	}
	checkColumns(t, table.Columns, wantShopItemsColumns())
}

func TestFromTableMapColumnCharset(t *testing.T) {
	event := shopItemsEvent()
	// The COLUMN_CHARSET form lists one collation per character column,
	// and ENUM_AND_SET_COLUMN_CHARSET one per ENUM or SET column.
	event.DefaultCharset = nil
	event.ColumnCharset = []uint64{utf8mb40900AICI, BinaryCollation, latin1SwedishCI}
	event.EnumSetDefaultCharset = nil
	event.EnumSetColumnCharset = []uint64{utf8mb4GeneralCI, latin1SwedishCI}

	table, err := FromTableMap(event)
	if err != nil {
		t.Fatalf("FromTableMap error: %v", err)
	}
	checkColumns(t, table.Columns, wantShopItemsColumns())
}

func TestFromTableMapCompositeKey(t *testing.T) {
	event := shopItemsEvent()
	// PRIMARY KEY (name, id): key order, not column order.
	event.PrimaryKey = []uint64{1, 0}

	table, err := FromTableMap(event)
	if err != nil {
		t.Fatalf("FromTableMap error: %v", err)
	}
	if !slices.Equal(table.PrimaryKey, []int{1, 0}) {
		t.Errorf("PrimaryKey = %v; want [1 0]", table.PrimaryKey)
	}
}

func TestFromTableMapNoPrimaryKey(t *testing.T) {
	event := shopItemsEvent()
	event.PrimaryKey = nil

	table, err := FromTableMap(event)
	if err != nil {
		t.Fatalf("FromTableMap error: %v", err)
	}
	if len(table.PrimaryKey) != 0 {
		t.Errorf("PrimaryKey = %v; want empty", table.PrimaryKey)
	}
}

func TestFromTableMapSignedness(t *testing.T) {
	event := shopItemsEvent()
	// No numeric column (id, price, small) is unsigned.
	event.SignednessBitmap = []byte{0}

	table, err := FromTableMap(event)
	if err != nil {
		t.Fatalf("FromTableMap error: %v", err)
	}
	for _, index := range []int{0, 2, 7} {
		if column := table.Columns[index]; column.Unsigned {
			t.Errorf("column %s unsigned = true; want false", column.Name)
		}
	}
}

func TestFromTableMapMinimalMetadata(t *testing.T) {
	// binlog_row_metadata=MINIMAL writes signedness and character sets but
	// no column names, ENUM or SET members, or primary key.
	event := shopItemsEvent()
	event.ColumnName = nil
	event.EnumStrValue = nil
	event.SetStrValue = nil
	event.EnumSetDefaultCharset = nil
	event.PrimaryKey = nil

	table, err := FromTableMap(event)
	if err == nil {
		t.Fatalf("FromTableMap = %+v with no error; want an error for missing column names", table)
	}
	if !errors.Is(err, ErrNoColumnNames) {
		t.Errorf("error %q does not wrap ErrNoColumnNames", err)
	}
	if !strings.Contains(err.Error(), "shop.items") {
		t.Errorf("error %q does not name the table shop.items", err)
	}
}

func TestFromTableMapNameCountMismatch(t *testing.T) {
	event := shopItemsEvent()
	event.ColumnName = event.ColumnName[:7]

	_, err := FromTableMap(event)
	if err == nil {
		t.Fatal("FromTableMap with 7 names for 8 columns returned no error")
	}
	for _, text := range []string{"7", "8"} {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}
}

func TestFromTableMapKeyOutOfRange(t *testing.T) {
	event := shopItemsEvent()
	event.PrimaryKey = []uint64{0, 8}

	table, err := FromTableMap(event)
	if err == nil {
		t.Fatalf("FromTableMap = %+v with no error; want an error for key index 8", table)
	}
	for _, text := range []string{"shop.items", "index 8", "8 columns"} {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}
}

func TestColumnIsBinary(t *testing.T) {
	cases := []struct {
		name      string
		collation uint64
		want      bool
	}{
		{"binary", BinaryCollation, true},
		{"utf8mb4", utf8mb40900AICI, false},
		{"latin1", latin1SwedishCI, false},
		{"not character", 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			column := Column{Collation: tc.collation}
			if got := column.IsBinary(); got != tc.want {
				t.Errorf("IsBinary() with collation %d = %t; want %t", tc.collation, got, tc.want)
			}
		})
	}
}
