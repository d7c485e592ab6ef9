package source

import (
	"path/filepath"
	"testing"

	"github.com/sluice-cdc/sluice/schema"
)

func TestHistoryLookup(t *testing.T) {
	v1 := &schema.Described{Columns: []schema.DescribedColumn{{Name: "id", DataType: "int"}}}
	v2 := &schema.Described{Columns: []schema.DescribedColumn{{Name: "id", DataType: "int"}, {Name: "c", DataType: "int"}}}
	other := &schema.Described{Columns: []schema.DescribedColumn{{Name: "x", DataType: "int"}}}
	path := filepath.Join(t.TempDir(), "history.jsonl")

	h, err := loadHistory(path)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range []historyEntry{
		{File: "bin.000001", Pos: 100, Database: "d", Table: "t", Described: v1},
		{File: "bin.000001", Pos: 150, Database: "d", Table: "o", Described: other},
		{File: "bin.000001", Pos: 200}, // a DDL statement
		{File: "bin.000002", Pos: 50, Database: "d", Table: "t", Described: v2},
		{File: "bin.000002", Pos: 80, Database: "d", Table: "o"}, // a DDL statement on d.o only
	} {
		if err := h.append(e); err != nil {
			t.Fatal(err)
		}
	}
	// A reloaded history must return the same as the one in memory.
	reloaded, err := loadHistory(path)
	if err != nil {
		t.Fatal(err)
	}

	cases := []struct {
		name  string
		table string
		file  string
		pos   uint32
		want  *schema.Described
	}{
		{"before any entry", "t", "bin.000001", 99, nil},
		{"at the first entry", "t", "bin.000001", 100, v1},
		{"between entries", "t", "bin.000001", 199, v1},
		{"after a DDL statement", "t", "bin.000001", 300, nil},
		{"in the next file", "t", "bin.000002", 50, v2},
		{"other table", "o", "bin.000001", 160, other},
		{"other table after DDL", "o", "bin.000002", 60, nil},
		{"unknown table", "u", "bin.000002", 60, nil},
		{"other table after its own DDL", "o", "bin.000002", 90, nil},
		{"table untouched by another table's DDL", "t", "bin.000002", 90, v2},
	}
	for _, tc := range cases {
		for name, history := range map[string]*history{"in memory": h, "reloaded": reloaded} {
			got := history.lookup("d", tc.table, positionAt(tc.file, tc.pos))
			if !sameDescription(got, tc.want) {
				t.Errorf("%s, %s: lookup(d.%s at %s:%d) = %+v, want %+v", tc.name, name, tc.table, tc.file, tc.pos, got, tc.want)
			}
		}
	}
}

func sameDescription(a, b *schema.Described) bool {
	if a == nil || b == nil {
		return a == b
	}
	if len(a.Columns) != len(b.Columns) {
		return false
	}
	for i := range a.Columns {
		if a.Columns[i].Name != b.Columns[i].Name {
			return false
		}
	}
	return true
}
