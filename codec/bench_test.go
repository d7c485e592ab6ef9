package codec

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/schema"
)

// benchChange returns a create of a row like those of make bench's table.
func benchChange() *Change {
	table := &schema.Table{
		Database: "bench",
		Name:     "orders",
		Columns: []schema.Column{
			{Name: "id", Type: mysql.MYSQL_TYPE_LONGLONG},
			{Name: "customer_id", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "item", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 256, Collation: 255, Charset: "utf8mb4"},
			{Name: "amount", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 10<<8 | 2},
			{Name: "created_at", Type: mysql.MYSQL_TYPE_DATETIME2},
		},
		PrimaryKey: []int{0},
	}
	return &Change{
		Table:  table,
		Op:     OpCreate,
		After:  []any{int64(123456), int32(12345), "item-00123456-abcdefghijklmnopqrstuvwxyz", "123.45", "2026-01-01 00:00:01"},
		Source: Source{File: "mariadb-bin.000001", Pos: 4242, ServerID: 1, GTID: "0-1-42", TimestampMs: 1767225601000},
	}
}

func BenchmarkJSONValue(b *testing.B) {
	encoder, change := newJSON(), benchChange()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encoder.Value(change, 1); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkAvroValue(b *testing.B) {
	encoder, change := newAvro(), benchChange()
	schemas, err := encoder.Schemas(change.Table, "sluice.bench.orders")
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := encoder.Value(schemas, change, 1); err != nil {
			b.Fatal(err)
		}
	}
}
