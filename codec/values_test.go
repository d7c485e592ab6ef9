package codec

import (
	"encoding/json"
	"math"
	"strconv"
	"strings"
	"testing"
	"testing/quick"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/sluice-cdc/sluice/schema"
)

// stringMeta builds the TABLE_MAP metadata of a CHAR or BINARY column of
// length bytes as the server writes it. The first byte is MYSQL_TYPE_STRING
// with bits 8 and 9 of the length XOR-ed into its bits 4 and 5, and the
// second byte is the low 8 bits of the length. go-mysql reads the two bytes
// big-endian, so the type byte ends up in the high byte of the uint16.
func stringMeta(length int) uint16 {
	typeByte := mysql.MYSQL_TYPE_STRING ^ byte((length&0x300)>>4)
	return uint16(typeByte)<<8 | uint16(length&0xff)
}

func intColumn(typ byte, unsigned bool) schema.Column {
	return schema.Column{Name: "n", Type: typ, Unsigned: unsigned}
}

func textColumn(typ byte, meta uint16, charset string) schema.Column {
	return schema.Column{Name: "s", Type: typ, Meta: meta, Charset: charset}
}

// sixtyFourMembers returns the names m0 to m63 of a SET with the maximum
// number of members.
func sixtyFourMembers() []string {
	names := make([]string, 64)
	for i := range names {
		names[i] = "m" + strconv.Itoa(i)
	}
	return names
}

type valueCase struct {
	name   string
	column schema.Column
	value  any
	want   string
}

func runValueCases(t *testing.T, cases []valueCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := (&Options{}).appendValue(nil, &tc.column, tc.value)
			if err != nil {
				t.Fatalf("appendValue(%T %#v) error: %v; want %s", tc.value, tc.value, err, tc.want)
			}
			if string(got) != tc.want {
				t.Errorf("appendValue(%T %#v) = %s; want %s", tc.value, tc.value, got, tc.want)
			}
			if !json.Valid(got) {
				t.Errorf("appendValue(%T %#v) = %s; want valid JSON", tc.value, tc.value, got)
			}
		})
	}
}

func TestAppendValueIntegers(t *testing.T) {
	tiny := intColumn(mysql.MYSQL_TYPE_TINY, false)
	utiny := intColumn(mysql.MYSQL_TYPE_TINY, true)
	short := intColumn(mysql.MYSQL_TYPE_SHORT, false)
	ushort := intColumn(mysql.MYSQL_TYPE_SHORT, true)
	medium := intColumn(mysql.MYSQL_TYPE_INT24, false)
	umedium := intColumn(mysql.MYSQL_TYPE_INT24, true)
	long := intColumn(mysql.MYSQL_TYPE_LONG, false)
	ulong := intColumn(mysql.MYSQL_TYPE_LONG, true)
	big := intColumn(mysql.MYSQL_TYPE_LONGLONG, false)
	ubig := intColumn(mysql.MYSQL_TYPE_LONGLONG, true)

	// go-mysql decodes TINYINT to int8 or uint8, SMALLINT to int16 or
	// uint16, MEDIUMINT and INT to int32 or uint32, and BIGINT to int64 or
	// uint64, by the column's signedness.
	runValueCases(t, []valueCase{
		{"tinyint min", tiny, int8(-128), "-128"},
		{"tinyint max", tiny, int8(127), "127"},
		{"tinyint zero", tiny, int8(0), "0"},
		{"tinyint unsigned max", utiny, uint8(255), "255"},
		{"smallint min", short, int16(-32768), "-32768"},
		{"smallint max", short, int16(32767), "32767"},
		{"smallint unsigned max", ushort, uint16(65535), "65535"},
		{"mediumint min", medium, int32(-8388608), "-8388608"},
		{"mediumint max", medium, int32(8388607), "8388607"},
		{"mediumint unsigned max", umedium, uint32(16777215), "16777215"},
		{"int min", long, int32(-2147483648), "-2147483648"},
		{"int max", long, int32(2147483647), "2147483647"},
		{"int unsigned max", ulong, uint32(4294967295), "4294967295"},
		{"bigint min", big, int64(-9223372036854775808), "-9223372036854775808"},
		{"bigint max", big, int64(9223372036854775807), "9223372036854775807"},
		{"bigint above 2^53", big, int64(9007199254740993), "9007199254740993"},
		{"bigint unsigned max", ubig, uint64(18446744073709551615), "18446744073709551615"},
		{"bigint unsigned above 2^63", ubig, uint64(9223372036854775808), "9223372036854775808"},
		{"bigint unsigned zero", ubig, uint64(0), "0"},
	})
}

