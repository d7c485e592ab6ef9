//go:build integration

package integration

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

// typeMatrixRowMetadataModes lists the binlog_row_metadata settings that
// TestTypeMatrix runs under, one subtest each.
var typeMatrixRowMetadataModes = []string{"FULL", "MINIMAL"}

// matrixColumns is the table of TestTypeMatrix: one column of every type
// that docs/types.md describes. Every column but id is nullable.
var matrixColumns = []struct{ name, definition string }{
	{"ti", "TINYINT"},
	{"ti_u", "TINYINT UNSIGNED"},
	{"si", "SMALLINT"},
	{"si_u", "SMALLINT UNSIGNED"},
	{"mi", "MEDIUMINT"},
	{"mi_u", "MEDIUMINT UNSIGNED"},
	{"i", "INT"},
	{"i_u", "INT UNSIGNED"},
	{"bi", "BIGINT"},
	{"bi_u", "BIGINT UNSIGNED"},
	{"dec_65_30", "DECIMAL(65,30)"},
	{"dec_10_2", "DECIMAL(10,2)"},
	{"fl", "FLOAT"},
	{"dbl", "DOUBLE"},
	{"bit1", "BIT(1)"},
	{"bit64", "BIT(64)"},
	{"yr", "YEAR"},
	{"dt", "DATE"},
	{"dtm0", "DATETIME(0)"},
	{"dtm6", "DATETIME(6)"},
	{"ts0", "TIMESTAMP(0) NULL"},
	{"ts6", "TIMESTAMP(6) NULL"},
	{"tm0", "TIME(0)"},
	{"tm6", "TIME(6)"},
	{"ch_utf8", "CHAR(5) CHARACTER SET utf8mb4"},
	{"ch_latin1", "CHAR(5) CHARACTER SET latin1"},
	{"vc", "VARCHAR(100) CHARACTER SET utf8mb4"},
	{"tx_latin1", "TEXT CHARACTER SET latin1"},
	{"bin8", "BINARY(8)"},
	{"vbin", "VARBINARY(16)"},
	{"bl", "BLOB"},
	{"en", "ENUM('small','medium','large')"},
	{"st", "SET('a','b','c','d')"},
	{"js", "JSON"},
	{"geom", "GEOMETRY"},
	{"pt", "POINT"},
	{"uu", "UUID"},
	{"ip6", "INET6"},
	{"ip4", "INET4"},
}

// matrixCell is one column of one inserted row: the SQL literal written
// and the JSON token expected in the record's after image.
type matrixCell struct {
	column  string
	literal string
	want    string
}

// matrixRow is one inserted row. warnings is the number of warnings the
// server must report for the INSERT. The session runs with an empty
// sql_mode, so the server adjusts an out-of-range or invalid value with a
// warning instead of an error.
type matrixRow struct {
	id       int
	name     string
	warnings uint16
	cells    []matrixCell
}

// base64Token returns the JSON string token of the standard base64 of the
// bytes that hexDigits spells.
func base64Token(hexDigits string) string {
	return `"` + base64.StdEncoding.EncodeToString(hexBytes(hexDigits)) + `"`
}

// WKB of the geometry values, after the 4-byte little-endian SRID: byte
// order 01 (little-endian), the type as uint32 (1 point, 2 linestring,
// 3 polygon), counts as uint32, coordinates as float64. Doubles used:
// 0 = 0000000000000000, 1 = 000000000000F03F, -2 = 00000000000000C0,
// -1.5 = 000000000000F8BF, 2.5 = 0000000000000440.
const (
	wkbPointOrigin          = "0101000000" + "0000000000000000" + "0000000000000000"
	wkbPointOneMinusTwo     = "0101000000" + "000000000000F03F" + "00000000000000C0"
	wkbPointMinusOneAndHalf = "0101000000" + "000000000000F8BF" + "0000000000000440"
	wkbLineString           = "0102000000" + "02000000" +
		"0000000000000000" + "0000000000000000" +
		"000000000000F03F" + "00000000000000C0"
	wkbTriangle = "0103000000" + "01000000" + "04000000" +
		"0000000000000000" + "0000000000000000" +
		"000000000000F03F" + "0000000000000000" +
		"0000000000000000" + "000000000000F03F" +
		"0000000000000000" + "0000000000000000"
	sridNone = "00000000"
	srid4326 = "E6100000"
	srid3857 = "110F0000"
)

