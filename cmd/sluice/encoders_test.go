package main

import (
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/schema"
)

func TestDescribeColumnChange(t *testing.T) {
	column := func(name string, typ byte) schema.Column { return schema.Column{Name: name, Type: typ} }
	base := &schema.Table{Database: "shop", Name: "t", Columns: []schema.Column{
		column("id", mysql.MYSQL_TYPE_LONG), column("name", mysql.MYSQL_TYPE_VARCHAR), column("note", mysql.MYSQL_TYPE_BLOB),
	}}
	tests := []struct {
		name  string
		after []schema.Column
		want  string
	}{
		{"added", append(append([]schema.Column{}, base.Columns...), column("email", mysql.MYSQL_TYPE_VARCHAR)), "added column email"},
		{"dropped", base.Columns[:2], "dropped column note"},
		{"type changed", []schema.Column{column("id", mysql.MYSQL_TYPE_LONGLONG), base.Columns[1], base.Columns[2]}, "changed the type of column id"},
		{"several", []schema.Column{base.Columns[0], column("email", mysql.MYSQL_TYPE_VARCHAR)},
			"added column email, dropped column name, dropped column note"},
		{"same", base.Columns, "column attributes changed"},
	}
	for _, tt := range tests {
		after := &schema.Table{Database: "shop", Name: "t", Columns: tt.after}
		if got := describeColumnChange(base, after); got != tt.want {
			t.Errorf("%s: %q, want %q", tt.name, got, tt.want)
		}
	}
}