func TestAppendValueYear(t *testing.T) {
	year := schema.Column{Name: "y", Type: mysql.MYSQL_TYPE_YEAR}

	// go-mysql hands YEAR over as an int: 1901 to 2155, or 0 for YEAR 0000.
	runValueCases(t, []valueCase{
		{"min", year, 1901, "1901"},
		{"leap", year, 2024, "2024"},
		{"max", year, 2155, "2155"},
		{"zero", year, 0, "0"},
	})
}

func TestAppendValueBit(t *testing.T) {
	bit1 := schema.Column{Name: "b", Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0001}
	bit8 := schema.Column{Name: "b", Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0100}
	bit64 := schema.Column{Name: "b", Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0800}

	// go-mysql decodes every BIT(n) to an int64 holding the bits, so b'1'
	// followed by 63 zeros arrives as math.MinInt64.
	runValueCases(t, []valueCase{
		{"bit1 false", bit1, int64(0), "false"},
		{"bit1 true", bit1, int64(1), "true"},
		{"bit8 all ones", bit8, int64(0xff), "255"},
		{"bit64 all ones", bit64, int64(-1), "18446744073709551615"},
		{"bit64 top bit only", bit64, int64(math.MinInt64), "9223372036854775808"},
		{"bit64 top bit clear", bit64, int64(math.MaxInt64), "9223372036854775807"},
	})
}

func TestAppendValueDecimal(t *testing.T) {
	dec := func(precision, scale int) schema.Column {
		return schema.Column{Name: "d", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: uint16(precision)<<8 | uint16(scale)}
	}

	// go-mysql decodes DECIMAL to a string with exactly scale digits after
	// the point, and the JSON keeps it as a string so no digit is lost.
	runValueCases(t, []valueCase{
		{"trailing zero kept", dec(10, 2), "1.10", `"1.10"`},
		{"zero with scale", dec(10, 2), "0.00", `"0.00"`},
		{"negative", dec(10, 2), "-12345678.90", `"-12345678.90"`},
		{"tiny negative", dec(20, 19), "-0.0000000000000000001", `"-0.0000000000000000001"`},
		{"integer", dec(10, 0), "42", `"42"`},
		{"38 digits", dec(38, 0), "12345678901234567890123456789012345678", `"12345678901234567890123456789012345678"`},
		{"38 digits negative", dec(38, 0), "-99999999999999999999999999999999999999", `"-99999999999999999999999999999999999999"`},
		{"38 digits with scale", dec(38, 10), "1234567890123456789012345678.0123456789", `"1234567890123456789012345678.0123456789"`},
		{
			"65 digits",
			dec(65, 30),
			"99999999999999999999999999999999999.999999999999999999999999999999",
			`"99999999999999999999999999999999999.999999999999999999999999999999"`,
		},
	})
}

func TestAppendValueFloat(t *testing.T) {
	float := schema.Column{Name: "f", Type: mysql.MYSQL_TYPE_FLOAT, Meta: 4}
	double := schema.Column{Name: "f", Type: mysql.MYSQL_TYPE_DOUBLE, Meta: 8}

	// FLOAT arrives as float32 and DOUBLE as float64. Each prints as the
	// shortest decimal that reads back as the same value of its own width.
	runValueCases(t, []valueCase{
		{"float one tenth", float, float32(0.1), "0.1"},
		{"float one and a half", float, float32(-1.5), "-1.5"},
		{"float integer", float, float32(100), "100"},
		{"float 2^24", float, float32(16777216), "1.6777216e+07"},
		{"float max", float, float32(math.MaxFloat32), "3.4028235e+38"},
		{"float smallest subnormal", float, float32(math.SmallestNonzeroFloat32), "1e-45"},
		{"float zero", float, float32(0), "0"},
		{"double one tenth", double, 0.1, "0.1"},
		{"double above 0.3", double, 0.30000000000000004, "0.30000000000000004"},
		{"double integer", double, 100.0, "100"},
		{"double million", double, 1e6, "1e+06"},
		{"double 1e21", double, 1e21, "1e+21"},
		{"double max", double, math.MaxFloat64, "1.7976931348623157e+308"},
		{"double smallest subnormal", double, math.SmallestNonzeroFloat64, "5e-324"},
		{"double negative zero", double, math.Copysign(0, -1), "-0"},
		{"double 2^53 plus 2", double, 9007199254740994.0, "9.007199254740994e+15"},
	})
}

