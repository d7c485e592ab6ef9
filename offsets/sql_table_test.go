package offsets

import (
	"strings"
	"testing"
)

func TestPositionsTableName(t *testing.T) {
	for _, name := range []string{"sluice_positions", "Positions", "_p1", strings.Repeat("t", 63)} {
		got, err := positionsTable(name, mysqlTableVariable)
		if err != nil {
			t.Errorf("positionsTable(%q): %v", name, err)
		} else if got != name {
			t.Errorf("positionsTable(%q) = %q", name, got)
		}
	}

	got, err := positionsTable("", mysqlTableVariable)
	if err != nil || got != DefaultPositionsTable {
		t.Errorf("positionsTable(\"\") = %q, %v; want %q", got, err, DefaultPositionsTable)
	}

	for _, name := range []string{"1positions", "sluice-positions", "db.positions", "p; DROP TABLE x", "`p`", strings.Repeat("t", 64)} {
		_, err := positionsTable(name, postgresTableVariable)
		if err == nil {
			t.Errorf("positionsTable(%q) succeeded, want an error", name)
			continue
		}
		if !strings.Contains(err.Error(), postgresTableVariable) {
			t.Errorf("positionsTable(%q) = %q, want it to name %s", name, err, postgresTableVariable)
		}
	}
}

// positionsShape returns the shape of a table that the trackers can use.
func positionsShape() tableShape {
	shape := tableShape{exists: true, streamUnique: true, columns: map[string]columnShape{}}
	for _, column := range requiredColumns {
		shape.columns[column.name] = columnShape{typ: "fitting", kind: column.kinds[0], needsValue: true}
	}
	return shape
}

func TestTableShapeProblems(t *testing.T) {
	tests := []struct {
		name   string
		change func(s *tableShape)
		want   []string
	}{
		{"fitting table", func(*tableShape) {}, nil},
		{"optional extra column", func(s *tableShape) {
			s.columns["note"] = columnShape{typ: "text", kind: kindText}
		}, nil},
		{"missing columns", func(s *tableShape) {
			delete(s.columns, columnPosition)
			delete(s.columns, columnGTIDSet)
		}, []string{"missing columns position, gtid_set"}},
		{"wrong types", func(s *tableShape) {
			s.columns[columnStream] = columnShape{typ: "int(11)", kind: kindNarrowInteger}
			s.columns[columnServerID] = columnShape{typ: "int(11)", kind: kindNarrowInteger}
		}, []string{"column stream is int(11), want a character type", "column server_id is int(11), want an integer type that holds 0 to 4294967295"}},
		{"stream not unique", func(s *tableShape) {
			s.streamUnique = false
		}, []string{"column stream has no primary key or unique index of its own"}},
		{"extra NOT NULL column", func(s *tableShape) {
			s.columns["tenant"] = columnShape{typ: "integer", kind: kindNarrowInteger, needsValue: true}
		}, []string{"column tenant is NOT NULL without a default"}},
		{"extra NOT NULL columns", func(s *tableShape) {
			s.columns["tenant"] = columnShape{typ: "integer", kind: kindNarrowInteger, needsValue: true}
			s.columns["region"] = columnShape{typ: "text", kind: kindText, needsValue: true}
		}, []string{"columns region, tenant are NOT NULL without a default"}},
		{"view", func(s *tableShape) {
			s.notTable = true
		}, []string{"it is a view or another relation, not a table"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			shape := positionsShape()
			tt.change(&shape)
			problems := shape.problems()
			if len(problems) != len(tt.want) {
				t.Fatalf("problems = %q, want %d problems like %q", problems, len(tt.want), tt.want)
			}
			for i, want := range tt.want {
				if !strings.Contains(problems[i], want) {
					t.Errorf("problem %d = %q, want it to contain %q", i, problems[i], want)
				}
			}
		})
	}
}

func TestColumnKinds(t *testing.T) {
	mysqlTests := []struct {
		dataType, columnType string
		want                 columnKind
	}{
		{"varchar", "varchar(255)", kindText},
		{"mediumtext", "mediumtext", kindText},
		{"json", "json", kindJSON},
		{"int", "int(10) unsigned", kindWideInteger},
		{"int", "int(11)", kindNarrowInteger},
		{"bigint", "bigint(20)", kindWideInteger},
		{"datetime", "datetime(6)", kindTimestamp},
		{"blob", "blob", kindOther},
	}
	for _, tt := range mysqlTests {
		if got := mysqlColumnKind(tt.dataType, tt.columnType); got != tt.want {
			t.Errorf("mysqlColumnKind(%q, %q) = %d, want %d", tt.dataType, tt.columnType, got, tt.want)
		}
	}

	postgresTests := []struct {
		baseType string
		want     columnKind
	}{
		{"text", kindText},
		{"character varying", kindText},
		{"jsonb", kindJSON},
		{"bigint", kindWideInteger},
		{"integer", kindNarrowInteger},
		{"timestamp with time zone", kindTimestamp},
		{"bytea", kindOther},
	}
	for _, tt := range postgresTests {
		if got := postgresColumnKind(tt.baseType); got != tt.want {
			t.Errorf("postgresColumnKind(%q) = %d, want %d", tt.baseType, got, tt.want)
		}
	}
}
