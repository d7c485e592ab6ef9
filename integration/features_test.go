//go:build integration

package integration

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"syscall"
	"testing"
	"time"
)

func TestTruncateAndSchemaChanges(t *testing.T) {
	f := newFixture(t)
	schemaTopic := f.prefix + ".schema-changes"
	p := f.startReady("SLUICE_SCHEMA_CHANGES_TOPIC=" + schemaTopic)

	statements := []string{
		"CREATE TABLE t (id INT PRIMARY KEY, v VARCHAR(10))",
		"INSERT INTO t VALUES (1, 'one')",
		"TRUNCATE TABLE t",
		"ALTER TABLE t ADD COLUMN w INT",
		"INSERT INTO t VALUES (2, 'two', 22)",
	}
	execSQL(t, f.conn, append([]string{"USE " + f.db}, statements...)...)

	var rows, ddl []record
	f.eventually(30*time.Second, "the second insert is committed", func() bool {
		rows = consumeAll(t, f.topic("t"))
		return len(rows) >= 3
	})
	ddl = consumeAll(t, schemaTopic)

	if len(rows) != 3 {
		t.Fatalf("got %d records on %s, want 3", len(rows), f.topic("t"))
	}
	truncate := decodeEnvelope(t, rows[1].Value)
	if truncate.Op != "t" {
		t.Errorf("second record: op %q, want t", truncate.Op)
	}
	if rows[1].Key != "" {
		t.Errorf("truncate record: key %q, want none", rows[1].Key)
	}
	if truncate.Before != nil || truncate.After != nil {
		t.Errorf("truncate record: before %v after %v, want both null", truncate.Before, truncate.After)
	}
	if truncate.Source.Table != "t" || truncate.Source.DB != f.db {
		t.Errorf("truncate record: source table %s.%s, want %s.t", truncate.Source.DB, truncate.Source.Table, f.db)
	}
	if after := decodeEnvelope(t, rows[2].Value).After; after["w"] != json.Number("22") {
		t.Errorf("insert after the ALTER: after %v, want w 22", after)
	}

	wantDDL := []string{statements[0], statements[2], statements[3]}
	if len(ddl) != len(wantDDL) {
		for _, r := range ddl {
			t.Logf("schema change: %s", r.Value)
		}
		t.Fatalf("got %d schema changes, want %d", len(ddl), len(wantDDL))
	}
	for i, r := range ddl {
		var change struct {
			DatabaseName string `json:"databaseName"`
			DDL          string `json:"ddl"`
		}
		if err := json.Unmarshal(r.Value, &change); err != nil {
			t.Fatalf("schema change %s: %v", r.Value, err)
		}
		if change.DDL != wantDDL[i] {
			t.Errorf("schema change %d: ddl %q, want %q", i, change.DDL, wantDDL[i])
		}
		if change.DatabaseName != f.db {
			t.Errorf("schema change %d: databaseName %q, want %q", i, change.DatabaseName, f.db)
		}
		if r.Key != `{"databaseName":"`+f.db+`"}` {
			t.Errorf("schema change %d: key %s", i, r.Key)
		}
	}

	p.signal(syscall.SIGTERM)
	if status := p.wait(t, 30*time.Second); status != 0 {
		t.Errorf("sluice exited with status %d after SIGTERM, want 0", status)
	}
}

func TestOperationsFilterSkipsTruncate(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY)")
	p := f.startReady("SLUICE_OPERATIONS=c,d")

	execSQL(t, f.conn, "USE "+f.db,
		"INSERT INTO t VALUES (1)", "UPDATE t SET id = 1 WHERE id = 1", "TRUNCATE TABLE t", "INSERT INTO t VALUES (2)")
	var got []record
	f.eventually(30*time.Second, "both inserts are committed", func() bool {
		got = consumeAll(t, f.topic("t"))
		return len(got) >= 2
	})
	// A truncate record would stand before the second insert in the same
	// partition, so it would be among the records read by now.
	if len(got) != 2 {
		t.Fatalf("got %d records, want the 2 creates only", len(got))
	}
	for i, r := range got {
		if op := decodeEnvelope(t, r.Value).Op; op != "c" {
			t.Errorf("record %d: op %q, want c", i, op)
		}
	}
	p.signal(syscall.SIGTERM)
	p.wait(t, 30*time.Second)
}