// matrixRows returns the rows of TestTypeMatrix with the expected token of
// every column, derived from the server's semantics and docs/types.md.
// The session writes them with time_zone 'Europe/Amsterdam', which is
// UTC+1 in winter and in 1970, and UTC+2 in summer 2016.
func matrixRows() []matrixRow {
	nines35, nines30 := strings.Repeat("9", 35), strings.Repeat("9", 30)
	zeros30 := strings.Repeat("0", 30)
	grinning := "😀"
	cp1252Specials := "€‚ƒ„…†‡ˆ‰Š‹ŒŽ‘’“”•–—˜™š›œžŸ"

	return []matrixRow{
		{id: 1, name: "minimum values", cells: []matrixCell{
			{"ti", "-128", `-128`},
			{"ti_u", "0", `0`},
			{"si", "-32768", `-32768`},
			{"si_u", "0", `0`},
			{"mi", "-8388608", `-8388608`},
			{"mi_u", "0", `0`},
			{"i", "-2147483648", `-2147483648`},
			{"i_u", "0", `0`},
			{"bi", "-9223372036854775808", `-9223372036854775808`},
			{"bi_u", "0", `0`},
			{"dec_65_30", "-" + nines35 + "." + nines30, `"-` + nines35 + "." + nines30 + `"`},
			{"dec_10_2", "-99999999.99", `"-99999999.99"`},
			// The lowest float32 is -(2-2^-23)*2^127, and its shortest text
			// is -3.4028235e+38.
			{"fl", "-3.402823466e38", `-3.4028235e+38`},
			{"dbl", "-1.7976931348623157e308", `-1.7976931348623157e+308`},
			{"bit1", "b'0'", `false`},
			{"bit64", "b'0'", `0`},
			{"yr", "1901", `1901`},
			{"dt", "'1000-01-01'", `"1000-01-01"`},
			{"dtm0", "'1000-01-01 00:00:00'", `"1000-01-01 00:00:00"`},
			{"dtm6", "'1000-01-01 00:00:00.000000'", `"1000-01-01 00:00:00.000000"`},
			// The first valid TIMESTAMP second, 1970-01-01 00:00:01 UTC.
			{"ts0", "'1970-01-01 01:00:01'", `"1970-01-01T00:00:01Z"`},
			{"ts6", "'1970-01-01 01:00:01.000000'", `"1970-01-01T00:00:01.000000Z"`},
			{"tm0", "'-838:59:59'", `"-838:59:59"`},
			{"tm6", "'-838:59:59.999999'", `"-838:59:59.999999"`},
			{"ch_utf8", "''", `""`},
			{"ch_latin1", "''", `""`},
			{"vc", "''", `""`},
			{"tx_latin1", "''", `""`},
			// BINARY pads with zero bytes up to its length.
			{"bin8", "''", base64Token("0000000000000000")},
			{"vbin", "''", `""`},
			{"bl", "''", `""`},
			{"en", "'small'", `"small"`},
			{"st", "''", `""`},
			{"js", "'{}'", `"{}"`},
			{"geom", "ST_GeomFromText('POINT(0 0)')", base64Token(sridNone + wkbPointOrigin)},
			{"pt", "ST_GeomFromText('POINT(0 0)')", base64Token(sridNone + wkbPointOrigin)},
			{"uu", "'00000000-0000-0000-0000-000000000000'", `"00000000-0000-0000-0000-000000000000"`},
			{"ip6", "'::'", `"::"`},
			{"ip4", "'0.0.0.0'", `"0.0.0.0"`},
		}},

		{id: 2, name: "maximum values", cells: []matrixCell{
			{"ti", "127", `127`},
			{"ti_u", "255", `255`},
			{"si", "32767", `32767`},
			{"si_u", "65535", `65535`},
			{"mi", "8388607", `8388607`},
			{"mi_u", "16777215", `16777215`},
			{"i", "2147483647", `2147483647`},
			{"i_u", "4294967295", `4294967295`},
			{"bi", "9223372036854775807", `9223372036854775807`},
			{"bi_u", "18446744073709551615", `18446744073709551615`},
			{"dec_65_30", nines35 + "." + nines30, `"` + nines35 + "." + nines30 + `"`},
			{"dec_10_2", "99999999.99", `"99999999.99"`},
			{"fl", "3.402823466e38", `3.4028235e+38`},
			{"dbl", "1.7976931348623157e308", `1.7976931348623157e+308`},
			{"bit1", "b'1'", `true`},
			{"bit64", "0xFFFFFFFFFFFFFFFF", `18446744073709551615`},
			{"yr", "2155", `2155`},
			{"dt", "'9999-12-31'", `"9999-12-31"`},
			{"dtm0", "'9999-12-31 23:59:59'", `"9999-12-31 23:59:59"`},
			{"dtm6", "'9999-12-31 23:59:59.999999'", `"9999-12-31 23:59:59.999999"`},
			// The last valid TIMESTAMP, 2038-01-19 03:14:07.999999 UTC.
			{"ts0", "'2038-01-19 04:14:07'", `"2038-01-19T03:14:07Z"`},
			{"ts6", "'2038-01-19 04:14:07.999999'", `"2038-01-19T03:14:07.999999Z"`},
			{"tm0", "'838:59:59'", `"838:59:59"`},
			{"tm6", "'838:59:59.999999'", `"838:59:59.999999"`},
			// Five 4-byte characters fill CHAR(5) utf8mb4 to its 20 bytes.
			{"ch_utf8", "'" + strings.Repeat(grinning, 5) + "'", `"` + strings.Repeat(grinning, 5) + `"`},
			{"ch_latin1", "'é€Œšÿ'", `"é€Œšÿ"`},
			// 400 bytes, so the binlog stores the length in two bytes.
			{"vc", "'" + strings.Repeat(grinning, 100) + "'", `"` + strings.Repeat(grinning, 100) + `"`},
			// Every character that latin1 (code page 1252) has in 0x80-0x9F.
			{"tx_latin1", "'" + cp1252Specials + "'", `"` + cp1252Specials + `"`},
			{"bin8", "0xFFFFFFFFFFFFFFFF", base64Token("FFFFFFFFFFFFFFFF")},
			{"vbin", "0xFF00", base64Token("FF00")},
			{"bl", "0xFFFE0080", base64Token("FFFE0080")},
			{"en", "'large'", `"large"`},
			// SET members come out in definition order, whatever the order
			// of the literal.
			{"st", "'d,c,b,a'", `"a,b,c,d"`},
			{"js", `'{"a": [1, 2.5, null, true], "b": "é😀"}'`, `"{\"a\": [1, 2.5, null, true], \"b\": \"é😀\"}"`},
			{"geom", "ST_GeomFromText('LINESTRING(0 0, 1 -2)', 4326)", base64Token(srid4326 + wkbLineString)},
			{"pt", "ST_GeomFromText('POINT(-1.5 2.5)')", base64Token(sridNone + wkbPointMinusOneAndHalf)},
			{"uu", "'ffffffff-ffff-ffff-ffff-ffffffffffff'", `"ffffffff-ffff-ffff-ffff-ffffffffffff"`},
			{"ip6", "'ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff'", `"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"`},
			{"ip4", "'255.255.255.255'", `"255.255.255.255"`},
		}},

		{id: 3, name: "NULL in every column", cells: nullCells()},

		// Zero dates are accepted because sql_mode has neither
		// NO_ZERO_DATE nor NO_ZERO_IN_DATE. The invalid ENUM value 'huge'
		// is stored as index 0, with one warning.
		{id: 4, name: "zero values", warnings: 1, cells: []matrixCell{
			{"ti", "0", `0`},
			{"ti_u", "0", `0`},
			{"si", "0", `0`},
			{"si_u", "0", `0`},
			{"mi", "0", `0`},
			{"mi_u", "0", `0`},
			{"i", "0", `0`},
			{"i_u", "0", `0`},
			{"bi", "0", `0`},
			{"bi_u", "0", `0`},
			{"dec_65_30", "0", `"0.` + zeros30 + `"`},
			{"dec_10_2", "0", `"0.00"`},
			{"fl", "0", `0`},
			{"dbl", "0", `0`},
			{"bit1", "b'0'", `false`},
			{"bit64", "0", `0`},
			// The number 0 is the year 0000; the string '0' would be 2000.
			{"yr", "0", `0`},
			{"dt", "'0000-00-00'", `"0000-00-00"`},
			{"dtm0", "'0000-00-00 00:00:00'", `"0000-00-00 00:00:00"`},
			{"dtm6", "'0000-00-00 00:00:00.000000'", `"0000-00-00 00:00:00.000000"`},
			{"ts0", "'0000-00-00 00:00:00'", `"0000-00-00 00:00:00"`},
			{"ts6", "'0000-00-00 00:00:00.000000'", `"0000-00-00 00:00:00.000000"`},
			{"tm0", "'00:00:00'", `"00:00:00"`},
			{"tm6", "'00:00:00.000000'", `"00:00:00.000000"`},
			// CHAR drops trailing spaces on read, VARCHAR keeps them.
			{"ch_utf8", "'     '", `""`},
			{"ch_latin1", "' '", `""`},
			{"vc", "'  '", `"  "`},
			{"tx_latin1", "''", `""`},
			{"bin8", "0x00", base64Token("0000000000000000")},
			{"vbin", "0x00", base64Token("00")},
			{"bl", "0x0000", base64Token("0000")},
			{"en", "'huge'", `""`},
			{"st", "''", `""`},
			{"js", "'0'", `"0"`},
			{"geom", "ST_GeomFromText('POINT(0 0)')", base64Token(sridNone + wkbPointOrigin)},
			{"pt", "ST_GeomFromText('POINT(0 0)')", base64Token(sridNone + wkbPointOrigin)},
			{"uu", "'00000000-0000-0000-0000-000000000000'", `"00000000-0000-0000-0000-000000000000"`},
			{"ip6", "'::'", `"::"`},
			{"ip4", "'0.0.0.0'", `"0.0.0.0"`},
		}},

		{id: 5, name: "text, partial-zero dates and long TIME", cells: []matrixCell{
			{"ti", "-1", `-1`},
			{"ti_u", "1", `1`},
			{"si", "-1", `-1`},
			{"si_u", "1", `1`},
			{"mi", "-1", `-1`},
			{"mi_u", "1", `1`},
			{"i", "-1", `-1`},
			{"i_u", "1", `1`},
			{"bi", "-1", `-1`},
			// 2^63, one above the largest signed BIGINT.
			{"bi_u", "9223372036854775808", `9223372036854775808`},
			{"dec_65_30", "-0." + zeros30[1:] + "1", `"-0.` + zeros30[1:] + `1"`},
			{"dec_10_2", "1.1", `"1.10"`},
			// float32(0.1) is 0.100000001490116..., whose shortest float32
			// text is 0.1.
			{"fl", "0.1", `0.1`},
			// The smallest positive subnormal double.
			{"dbl", "4.9e-324", `5e-324`},
			{"bit1", "b'1'", `true`},
			{"bit64", "0x8000000000000000", `9223372036854775808`},
			// A two-digit year below 70 is in the 2000s.
			{"yr", "'69'", `2069`},
			{"dt", "'2023-05-00'", `"2023-05-00"`},
			{"dtm0", "'2023-00-15 10:20:30'", `"2023-00-15 10:20:30"`},
			{"dtm6", "'2023-05-00 10:20:30.0005'", `"2023-05-00 10:20:30.000500"`},
			// Summer time (UTC+2) and winter time (UTC+1) in Amsterdam.
			{"ts0", "'2016-08-17 13:08:04'", `"2016-08-17T11:08:04Z"`},
			{"ts6", "'2016-02-01 23:39:30.5'", `"2016-02-01T22:39:30.500000Z"`},
			{"tm0", "'100:08:04'", `"100:08:04"`},
			{"tm6", "'-25:00:00.000001'", `"-25:00:00.000001"`},
			// Leading spaces of a CHAR value stay.
			{"ch_utf8", "' é" + grinning + "  '", `" é` + grinning + `"`},
			{"ch_latin1", "'é€ '", `"é€"`},
			// The SQL literal has the escape \\ for one backslash.
			{"vc", `'Ada ` + grinning + ` "q" \\ '`, `"Ada ` + grinning + ` \"q\" \\ "`},
			{"tx_latin1", "'café €5'", `"café €5"`},
			// The binlog leaves out the trailing zero bytes of BINARY.
			{"bin8", "0x6100", base64Token("6100000000000000")},
			{"vbin", "0x616200", base64Token("616200")},
			{"bl", "0x00FF00", base64Token("00FF00")},
			{"en", "'medium'", `"medium"`},
			{"st", "'c,a'", `"a,c"`},
			{"js", `'{"n": 12345678901234567890, "s": "é"}'`, `"{\"n\": 12345678901234567890, \"s\": \"é\"}"`},
			{"geom", "ST_GeomFromText('POLYGON((0 0, 1 0, 0 1, 0 0))', 3857)", base64Token(srid3857 + wkbTriangle)},
			{"pt", "ST_GeomFromText('POINT(1 -2)')", base64Token(sridNone + wkbPointOneMinusTwo)},
			// A version 1 UUID, next to the all-zero and all-one values of
			// the other rows.
			{"uu", "'6ccd780c-baba-1026-9564-5b8c656024db'", `"6ccd780c-baba-1026-9564-5b8c656024db"`},
			{"ip6", "'::ffff:1.2.3.4'", `"::ffff:1.2.3.4"`},
			{"ip4", "'10.0.0.1'", `"10.0.0.1"`},
		}},
	}
}

