package codec

import (
	"os"
	"strings"
	"testing"
)

// sqlTypes are the column types of MySQL 8.4 and MariaDB 10.11 that a
// table can have.
var sqlTypes = []string{
	"TINYINT", "SMALLINT", "MEDIUMINT", "INT", "INTEGER", "BIGINT", "DECIMAL", "NUMERIC",
	"FLOAT", "DOUBLE", "REAL", "BIT", "BOOL", "BOOLEAN", "YEAR",
	"DATE", "DATETIME", "TIMESTAMP", "TIME",
	"CHAR", "VARCHAR", "TINYTEXT", "TEXT", "MEDIUMTEXT", "LONGTEXT",
	"BINARY", "VARBINARY", "TINYBLOB", "BLOB", "MEDIUMBLOB", "LONGBLOB",
	"ENUM", "SET", "JSON",
	"GEOMETRY", "POINT", "LINESTRING", "POLYGON", "MULTIPOINT", "MULTILINESTRING", "MULTIPOLYGON", "GEOMETRYCOLLECTION",
	"UUID", "INET6", "INET4", "VECTOR",
}

// TestTypesDocumented checks that docs/types.md has a row for every column
// type, in the JSON form's table and in the Avro section.
func TestTypesDocumented(t *testing.T) {
	data, err := os.ReadFile("../docs/types.md")
	if err != nil {
		t.Fatalf("read docs/types.md: %v", err)
	}
	jsonPart, avroPart, found := strings.Cut(string(data), "\n## Avro\n")
	if !found {
		t.Fatal("docs/types.md has no Avro section")
	}
	for _, section := range []struct{ name, text string }{{"JSON", jsonPart}, {"Avro", avroPart}} {
		documented := documentedTypes(section.text)
		for _, typ := range sqlTypes {
			if !documented[typ] {
				t.Errorf("docs/types.md has no %s row for %s", section.name, typ)
			}
		}
	}
}

// documentedTypes returns the SQL types named in the first cell of the
// table rows in text.
func documentedTypes(text string) map[string]bool {
	documented := map[string]bool{}
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		firstCell := strings.Split(line, "|")[1]
		for _, part := range strings.Split(firstCell, "`") {
			name := strings.TrimSpace(part)
			if name == "" || strings.ContainsAny(name, ",") {
				continue
			}
			// "DATETIME(0)" and "BIGINT UNSIGNED" document DATETIME and BIGINT.
			name, _, _ = strings.Cut(name, "(")
			name, _, _ = strings.Cut(name, " ")
			documented[name] = true
		}
	}
	return documented
}