func TestTableAndColumnFilters(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db,
		"CREATE TABLE kept (id INT PRIMARY KEY, name VARCHAR(20), email VARCHAR(50), note TEXT, score INT)",
		"CREATE TABLE skipped (id INT PRIMARY KEY)",
	)
	p := f.startReady(
		"SLUICE_EXCLUDE_TABLES="+f.db+"[.]skip.*",
		"SLUICE_EXCLUDE_COLUMNS="+f.db+"[.]kept[.]note",
		"SLUICE_HASH_COLUMNS="+f.db+"[.]kept[.](email|score)",
		"SLUICE_HASH_SALT=pepper",
	)
	execSQL(t, f.conn, "USE "+f.db,
		"INSERT INTO skipped VALUES (1)",
		"INSERT INTO kept VALUES (1, 'Ada', 'ada@example.com', 'private', 42)",
		"INSERT INTO kept VALUES (2, 'Bo', NULL, NULL, NULL)",
	)
	var got []record
	f.eventually(30*time.Second, "both rows are committed", func() bool {
		got = consumeAll(t, f.topic("kept"))
		return len(got) >= 2
	})
	hash := func(text string) string {
		sum := sha256.Sum256([]byte("pepper" + text))
		return hex.EncodeToString(sum[:])
	}
	first := decodeEnvelope(t, got[0].Value).After
	want := map[string]any{"id": json.Number("1"), "name": "Ada", "email": hash("ada@example.com"), "score": hash("42")}
	if len(first) != len(want) {
		t.Errorf("after has columns %v, want exactly %v", first, want)
	}
	for column, value := range want {
		if first[column] != value {
			t.Errorf("after.%s = %v, want %v", column, first[column], value)
		}
	}
	if second := decodeEnvelope(t, got[1].Value).After; second["email"] != nil || second["score"] != nil {
		t.Errorf("hashed NULLs: email %v score %v, want null", second["email"], second["score"])
	}
	if skipped := consumeAll(t, f.topic("skipped")); len(skipped) != 0 {
		t.Errorf("excluded table has %d records, want 0", len(skipped))
	}
	p.signal(syscall.SIGTERM)
	p.wait(t, 30*time.Second)
}

func TestOversizeRecord(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE big (id INT PRIMARY KEY, payload LONGTEXT)")
	saved := savedPosition(t, f)

	execSQL(t, f.conn, "USE "+f.db,
		"INSERT INTO big VALUES (1, REPEAT('x', 20000))",
		"INSERT INTO big VALUES (2, 'small')",
	)
	// By default the record stops the stream, and the position stays.
	expectFailure(t, f, saved, 1, []string{
		"table " + f.db + ".big",
		`key {\"id\":1}`,
		"record too large for its topic",
		"SLUICE_OVERSIZE_RECORDS=skip",
	}, "SLUICE_MAX_RECORD_BYTES=10000")
	if got := consumeAll(t, f.topic("big")); len(got) != 0 {
		t.Errorf("got %d records after the failure, want 0", len(got))
	}

	// With skip, the large record is left out and the stream goes on.
	p := f.startReady("SLUICE_MAX_RECORD_BYTES=10000", "SLUICE_OVERSIZE_RECORDS=skip")
	var got []record
	f.eventually(30*time.Second, "the small row is committed", func() bool {
		got = consumeAll(t, f.topic("big"))
		return len(got) >= 1
	})
	if len(got) != 1 || got[0].Key != `{"id":2}` {
		t.Errorf("got %d records, first key %q; want only id 2", len(got), got[0].Key)
	}
	if !strings.Contains(p.output(), "record left out") {
		t.Errorf("no warning about the left-out record:\n%s", p.output())
	}
	p.signal(syscall.SIGTERM)
	p.wait(t, 30*time.Second)
	if _, err := os.Stat(f.positionFile()); err != nil {
		t.Errorf("position file: %v", err)
	}
}