// nullCells returns a NULL cell for every column of matrixColumns.
func nullCells() []matrixCell {
	cells := make([]matrixCell, len(matrixColumns))
	for i, c := range matrixColumns {
		cells[i] = matrixCell{c.name, "NULL", `null`}
	}
	return cells
}

// checkMatrixCoverage fails the test when a row does not name every column
// of matrixColumns exactly once, which would be a mistake in the test.
func checkMatrixCoverage(t *testing.T, rows []matrixRow) {
	t.Helper()
	for _, row := range rows {
		seen := map[string]int{}
		for _, cell := range row.cells {
			seen[cell.column]++
		}
		for _, c := range matrixColumns {
			if seen[c.name] != 1 {
				t.Fatalf("row %d (%s) names column %s %d times, want once", row.id, row.name, c.name, seen[c.name])
			}
		}
		if len(row.cells) != len(matrixColumns) {
			t.Fatalf("row %d (%s) has %d cells for %d columns", row.id, row.name, len(row.cells), len(matrixColumns))
		}
	}
}

// insertMatrixRow inserts one row and fails unless the server reports
// exactly the expected number of warnings.
func insertMatrixRow(t *testing.T, f *fixture, row matrixRow) {
	t.Helper()
	columns := []string{"id"}
	literals := []string{fmt.Sprint(row.id)}
	for _, cell := range row.cells {
		columns = append(columns, cell.column)
		literals = append(literals, cell.literal)
	}
	statement := fmt.Sprintf("INSERT INTO matrix (%s) VALUES (%s)", strings.Join(columns, ", "), strings.Join(literals, ", "))
	res, err := f.conn.Execute(statement)
	if err != nil {
		t.Fatalf("insert row %d (%s): %v\n%s", row.id, row.name, err, statement)
	}
	if res.Warnings != row.warnings {
		warnings, _ := f.conn.Execute("SHOW WARNINGS")
		var text []string
		if warnings != nil {
			for i := range warnings.Values {
				message, _ := warnings.GetStringByName(i, "Message")
				text = append(text, message)
			}
		}
		t.Fatalf("insert row %d (%s): the server reported %d warnings, want %d: %q",
			row.id, row.name, res.Warnings, row.warnings, text)
	}
}

