package source

import "testing"

func TestTruncatedTable(t *testing.T) {
	cases := []struct {
		query, defaultDB string
		db, table        string
	}{
		{"TRUNCATE TABLE tr", "db2", "db2", "tr"},
		{"truncate tr", "db2", "db2", "tr"},
		{"/* maintenance */ truncate`tr`", "db1", "db1", "tr"},
		{"TRUNCATE db2.tr", "db1", "db2", "tr"},
		{"TRUNCATE TABLE `odd db`.`odd.table`", "", "odd db", "odd.table"},
		{"TRUNCATE TABLE `back``quote`", "d", "d", "back`quote"},
		{"TRUNCATE TABLE t WAIT 5", "d", "d", "t"},
	}
	for _, tc := range cases {
		db, table, err := truncatedTable(tc.query, tc.defaultDB)
		if err != nil {
			t.Errorf("truncatedTable(%q) error: %v", tc.query, err)
			continue
		}
		if db != tc.db || table != tc.table {
			t.Errorf("truncatedTable(%q) = %q.%q, want %q.%q", tc.query, db, table, tc.db, tc.table)
		}
	}
}

func TestStatementTables(t *testing.T) {
	cases := []struct {
		query, defaultDB string
		want             []tableName
	}{
		{"INSERT INTO sb VALUES (2, 'stmt')", "d", []tableName{{"d", "sb"}}},
		{"INSERT INTO other.sb VALUES (2)", "", []tableName{{"other", "sb"}}},
		{"UPDATE a JOIN b.c ON a.id = c.id SET a.v = 1", "d", []tableName{{"d", "a"}, {"b", "c"}}},
		{"DELETE FROM x WHERE id IN (SELECT id FROM y.z)", "d", []tableName{{"d", "x"}, {"y", "z"}}},
	}
	for _, tc := range cases {
		got, err := statementTables(tc.query, tc.defaultDB)
		if err != nil {
			t.Errorf("statementTables(%q) error: %v", tc.query, err)
			continue
		}
		if len(got) != len(tc.want) {
			t.Errorf("statementTables(%q) = %v, want %v", tc.query, got, tc.want)
			continue
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("statementTables(%q)[%d] = %v, want %v", tc.query, i, got[i], tc.want[i])
			}
		}
	}
}

func TestStatementTablesDatabases(t *testing.T) {
	cases := []struct {
		query string
		want  tableName
	}{
		{"CREATE DATABASE shop", tableName{"shop", ""}},
		{"DROP DATABASE IF EXISTS shop", tableName{"shop", ""}},
		{"ALTER TABLE alt.t ADD COLUMN c INT", tableName{"alt", "t"}},
		{"CREATE TABLE shop.tmp (id INT)", tableName{"shop", "tmp"}},
	}
	for _, tc := range cases {
		got, err := statementTables(tc.query, "other")
		if err != nil {
			t.Errorf("statementTables(%q) error: %v", tc.query, err)
			continue
		}
		if len(got) != 1 || got[0] != tc.want {
			t.Errorf("statementTables(%q) = %v, want [%v]", tc.query, got, tc.want)
		}
	}
}