// TestTruncateSpellings truncates a captured table under several spellings
// and default databases, and a table of the same name in a database that
// is not captured.
func TestTruncateSpellings(t *testing.T) {
	f := newFixture(t)
	other := f.db + "_other"
	execSQL(t, f.conn,
		"CREATE DATABASE "+other,
		"CREATE TABLE "+other+".tr (id INT PRIMARY KEY, v INT)",
		"CREATE TABLE "+f.db+".tr (id INT PRIMARY KEY, v INT)",
	)
	t.Cleanup(func() { execSQL(t, rootConn(t), "DROP DATABASE IF EXISTS "+other) })
	p := f.startReady()

	execSQL(t, f.conn,
		"USE "+f.db,
		"INSERT INTO tr VALUES (1, 1), (2, 2)",
		"TRUNCATE TABLE tr",
		"INSERT INTO tr VALUES (1, 10)",
		"USE "+other,
		"/* maintenance */ truncate`tr`",
		"TRUNCATE "+f.db+".tr",
		"INSERT INTO "+f.db+".tr VALUES (3, 30)",
		"USE "+f.db,
		"DELETE FROM tr",
	)
	want := []struct{ op, key string }{
		{"c", `{"id":1}`}, {"c", `{"id":2}`}, {"t", ""}, {"c", `{"id":1}`},
		{"t", ""}, {"c", `{"id":3}`}, {"d", `{"id":3}`}, {"", `{"id":3}`},
	}
	var got []record
	f.eventually(30*time.Second, "the final delete is committed", func() bool {
		got = consumeAll(t, f.topic("tr"))
		return len(got) >= len(want)
	})
	if len(got) != len(want) {
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		op := ""
		if got[i].Value != nil {
			op = decodeEnvelope(t, got[i].Value).Op
		}
		if op != w.op || got[i].Key != w.key {
			t.Errorf("record %d: op %q key %q, want op %q key %q", i, op, got[i].Key, w.op, w.key)
		}
	}

	select {
	case <-p.done:
		t.Fatalf("sluice exited with status %d:\n%s", p.exit, p.output())
	default:
	}
	p.signal(syscall.SIGTERM)
	p.wait(t, 30*time.Second)
}

func TestMariadbAddressAndUUIDTypes(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE t (id INT PRIMARY KEY, u UUID, i6 INET6, i4 INET4, raw BINARY(16))")
	p := f.startReady()
	execSQL(t, f.conn, "USE "+f.db,
		"INSERT INTO t VALUES (1, '123e4567-e89b-42d3-a456-426614174000', '::ffff:1.2.3.4', '10.0.0.0', UNHEX('01'))",
		"INSERT INTO t VALUES (2, '6ccd780c-baba-1026-9564-5b8c656024db', '2001:db8::ff00:42:8329', '192.168.0.1', NULL)",
	)
	got := f.awaitCount("t", 2)
	want := []map[string]any{
		{"id": json.Number("1"), "u": "123e4567-e89b-42d3-a456-426614174000", "i6": "::ffff:1.2.3.4", "i4": "10.0.0.0", "raw": "AQAAAAAAAAAAAAAAAAAAAA=="},
		{"id": json.Number("2"), "u": "6ccd780c-baba-1026-9564-5b8c656024db", "i6": "2001:db8::ff00:42:8329", "i4": "192.168.0.1", "raw": nil},
	}
	for i, w := range want {
		after := decodeEnvelope(t, got[i].Value).After
		for column, value := range w {
			if after[column] != value {
				t.Errorf("record %d: after.%s = %v, want %v", i, column, after[column], value)
			}
		}
	}
	stopCleanly(t, p)
}

func TestUniqueIndexKeysTableWithoutPrimaryKey(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db,
		"CREATE TABLE uk (a INT NOT NULL, b INT NOT NULL, v VARCHAR(10), UNIQUE KEY by_ab (a, b))",
		"CREATE TABLE nullable_uk (a INT NULL, v VARCHAR(10), UNIQUE KEY by_a (a))",
	)
	p := f.startReady()
	execSQL(t, f.conn, "USE "+f.db,
		"INSERT INTO uk VALUES (1, 2, 'x')",
		"UPDATE uk SET v = 'y' WHERE a = 1",
		"DELETE FROM uk WHERE a = 1",
		"INSERT INTO nullable_uk VALUES (1, 'x')",
	)
	got := f.awaitCount("uk", 4)
	wantKeys := []string{`{"a":1,"b":2}`, `{"a":1,"b":2}`, `{"a":1,"b":2}`, `{"a":1,"b":2}`}
	for i, key := range wantKeys {
		if got[i].Key != key {
			t.Errorf("uk record %d: key %q, want %q", i, got[i].Key, key)
		}
	}
	if got[3].Value != nil {
		t.Errorf("uk record 3: value %s, want the tombstone of the delete", got[3].Value)
	}
	nullable := f.awaitCount("nullable_uk", 1)
	if nullable[0].Key != "" {
		t.Errorf("nullable_uk: key %q, want none: a unique index over a nullable column does not identify a row", nullable[0].Key)
	}
	if !strings.Contains(p.output(), "table has no primary key and no unique index on NOT NULL columns") {
		t.Errorf("no warning about nullable_uk's null keys:\n%s", p.output())
	}
	stopCleanly(t, p)
}