func TestAppendValueFloatRoundTrip(t *testing.T) {
	float := schema.Column{Name: "f", Type: mysql.MYSQL_TYPE_FLOAT}
	double := schema.Column{Name: "f", Type: mysql.MYSQL_TYPE_DOUBLE}

	checkFloat := func(f float32) bool {
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return true
		}
		got, err := (&Options{}).appendValue(nil, &float, f)
		if err != nil {
			t.Logf("float %v: %v", f, err)
			return false
		}
		back, err := strconv.ParseFloat(string(got), 32)
		return err == nil && float32(back) == f && json.Valid(got)
	}
	if err := quick.Check(checkFloat, nil); err != nil {
		t.Errorf("FLOAT text does not read back as the same float32: %v", err)
	}

	checkDouble := func(f float64) bool {
		if math.IsNaN(f) || math.IsInf(f, 0) {
			return true
		}
		got, err := (&Options{}).appendValue(nil, &double, f)
		if err != nil {
			t.Logf("double %v: %v", f, err)
			return false
		}
		back, err := strconv.ParseFloat(string(got), 64)
		return err == nil && back == f && json.Valid(got)
	}
	if err := quick.Check(checkDouble, nil); err != nil {
		t.Errorf("DOUBLE text does not read back as the same float64: %v", err)
	}
}

func TestAppendValueTemporal(t *testing.T) {
	timestamp := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_TIMESTAMP}
	timestamp0 := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_TIMESTAMP2, Meta: 0}
	timestamp3 := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_TIMESTAMP2, Meta: 3}
	timestamp6 := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_TIMESTAMP2, Meta: 6}
	datetime := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_DATETIME}
	datetime6 := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_DATETIME2, Meta: 6}
	date := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_DATE}
	newdate := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_NEWDATE}
	clock := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_TIME}
	clock0 := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_TIME2, Meta: 0}
	clock6 := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_TIME2, Meta: 6}

	// go-mysql formats a TIMESTAMP as UTC text (the reader sets
	// TimestampStringLocation to UTC), which becomes ISO 8601 with a Z. The
	// other temporal types carry no time zone and keep the server's text.
	runValueCases(t, []valueCase{
		{"timestamp millis", timestamp3, "2016-08-17 11:08:04.000", `"2016-08-17T11:08:04.000Z"`},
		{"timestamp micros", timestamp6, "2038-01-19 03:14:07.999999", `"2038-01-19T03:14:07.999999Z"`},
		{"timestamp no fraction", timestamp0, "2016-08-17 11:08:04", `"2016-08-17T11:08:04Z"`},
		{"timestamp old type", timestamp, "1970-01-01 00:00:01", `"1970-01-01T00:00:01Z"`},
		{"timestamp zero", timestamp0, "0000-00-00 00:00:00", `"0000-00-00 00:00:00"`},
		{"timestamp zero with fraction", timestamp3, "0000-00-00 00:00:00.000", `"0000-00-00 00:00:00.000"`},
		{"timestamp old type zero", timestamp, "0000-00-00 00:00:00", `"0000-00-00 00:00:00"`},
		{"datetime", datetime6, "2024-02-29 23:59:59.123456", `"2024-02-29 23:59:59.123456"`},
		{"datetime min", datetime6, "1000-01-01 00:00:00.000000", `"1000-01-01 00:00:00.000000"`},
		{"datetime zero", datetime6, "0000-00-00 00:00:00.000000", `"0000-00-00 00:00:00.000000"`},
		{"datetime zero month", datetime, "2024-00-00 10:00:00", `"2024-00-00 10:00:00"`},
		{"datetime old type", datetime, "9999-12-31 23:59:59", `"9999-12-31 23:59:59"`},
		{"date", date, "2024-01-31", `"2024-01-31"`},
		{"date zero", date, "0000-00-00", `"0000-00-00"`},
		{"newdate", newdate, "1999-12-31", `"1999-12-31"`},
		{"time min", clock0, "-838:59:59", `"-838:59:59"`},
		{"time max", clock6, "838:59:59.000000", `"838:59:59.000000"`},
		{"time negative fraction", clock6, "-00:00:00.500000", `"-00:00:00.500000"`},
		{"time old type zero", clock, "00:00:00", `"00:00:00"`},
	})
}

