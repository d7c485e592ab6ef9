//go:build integration

package integration

import (
	"testing"
)

// TestBinaryTrailingZeros streams BINARY(n) values that end in zero bytes,
// which the binlog leaves out, as primary key and as plain column. Each
// must come out with all n bytes, so that the key of a delete equals the key
// of the insert. VARBINARY values keep exactly their own bytes.
func TestBinaryTrailingZeros(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE bn (u BINARY(16) PRIMARY KEY, k BINARY(4), v VARBINARY(8))",
	)
	p := f.startReady()
	start := serverPosition(t, f.conn)

	execSQL(t, f.conn,
		"INSERT INTO bn VALUES (UNHEX('01000000000000000000000000000000'), 0x61, 0x616200)",
		"INSERT INTO bn VALUES (UNHEX('00000000000000000000000000000000'), 0x00000000, 0x00)",
		"UPDATE bn SET v = 0x01 WHERE u = UNHEX('01000000000000000000000000000000')",
		"DELETE FROM bn WHERE u = UNHEX('00000000000000000000000000000000')",
		"ALTER TABLE bn MODIFY k VARBINARY(8)",
		"INSERT INTO bn VALUES (UNHEX('02000000000000000000000000000000'), 0x6100, 0x00)",
	)
	end := serverPosition(t, f.conn)

	// The edge case is only there if the server logged the BINARY values
	// without their trailing zeros.
	raw := binlogRows(t, start, end, f.db, "bn")
	if len(raw) == 0 {
		t.Fatalf("the binlog contains no rows of %s.bn between %s and %s", f.db, start, end)
	}
	if u, ok := raw[0][0].(string); !ok || u != "\x01" {
		t.Fatalf("the binlog contains the first BINARY(16) key as %#v, not as the single byte 01 that this test needs", raw[0][0])
	}

	u1 := hexBytes("01000000000000000000000000000000")
	u0 := hexBytes("00000000000000000000000000000000")
	u2 := hexBytes("02000000000000000000000000000000")
	first := map[string]any{"u": u1, "k": hexBytes("61000000"), "v": hexBytes("616200")}
	second := map[string]any{"u": u0, "k": hexBytes("00000000"), "v": hexBytes("00")}
	got := f.settle("bn")
	checkTopic(t, f, "bn", got, []expectRecord{
		{key: map[string]any{"u": u1}, op: "c", after: first},
		{key: map[string]any{"u": u0}, op: "c", after: second},
		{key: map[string]any{"u": u1}, op: "u", before: first, after: copyRow(first, "v", hexBytes("01"))},
		{key: map[string]any{"u": u0}, op: "d", before: second},
		{key: map[string]any{"u": u0}},
		{key: map[string]any{"u": u2}, op: "c", after: map[string]any{"u": u2, "k": hexBytes("6100"), "v": hexBytes("00")}},
	})
	if len(got) >= 5 {
		if got[3].Key != got[1].Key {
			t.Errorf("the delete's key %s differs from the insert's key %s", got[3].Key, got[1].Key)
		}
		if got[4].Key != got[1].Key {
			t.Errorf("the tombstone's key %s differs from the insert's key %s", got[4].Key, got[1].Key)
		}
	}

	stopCleanly(t, p)
}

// TestTextAndBinaryBytes streams 4-byte UTF-8 characters in utf8mb4 text,
// a skin-tone modifier sequence, utf8mb3 text, and bytes that are not valid
// UTF-8 in BLOB and VARBINARY columns. Text must arrive as the same
// characters and binary columns as the same bytes, never with U+FFFD.
func TestTextAndBinaryBytes(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		`CREATE TABLE tb (id INT PRIMARY KEY, t TEXT CHARACTER SET utf8mb4, b BLOB,
			vb VARBINARY(16), c3 VARCHAR(10) CHARACTER SET utf8mb3)`,
	)
	p := f.startReady()

	execSQL(t, f.conn,
		"INSERT INTO tb VALUES (1, '中文😀', 0xFFFE0080, 0xC328, '中文')",
		"UPDATE tb SET t = CONCAT(t, '👍🏽') WHERE id = 1",
	)

	inserted := map[string]any{
		"id": n("1"),
		"t":  string(hexBytes("e4b8ade69687f09f9880")),
		"b":  hexBytes("fffe0080"),
		"vb": hexBytes("c328"),
		"c3": string(hexBytes("e4b8ade69687")),
	}
	// 👍 is U+1F44D and 🏽 the modifier U+1F3FD.
	updated := copyRow(inserted, "t", string(hexBytes("e4b8ade69687f09f9880f09f918df09f8fbd")))
	got := f.settle("tb")
	checkTopic(t, f, "tb", got, []expectRecord{
		{key: map[string]any{"id": n("1")}, op: "c", after: inserted},
		{key: map[string]any{"id": n("1")}, op: "u", before: inserted, after: updated},
	})

	stopCleanly(t, p)
}