// TestSchemaChangesByChangedTable checks that a DDL statement's record
// follows the table it changes, not the session's default database.
func TestSchemaChangesByChangedTable(t *testing.T) {
	f := newFixture(t)
	other := f.db + "_other"
	execSQL(t, f.conn, "CREATE DATABASE "+other, "CREATE TABLE "+f.db+".t (id INT PRIMARY KEY)")
	t.Cleanup(func() { execSQL(t, rootConn(t), "DROP DATABASE IF EXISTS "+other) })
	schemaTopic := f.prefix + ".schema-changes"
	p := f.startReady("SLUICE_SCHEMA_CHANGES_TOPIC=" + schemaTopic)

	captured := "ALTER TABLE " + f.db + ".t ADD COLUMN z INT"
	execSQL(t, f.conn,
		"USE "+other,
		captured,
		"USE "+f.db,
		"CREATE TABLE "+other+".not_captured (id INT PRIMARY KEY)",
	)
	f.awaitCaughtUp()
	got := consumeAll(t, schemaTopic)
	if len(got) != 1 {
		for _, r := range got {
			t.Logf("schema change: %s", r.Value)
		}
		t.Fatalf("got %d schema changes, want 1", len(got))
	}
	var change struct {
		DatabaseName string `json:"databaseName"`
		DDL          string `json:"ddl"`
	}
	if err := json.Unmarshal(got[0].Value, &change); err != nil {
		t.Fatal(err)
	}
	if change.DatabaseName != f.db || change.DDL != captured {
		t.Errorf("schema change: databaseName %q ddl %q, want %q and %q", change.DatabaseName, change.DDL, f.db, captured)
	}
	stopCleanly(t, p)
}

// TestLegacyCharsets writes the same text into columns of many character
// sets. The server converts it on insert, and sluice must turn each
// column's stored bytes back into exactly that text.
func TestLegacyCharsets(t *testing.T) {
	f := newFixture(t)
	columns := []struct{ name, charset, text string }{
		{"c_cp1251", "cp1251", "Привет"},
		{"c_koi8r", "koi8r", "Привет"},
		{"c_latin2", "latin2", "łódką"},
		{"c_greek", "greek", "Καλημέρα"},
		{"c_sjis", "sjis", "日本語"},
		{"c_ujis", "ujis", "日本語"},
		{"c_gbk", "gbk", "中文"},
		{"c_gb2312", "gb2312", "中文"},
		{"c_big5", "big5", "中文"},
		{"c_euckr", "euckr", "한국어"},
		{"c_ucs2", "ucs2", "é€"},
		{"c_utf16", "utf16", "😀"},
		{"c_utf32", "utf32", "😀"},
	}
	definition := "id INT PRIMARY KEY"
	names, values := "id", "1"
	for _, c := range columns {
		definition += fmt.Sprintf(", %s VARCHAR(20) CHARACTER SET %s", c.name, c.charset)
		names += ", " + c.name
		values += ", '" + c.text + "'"
	}
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE cs ("+definition+")",
		"CREATE TABLE cs_enum (id INT PRIMARY KEY, e ENUM('Привет','Мир') CHARACTER SET cp1251)")
	p := f.startReady()
	execSQL(t, f.conn, "USE "+f.db,
		"INSERT INTO cs ("+names+") VALUES ("+values+")",
		"INSERT INTO cs_enum VALUES (1, 'Мир')")

	after := decodeEnvelope(t, f.awaitCount("cs", 1)[0].Value).After
	for _, c := range columns {
		if after[c.name] != c.text {
			t.Errorf("%s (%s): %q, want %q", c.name, c.charset, after[c.name], c.text)
		}
	}
	if e := decodeEnvelope(t, f.awaitCount("cs_enum", 1)[0].Value).After["e"]; e != "Мир" {
		t.Errorf("cp1251 ENUM member: %q, want %q", e, "Мир")
	}
	stopCleanly(t, p)
}