func TestAppendValueEnumSet(t *testing.T) {
	size := schema.Column{
		Name: "size", Type: mysql.MYSQL_TYPE_ENUM, Meta: uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 1,
		Charset: "utf8mb4", EnumValues: []string{"small", "medium", "large"},
	}
	flags := schema.Column{
		Name: "flags", Type: mysql.MYSQL_TYPE_SET, Meta: uint16(mysql.MYSQL_TYPE_SET)<<8 | 1,
		Charset: "utf8mb4", SetValues: []string{"a", "b", "c"},
	}
	wide := schema.Column{
		Name: "wide", Type: mysql.MYSQL_TYPE_SET, Meta: uint16(mysql.MYSQL_TYPE_SET)<<8 | 8,
		Charset: "utf8mb4", SetValues: sixtyFourMembers(),
	}

	// An ENUM value is the 1-based index of its member, with 0 for the ''
	// that the server stores for an invalid value. A SET value is a bit
	// mask where bit i selects member i, printed in definition order.
	runValueCases(t, []valueCase{
		{"enum first", size, int64(1), `"small"`},
		{"enum last", size, int64(3), `"large"`},
		{"enum invalid", size, int64(0), `""`},
		{"set first and third", flags, int64(5), `"a,c"`},
		{"set all", flags, int64(7), `"a,b,c"`},
		{"set one", flags, int64(2), `"b"`},
		{"set empty", flags, int64(0), `""`},
		{"set 64th member", wide, int64(math.MinInt64), `"m63"`},
		{"set 1st and 64th member", wide, int64(math.MinInt64 | 1), `"m0,m63"`},
	})
}

// TestAppendValueEnumCharset covers ENUM and SET member names in a column
// whose character set is not UTF-8. TABLE_MAP carries the names as the
// bytes of the column's character set, so a latin1 'é' is the byte 0xE9.
func TestAppendValueEnumCharset(t *testing.T) {
	accent := schema.Column{
		Name: "accent", Type: mysql.MYSQL_TYPE_ENUM, Collation: 8, Charset: "latin1",
		EnumValues: []string{"caf\xe9", "na\xefve"},
	}
	marks := schema.Column{
		Name: "marks", Type: mysql.MYSQL_TYPE_SET, Collation: 8, Charset: "latin1",
		SetValues: []string{"\xe9", "\x80"},
	}

	runValueCases(t, []valueCase{
		{"latin1 enum", accent, int64(1), `"café"`},
		{"latin1 set", marks, int64(3), `"é,€"`},
	})
}

func TestAppendValueStrings(t *testing.T) {
	varcharUTF8 := textColumn(mysql.MYSQL_TYPE_VARCHAR, 256, "utf8mb4")
	varcharUTF8MB3 := textColumn(mysql.MYSQL_TYPE_VARCHAR, 96, "utf8mb3")
	varcharUTF8Alias := textColumn(mysql.MYSQL_TYPE_VARCHAR, 96, "utf8")
	varcharASCII := textColumn(mysql.MYSQL_TYPE_VARCHAR, 32, "ascii")
	varcharLatin1 := textColumn(mysql.MYSQL_TYPE_VARCHAR, 32, "latin1")
	textUTF8 := textColumn(mysql.MYSQL_TYPE_BLOB, 2, "utf8mb4")
	textLatin1 := textColumn(mysql.MYSQL_TYPE_BLOB, 2, "latin1")
	charUTF8 := textColumn(mysql.MYSQL_TYPE_STRING, stringMeta(40), "utf8mb4")
	// CHAR(255) in utf8mb4 is 1020 bytes, so its length needs the folded bits.
	char255UTF8 := textColumn(mysql.MYSQL_TYPE_STRING, stringMeta(1020), "utf8mb4")

	// go-mysql hands CHAR and VARCHAR over as string and TEXT as []byte,
	// both holding the bytes of the column's character set.
	runValueCases(t, []valueCase{
		{"utf8mb4 emoji", varcharUTF8, "héllo 😀", `"héllo 😀"`},
		{"utf8mb4 empty", varcharUTF8, "", `""`},
		{"utf8mb4 escapes", varcharUTF8, "a\"b\\c\n", `"a\"b\\c\n"`},
		{"utf8mb3", varcharUTF8MB3, "Grüße", `"Grüße"`},
		{"utf8", varcharUTF8Alias, "Grüße", `"Grüße"`},
		{"ascii", varcharASCII, "plain", `"plain"`},
		{"text utf8mb4 bytes", textUTF8, []byte("日本語 😀"), `"日本語 😀"`},
		{"char utf8mb4", charUTF8, "abc", `"abc"`},
		{"char 1020 bytes not padded", char255UTF8, "x", `"x"`},
		{"latin1 euro", varcharLatin1, "\x80", `"€"`},
		{"latin1 e acute", varcharLatin1, "caf\xe9", `"café"`},
		{"latin1 undefined 0x81", varcharLatin1, "\x81", "\"\u0081\""},
		{"latin1 y diaeresis", varcharLatin1, "\xff", `"ÿ"`},
		{"latin1 nbsp", varcharLatin1, "\xa0", "\"\u00a0\""},
		{"latin1 ascii", varcharLatin1, "abc", `"abc"`},
		{"latin1 text bytes", textLatin1, []byte("na\xefve \x93q\x94"), `"naïve “q”"`},
	})
}

