package source

import (
	"reflect"
	"testing"

	"github.com/pingcap/tidb/pkg/parser/ast"

	"github.com/sluice-cdc/sluice/schema"
)

func TestApplyAlter(t *testing.T) {
	base := &schema.Described{
		Charset: "utf8mb4",
		Columns: []schema.DescribedColumn{
			{Name: "id", DataType: "int"},
			{Name: "a", DataType: "varchar", Charset: "utf8mb4"},
			{Name: "b", DataType: "int", Unsigned: true},
		},
		PrimaryKey: []string{"id"},
	}
	names := func(d *schema.Described) []string {
		var out []string
		for _, c := range d.Columns {
			out = append(out, c.Name+":"+c.DataType+":"+c.Charset)
		}
		return out
	}
	cases := []struct {
		statement string
		want      []string
		key       []string
	}{
		{"ALTER TABLE t ADD COLUMN c INT DEFAULT 7 AFTER id", []string{"id:int:", "c:int:", "a:varchar:utf8mb4", "b:int:"}, []string{"id"}},
		{"ALTER TABLE t ADD COLUMN z TEXT FIRST", []string{"z:text:utf8mb4", "id:int:", "a:varchar:utf8mb4", "b:int:"}, []string{"id"}},
		{"ALTER TABLE t ADD COLUMN l VARCHAR(3) CHARACTER SET latin1", []string{"id:int:", "a:varchar:utf8mb4", "b:int:", "l:varchar:latin1"}, []string{"id"}},
		{"ALTER TABLE t DROP COLUMN a", []string{"id:int:", "b:int:"}, []string{"id"}},
		{"ALTER TABLE t CHANGE b b_renamed BIGINT", []string{"id:int:", "a:varchar:utf8mb4", "b_renamed:bigint:"}, []string{"id"}},
		{"ALTER TABLE t MODIFY a BLOB FIRST", []string{"a:blob:binary", "id:int:", "b:int:"}, []string{"id"}},
		{"ALTER TABLE t RENAME COLUMN id TO ident", []string{"ident:int:", "a:varchar:utf8mb4", "b:int:"}, []string{"ident"}},
		{"ALTER TABLE t DROP PRIMARY KEY, ADD PRIMARY KEY (a, b)", []string{"id:int:", "a:varchar:utf8mb4", "b:int:"}, []string{"a", "b"}},
		{"ALTER TABLE t ADD INDEX by_b (b), ALTER COLUMN b SET DEFAULT 3", []string{"id:int:", "a:varchar:utf8mb4", "b:int:"}, []string{"id"}},
	}
	for _, tc := range cases {
		got, ok := applyAlter(mustParse(t, tc.statement), base)
		if !ok {
			t.Errorf("applyAlter(%q) was not applied", tc.statement)
			continue
		}
		if !reflect.DeepEqual(names(got), tc.want) {
			t.Errorf("applyAlter(%q) columns = %v, want %v", tc.statement, names(got), tc.want)
		}
		if !reflect.DeepEqual(got.PrimaryKey, tc.key) {
			t.Errorf("applyAlter(%q) primary key = %v, want %v", tc.statement, got.PrimaryKey, tc.key)
		}
	}
	if len(base.Columns) != 3 || base.Columns[1].Name != "a" {
		t.Errorf("applyAlter changed the description it started from: %+v", base.Columns)
	}
	// MariaDB's UUID type is unknown to the parser, so such a statement
	// never reaches applyAlter and the table is described anew.
	if _, err := parseStatement("ALTER TABLE t ADD COLUMN u UUID"); err == nil {
		t.Errorf("the parser accepted a UUID column; applyAlter would have to model it")
	}
	for _, statement := range []string{"ALTER TABLE t RENAME TO u", "CREATE TABLE t (id INT)"} {
		if _, ok := applyAlter(mustParse(t, statement), base); ok {
			t.Errorf("applyAlter(%q) was applied; want it left to information_schema", statement)
		}
	}
}

func mustParse(t *testing.T, statement string) ast.StmtNode {
	t.Helper()
	stmt, err := parseStatement(statement)
	if err != nil {
		t.Fatalf("parse %q: %v", statement, err)
	}
	return stmt
}