// afterTokens splits the after image of a change event into the raw JSON
// token of each column, and reports a column that occurs twice.
func afterTokens(t *testing.T, where string, value []byte) map[string]string {
	t.Helper()
	var event struct {
		After json.RawMessage `json:"after"`
	}
	if err := json.Unmarshal(value, &event); err != nil {
		t.Fatalf("%s: decode change event %s: %v", where, value, err)
	}

	dec := json.NewDecoder(bytes.NewReader(event.After))
	dec.UseNumber()
	if open, err := dec.Token(); err != nil || open != json.Delim('{') {
		t.Fatalf("%s: after is %s, want a JSON object", where, event.After)
	}
	tokens := map[string]string{}
	for dec.More() {
		name, err := dec.Token()
		if err != nil {
			t.Fatalf("%s: read a column name of %s: %v", where, event.After, err)
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			t.Fatalf("%s: read the value of column %v in %s: %v", where, name, event.After, err)
		}
		column := name.(string)
		if _, ok := tokens[column]; ok {
			t.Errorf("%s: column %s occurs twice in after", where, column)
		}
		tokens[column] = string(raw)
	}
	return tokens
}

// checkMatrixRecords compares the records of table matrix from one run,
// in binlog order, with the rows: the key, the envelope and the exact JSON
// token of every column.
func checkMatrixRecords(t *testing.T, f *fixture, run string, got []record, rows []matrixRow) {
	t.Helper()
	if len(got) != len(rows) {
		for i, r := range got {
			t.Logf("%s record %d: key %s value %s", run, i, r.Key, r.Value)
		}
		t.Fatalf("%s: got %d records, want %d, one create per row", run, len(got), len(rows))
	}

	for i, row := range rows {
		r := got[i]
		where := fmt.Sprintf("%s, row %d (%s)", run, row.id, row.name)

		if wantKey := fmt.Sprintf(`{"id":%d}`, row.id); r.Key != wantKey {
			t.Errorf("%s: key %s, want %s", where, r.Key, wantKey)
		}
		if r.Value == nil {
			t.Errorf("%s: a tombstone, want a create", where)
			continue
		}
		e := decodeEnvelope(t, r.Value)
		if e.Op != "c" {
			t.Errorf("%s: op %q, want \"c\"", where, e.Op)
		}
		if e.Before != nil {
			t.Errorf("%s: before is %v, want null", where, e.Before)
		}
		if e.Source.DB != f.db || e.Source.Table != "matrix" {
			t.Errorf("%s: source db %q table %q, want %q \"matrix\"", where, e.Source.DB, e.Source.Table, f.db)
		}

		tokens := afterTokens(t, where, r.Value)
		if got, want := tokens["id"], fmt.Sprint(row.id); got != want {
			t.Errorf("%s: after.id is %s, want %s", where, got, want)
		}
		for _, cell := range row.cells {
			token, ok := tokens[cell.column]
			if !ok {
				t.Errorf("%s: column %s is missing from after", where, cell.column)
				continue
			}
			if token != cell.want {
				t.Errorf("%s: column %s (inserted as %s) is %s, want %s", where, cell.column, cell.literal, token, cell.want)
			}
		}
		if len(tokens) != len(row.cells)+1 {
			t.Errorf("%s: after has %d columns, want %d: %s", where, len(tokens), len(row.cells)+1, r.Value)
		}
	}
}