// TestAppendValueLatin1High checks every byte from 0x80 to 0x9F of MySQL's
// latin1, which is Windows-1252 with its five undefined bytes (0x81, 0x8D,
// 0x8F, 0x90, 0x9D) mapped to the C1 controls of the same value.
func TestAppendValueLatin1High(t *testing.T) {
	column := textColumn(mysql.MYSQL_TYPE_VARCHAR, 32, "latin1")
	want := [32]rune{
		0x20ac, 0x0081, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021,
		0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0x008d, 0x017d, 0x008f,
		0x0090, 0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014,
		0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0x009d, 0x017e, 0x0178,
	}
	for i, r := range want {
		b := byte(0x80 + i)
		got, err := (&Options{}).appendValue(nil, &column, string([]byte{b}))
		if err != nil {
			t.Errorf("latin1 byte %#x: error %v; want %U", b, err, r)
			continue
		}
		if wantJSON := `"` + string(r) + `"`; string(got) != wantJSON {
			t.Errorf("latin1 byte %#x = %s; want %s (%U)", b, got, wantJSON, r)
		}
	}
}

func TestAppendValueBinary(t *testing.T) {
	binary4 := textColumn(mysql.MYSQL_TYPE_STRING, stringMeta(4), "binary")
	binary16 := textColumn(mysql.MYSQL_TYPE_STRING, stringMeta(16), "binary")
	binary255 := textColumn(mysql.MYSQL_TYPE_STRING, stringMeta(255), "binary")
	varbinary := textColumn(mysql.MYSQL_TYPE_VARCHAR, 4, "binary")
	blob := textColumn(mysql.MYSQL_TYPE_BLOB, 2, "binary")

	// The binlog leaves out the trailing zero bytes of a BINARY(n) value,
	// so they are put back up to n. VARBINARY and BLOB keep their length.
	runValueCases(t, []valueCase{
		{"binary padded", binary4, "ab", `"YWIAAA=="`},
		{"binary full", binary4, "abcd", `"YWJjZA=="`},
		{"binary all zero", binary16, "", `"AAAAAAAAAAAAAAAAAAAAAA=="`},
		{"binary 255 padded", binary255, "\xff", `"/w` + strings.Repeat("A", 338) + `"`},
		{"varbinary not padded", varbinary, "ab", `"YWI="`},
		{"varbinary high bytes", varbinary, "\x00\x01\xff", `"AAH/"`},
		{"blob", blob, []byte{0xde, 0xad, 0xbe, 0xef}, `"3q2+7w=="`},
		{"blob empty", blob, []byte{}, `""`},
	})
}

func TestFixedLength(t *testing.T) {
	for _, length := range []int{0, 1, 4, 16, 255, 256, 300, 511, 512, 767, 768, 1020} {
		meta := stringMeta(length)
		if got := fixedLength(meta); got != length {
			t.Errorf("fixedLength(%#04x) = %d; want %d", meta, got, length)
		}
	}
}

