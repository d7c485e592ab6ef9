//go:build integration

package integration

import (
	"testing"
)

// TestUnsignedIntegerLimits streams the extremes of every unsigned integer
// width next to signed values, with the signedness that
// binlog_row_metadata=FULL puts into the TABLE_MAP event. BIGINT UNSIGNED
// values above 2^63 must keep every digit and no minus sign, also as keys.
func TestUnsignedIntegerLimits(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		`CREATE TABLE u (
			id  BIGINT UNSIGNED PRIMARY KEY,
			u64 BIGINT UNSIGNED, u32 INT UNSIGNED, u24 MEDIUMINT UNSIGNED,
			u16 SMALLINT UNSIGNED, u8 TINYINT UNSIGNED,
			s32 INT, s64 BIGINT)`,
	)
	p := f.startReady()

	execSQL(t, f.conn,
		"INSERT INTO u VALUES (15506708318740857342, 18446744073709551615, 4294967295, 16777215, 65535, 255, -1, -9223372036854775808)",
		"INSERT INTO u VALUES (9223372036854775808, 9223372036854775807, 2147483648, 8388608, 32768, 128, -2147483648, 9007199254740993)",
		"UPDATE u SET u32 = 4294967294 WHERE id = 15506708318740857342",
		"DELETE FROM u WHERE id = 9223372036854775808",
	)

	first := map[string]any{
		"id": n("15506708318740857342"), "u64": n("18446744073709551615"), "u32": n("4294967295"),
		"u24": n("16777215"), "u16": n("65535"), "u8": n("255"), "s32": n("-1"), "s64": n("-9223372036854775808"),
	}
	second := map[string]any{
		"id": n("9223372036854775808"), "u64": n("9223372036854775807"), "u32": n("2147483648"),
		"u24": n("8388608"), "u16": n("32768"), "u8": n("128"), "s32": n("-2147483648"), "s64": n("9007199254740993"),
	}
	firstKey := map[string]any{"id": n("15506708318740857342")}
	secondKey := map[string]any{"id": n("9223372036854775808")}

	got := f.settle("u")
	checkTopic(t, f, "u", got, []expectRecord{
		{key: firstKey, op: "c", after: first},
		{key: secondKey, op: "c", after: second},
		{key: firstKey, op: "u", before: first, after: copyRow(first, "u32", n("4294967294"))},
		{key: secondKey, op: "d", before: second},
		{key: secondKey},
	})
	if len(got) >= 4 && got[3].Key != got[1].Key {
		t.Errorf("the delete's key %s differs from the insert's key %s", got[3].Key, got[1].Key)
	}

	stopCleanly(t, p)
}

// TestDecimalPrecisionAndScale streams DECIMAL values at the limits of
// precision 38 and of the scale, negative values whose integer part is zero
// among them. Each must arrive as a string with every digit and the column's
// own scale.
func TestDecimalPrecisionAndScale(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		`CREATE TABLE dec_t (id INT PRIMARY KEY,
			a DECIMAL(38,0), b DECIMAL(38,19), c DECIMAL(38,38),
			d DECIMAL(36,18), e DECIMAL(18,6), f DECIMAL(11,4), g DECIMAL(10,2))`,
	)
	p := f.startReady()

	execSQL(t, f.conn,
		`INSERT INTO dec_t VALUES (1,
			99999999999999999999999999999999999999,
			9999999999999999999.9999999999999999999,
			0.99999999999999999999999999999999999999,
			0.0000007565, 999999999999.999998, -57.1234, 1.10)`,
		`INSERT INTO dec_t VALUES (2,
			-99999999999999999999999999999999999999, -0.0000000000000000001,
			-0.00000000000000000000000000000000000001, 0, 0.000001, 0.0001, -0.01)`,
	)

	got := f.settle("dec_t")
	checkTopic(t, f, "dec_t", got, []expectRecord{
		{key: map[string]any{"id": n("1")}, op: "c", after: map[string]any{
			"id": n("1"),
			"a":  "99999999999999999999999999999999999999",
			"b":  "9999999999999999999.9999999999999999999",
			"c":  "0.99999999999999999999999999999999999999",
			"d":  "0.000000756500000000",
			"e":  "999999999999.999998",
			"f":  "-57.1234",
			"g":  "1.10",
		}},
		{key: map[string]any{"id": n("2")}, op: "c", after: map[string]any{
			"id": n("2"),
			"a":  "-99999999999999999999999999999999999999",
			"b":  "-0.0000000000000000001",
			"c":  "-0.00000000000000000000000000000000000001",
			"d":  "0.000000000000000000",
			"e":  "0.000001",
			"f":  "0.0001",
			"g":  "-0.01",
		}},
	})

	stopCleanly(t, p)
}