// TestTypeMatrix streams rows of minimum, maximum, NULL, zero and special
// values of every documented column type, and checks the JSON token of
// every column against docs/types.md. Two runs of sluice, under TZ=UTC and
// under TZ=Asia/Kolkata, must write the same records for the same binlog
// range.
func TestTypeMatrix(t *testing.T) {
	rows := matrixRows()
	checkMatrixCoverage(t, rows)

	for _, mode := range typeMatrixRowMetadataModes {
		t.Run(mode, func(t *testing.T) {
			testTypeMatrixInMode(t, mode, rows)
		})
	}
}

func testTypeMatrixInMode(t *testing.T, mode string, rows []matrixRow) {
	f := newFixture(t)
	definitions := []string{"id INT PRIMARY KEY"}
	for _, c := range matrixColumns {
		definitions = append(definitions, c.name+" "+c.definition)
	}
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE matrix (\n"+strings.Join(definitions, ",\n")+"\n)",
	)

	utcRun := f.startReady("TZ=UTC")

	execSQL(t, f.conn, "SET GLOBAL binlog_row_metadata = '"+mode+"'")
	t.Cleanup(func() { execSQL(t, rootConn(t), "SET GLOBAL binlog_row_metadata = 'FULL'") })
	start := serverPosition(t, f.conn)

	execSQL(t, f.conn,
		"SET SESSION sql_mode = ''",
		"SET SESSION time_zone = 'Europe/Amsterdam'",
	)
	for _, row := range rows {
		insertMatrixRow(t, f, row)
	}

	first := f.settle("matrix")
	checkMatrixRecords(t, f, "run with TZ=UTC", first, rows)
	if !regexp.MustCompile(`"time":"[^"]*Z"`).MatchString(utcRun.output()) {
		t.Errorf("the log of the run with TZ=UTC has no time stamp in UTC:\n%s", utcRun.output())
	}
	stopCleanly(t, utcRun)

	// The second run reads the same binlog range into topics of its own.
	kolkataPrefix := f.prefix + ".kolkata"
	kolkataRun := f.startFrom(f.stream+"-kolkata", start,
		"SLUICE_TOPIC_PREFIX="+kolkataPrefix,
		"TZ=Asia/Kolkata",
	)
	markerTopic := kolkataPrefix + "." + f.db + ".settle_marker"
	f.eventually(60*time.Second, "the run with TZ=Asia/Kolkata commits the marker row", func() bool {
		return len(consumeAll(t, markerTopic)) > 0
	})
	second := consumeAll(t, kolkataPrefix+"."+f.db+".matrix")
	checkMatrixRecords(t, f, "run with TZ=Asia/Kolkata", second, rows)
	compareWithoutPrefix(t, first, second, f.prefix, kolkataPrefix)

	// Go falls back to UTC for an unknown zone, so the log's offset shows
	// that TZ took effect.
	if !strings.Contains(kolkataRun.output(), `+05:30"`) {
		t.Errorf("the log of the run with TZ=Asia/Kolkata has no time stamp at +05:30:\n%s", kolkataRun.output())
	}
	stopCleanly(t, kolkataRun)
}