func TestAppendValueDocuments(t *testing.T) {
	doc := schema.Column{Name: "doc", Type: mysql.MYSQL_TYPE_JSON, Meta: 4}
	shape := schema.Column{Name: "shape", Type: mysql.MYSQL_TYPE_GEOMETRY, Meta: 4}

	// POINT(1 2) with SRID 0: a 4-byte SRID followed by little-endian WKB.
	point := []byte{
		0, 0, 0, 0,
		1, 1, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
		0, 0, 0, 0, 0, 0, 0, 0x40,
	}

	// go-mysql turns a JSON column into its document text, and GEOMETRY
	// stays the server's bytes.
	runValueCases(t, []valueCase{
		{"json string", doc, `{"a": [1, 2.5, "x"]}`, `"{\"a\": [1, 2.5, \"x\"]}"`},
		{"json bytes", doc, []byte(`[true, null]`), `"[true, null]"`},
		{"json scalar", doc, `"é"`, `"\"é\""`},
		{"geometry point", shape, point, `"AAAAAAEBAAAAAAAAAAAA8D8AAAAAAAAAQA=="`},
	})
}

func TestAppendValueNull(t *testing.T) {
	types := []byte{
		mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_BIT, mysql.MYSQL_TYPE_NEWDECIMAL,
		mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_TIMESTAMP2, mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_ENUM,
		mysql.MYSQL_TYPE_SET, mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_BLOB,
		mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_GEOMETRY,
	}
	for _, typ := range types {
		column := schema.Column{Name: "x", Type: typ, Charset: "binary"}
		got, err := (&Options{}).appendValue(nil, &column, nil)
		if err != nil {
			t.Errorf("type %d: NULL gives error %v; want null", typ, err)
			continue
		}
		if string(got) != "null" {
			t.Errorf("type %d: NULL = %s; want null", typ, got)
		}
	}
}

func TestAppendValueKeepsPrefix(t *testing.T) {
	column := intColumn(mysql.MYSQL_TYPE_LONG, false)
	got, err := (&Options{}).appendValue([]byte(`{"n":`), &column, int32(-7))
	if err != nil {
		t.Fatalf("appendValue error: %v", err)
	}
	if want := `{"n":-7`; string(got) != want {
		t.Errorf("appendValue after a prefix = %s; want %s", got, want)
	}
}

func TestAppendValueErrors(t *testing.T) {
	cases := []struct {
		name   string
		column schema.Column
		value  any
		// wantText are substrings the error message must contain.
		wantText []string
	}{
		{"unsupported charset", textColumn(mysql.MYSQL_TYPE_VARCHAR, 32, "swe7"), "x", []string{`"swe7"`}},
		{"unsupported charset text", textColumn(mysql.MYSQL_TYPE_BLOB, 2, "armscii8"), []byte("x"), []string{`"armscii8"`}},
		{"integer as string", intColumn(mysql.MYSQL_TYPE_LONGLONG, false), "12", []string{"string"}},
		{"integer as float", intColumn(mysql.MYSQL_TYPE_LONG, false), 1.5, []string{"float64"}},
		{"bit as uint64", schema.Column{Type: mysql.MYSQL_TYPE_BIT}, uint64(1), []string{"uint64"}},
		{"decimal as float", schema.Column{Type: mysql.MYSQL_TYPE_NEWDECIMAL}, 1.1, []string{"float64"}},
		{"float as float64", schema.Column{Type: mysql.MYSQL_TYPE_FLOAT}, 1.5, []string{"float64"}},
		{"double as float32", schema.Column{Type: mysql.MYSQL_TYPE_DOUBLE}, float32(1.5), []string{"float32"}},
		{"timestamp as int", schema.Column{Type: mysql.MYSQL_TYPE_TIMESTAMP2}, int64(0), []string{"int64"}},
		{"date as bytes", schema.Column{Type: mysql.MYSQL_TYPE_DATE}, []byte("2024-01-01"), []string{"[]uint8"}},
		{"enum as int", schema.Column{Type: mysql.MYSQL_TYPE_ENUM, EnumValues: []string{"a"}}, 1, []string{"int"}},
		{"set as uint64", schema.Column{Type: mysql.MYSQL_TYPE_SET, SetValues: []string{"a"}}, uint64(1), []string{"uint64"}},
		{"varchar as int", textColumn(mysql.MYSQL_TYPE_VARCHAR, 32, "utf8mb4"), 7, []string{"int"}},
		{"json as int", schema.Column{Type: mysql.MYSQL_TYPE_JSON}, 7, []string{"int"}},
		{"geometry as string", schema.Column{Type: mysql.MYSQL_TYPE_GEOMETRY}, "POINT(1 2)", []string{"string"}},
		{"double NaN", schema.Column{Type: mysql.MYSQL_TYPE_DOUBLE}, math.NaN(), []string{"NaN"}},
		{"double infinity", schema.Column{Type: mysql.MYSQL_TYPE_DOUBLE}, math.Inf(1), []string{"Inf"}},
		{"float infinity", schema.Column{Type: mysql.MYSQL_TYPE_FLOAT}, float32(math.Inf(-1)), []string{"Inf"}},
		{"vector type", schema.Column{Type: mysql.MYSQL_TYPE_VECTOR}, []byte{0, 0, 0, 0}, []string{"242"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := (&Options{}).appendValue(nil, &tc.column, tc.value)
			if err == nil {
				t.Fatalf("appendValue(%T %#v) = %s with no error; want an error", tc.value, tc.value, got)
			}
			for _, text := range tc.wantText {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
		})
	}
}

func TestAppendString(t *testing.T) {
	cases := []struct {
		name string
		in   string
		want string
	}{
		{"empty", "", `""`},
		{"plain", "abc", `"abc"`},
		{"quote", `say "hi"`, `"say \"hi\""`},
		{"backslash", `C:\dir`, `"C:\\dir"`},
		{"newline", "a\nb", `"a\nb"`},
		{"tab", "a\tb", `"a\tb"`},
		{"carriage return", "a\rb", `"a\rb"`},
		{"nul", "\x00", `"\u0000"`},
		{"control 0x01", "\x01", `"\u0001"`},
		{"control 0x1f", "\x1f", `"\u001f"`},
		{"delete kept", "\x7f", "\"\x7f\""},
		{"html kept", "<a href='x'>&amp;</a>", `"<a href='x'>&amp;</a>"`},
		{"multibyte kept", "é日😀", `"é日😀"`},
		{"replacement char kept", "\ufffd", "\"\ufffd\""},
		{"invalid byte", "a\xffb", `"a\ufffdb"`},
		{"truncated sequence", "\xe2\x82", `"\ufffd\ufffd"`},
		{"lone continuation", "\x80x", `"\ufffdx"`},
		{"encoded surrogate", "\xed\xa0\x80", `"\ufffd\ufffd\ufffd"`},
		{"line separator", "a\u2028b", `"a\u2028b"`},
		{"paragraph separator", "a\u2029b", `"a\u2029b"`},
		{"mixed", "\"\x01\u2028<\xff", `"\"\u0001\u2028<\ufffd"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := appendString(nil, tc.in)
			if string(got) != tc.want {
				t.Errorf("appendString(%q) = %s; want %s", tc.in, got, tc.want)
			}
		})
	}
}

// replaceInvalidBytes returns s with each byte that is not part of a valid
// UTF-8 sequence replaced by U+FFFD, which is what a JSON decoder reads back
// from appendString's output.
func replaceInvalidBytes(s string) string {
	var sb strings.Builder
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			sb.WriteRune(utf8.RuneError)
		} else {
			sb.WriteString(s[i : i+size])
		}
		i += size
	}
	return sb.String()
}

func checkAppendString(t *testing.T, s string) {
	t.Helper()
	out := appendString(nil, s)
	if !json.Valid(out) {
		t.Fatalf("appendString(%q) = %s; want valid JSON", s, out)
	}
	var back string
	if err := json.Unmarshal(out, &back); err != nil {
		t.Fatalf("decode appendString(%q) = %s: %v", s, out, err)
	}
	if want := replaceInvalidBytes(s); back != want {
		t.Errorf("appendString(%q) decodes to %q; want %q", s, back, want)
	}
}

func TestAppendStringQuick(t *testing.T) {
	check := func(raw []byte) bool {
		checkAppendString(t, string(raw))
		return !t.Failed()
	}
	if err := quick.Check(check, &quick.Config{MaxCount: 2000}); err != nil {
		t.Error(err)
	}
}

func FuzzAppendString(f *testing.F) {
	for _, seed := range []string{"", "abc", "\"\\/", "\x00\x1f\x7f", "\u2028\u2029", "<>&", "\xff\xfe", "é😀", "\xed\xa0\x80"} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, s string) {
		checkAppendString(t, s)
	})
}
