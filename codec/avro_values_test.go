package codec

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"math"
	"math/big"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/schema"
)

// wallClock returns the date and time of day of t without its location.
// hamba/avro decodes local-timestamp-micros into the local time zone with
// the encoded wall clock.
func wallClock(t time.Time) string {
	return t.Format("2006-01-02T15:04:05.999999999")
}

// sameDecoded reports whether a value decoded by hamba/avro equals want.
func sameDecoded(got, want any) bool {
	switch w := want.(type) {
	case *big.Rat:
		g, ok := got.(*big.Rat)
		return ok && g.Cmp(w) == 0
	case time.Time:
		g, ok := got.(time.Time)
		return ok && wallClock(g) == wallClock(w)
	case []byte:
		g, ok := got.([]byte)
		return ok && bytes.Equal(g, w)
	case float32:
		g, ok := got.(float32)
		return ok && math.Float32bits(g) == math.Float32bits(w)
	case float64:
		g, ok := got.(float64)
		return ok && math.Float64bits(g) == math.Float64bits(w)
	}
	return reflect.DeepEqual(got, want)
}

// jsonNumber returns a JSON form value that must be a number.
func jsonNumber(t *testing.T, v any) string {
	t.Helper()
	n, ok := v.(json.Number)
	if !ok {
		t.Fatalf("JSON value %#v (%T); want a number", v, v)
	}
	return string(n)
}

func jsonInt(t *testing.T, v any) int64 {
	t.Helper()
	n, err := strconv.ParseInt(jsonNumber(t, v), 10, 64)
	if err != nil {
		t.Fatalf("JSON number %v: %v", v, err)
	}
	return n
}

// checkMatchesJSON checks that a value decoded from Avro is the value the
// JSON form writes for the same column, converting the JSON form's text.
// The JSON form must use TimeConnect, where temporal values are numbers
// and zero dates are null.
func checkMatchesJSON(t *testing.T, column *schema.Column, got, jsonValue any) {
	t.Helper()
	switch g := got.(type) {
	case nil:
		// The JSON form keeps a zero TIMESTAMP as text in every mode.
		text, _ := jsonValue.(string)
		isTimestamp := column.Type == mysql.MYSQL_TYPE_TIMESTAMP || column.Type == mysql.MYSQL_TYPE_TIMESTAMP2
		if isTimestamp && strings.HasPrefix(text, "0000-00-00") {
			return
		}
		if jsonValue != nil {
			t.Errorf("Avro null; JSON form %#v", jsonValue)
		}
	case bool:
		if jsonValue != g {
			t.Errorf("Avro %v; JSON form %#v", g, jsonValue)
		}
	case int:
		if want := jsonInt(t, jsonValue); int64(g) != want {
			t.Errorf("Avro int %d; JSON form %d", g, want)
		}
	case int64:
		if want := jsonInt(t, jsonValue); g != want {
			t.Errorf("Avro long %d; JSON form %d", g, want)
		}
	case float32:
		want, err := strconv.ParseFloat(jsonNumber(t, jsonValue), 32)
		if err != nil || g != float32(want) {
			t.Errorf("Avro float %v; JSON form %v (%v)", g, jsonValue, err)
		}
	case float64:
		want, err := strconv.ParseFloat(jsonNumber(t, jsonValue), 64)
		if err != nil || g != want {
			t.Errorf("Avro double %v; JSON form %v (%v)", g, jsonValue, err)
		}
	case string:
		if jsonValue != g {
			t.Errorf("Avro string %q; JSON form %#v", g, jsonValue)
		}
	case *big.Rat:
		// DECIMAL is a JSON string and BIGINT UNSIGNED a JSON number.
		var text string
		switch j := jsonValue.(type) {
		case string:
			text = j
		case json.Number:
			text = string(j)
		}
		want, ok := new(big.Rat).SetString(text)
		if !ok || g.Cmp(want) != 0 {
			t.Errorf("Avro decimal %s; JSON form %#v", g.RatString(), jsonValue)
		}
	case []byte:
		if column.Type == mysql.MYSQL_TYPE_BIT {
			want, err := strconv.ParseUint(jsonNumber(t, jsonValue), 10, 64)
			if err != nil || new(big.Int).SetBytes(g).Uint64() != want || len(g) > 8 {
				t.Errorf("Avro bits %x; JSON form %v (%v)", g, jsonValue, err)
			}
			return
		}
		text, _ := jsonValue.(string)
		want, err := base64.StdEncoding.DecodeString(text)
		if err != nil || !bytes.Equal(g, want) {
			t.Errorf("Avro bytes %x; JSON form %#v (%v)", g, jsonValue, err)
		}
	case time.Time:
		checkTimeMatchesJSON(t, column, g, jsonValue)
	default:
		t.Errorf("Avro value %#v of unexpected Go type %T", got, got)
	}
}

func checkTimeMatchesJSON(t *testing.T, column *schema.Column, got time.Time, jsonValue any) {
	t.Helper()
	switch column.Type {
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		days := jsonInt(t, jsonValue)
		if want := time.Unix(days*86400, 0).UTC(); !got.Equal(want) {
			t.Errorf("Avro date %v; JSON form %d days (%v)", got, days, want)
		}
	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2:
		// The JSON form counts milliseconds up to DATETIME(3).
		n := jsonInt(t, jsonValue)
		if column.Type == mysql.MYSQL_TYPE_DATETIME || column.Meta <= 3 {
			n *= 1000
		}
		if want := time.UnixMicro(n).UTC(); wallClock(got) != wallClock(want) {
			t.Errorf("Avro local timestamp %s; JSON form %v (%s)", wallClock(got), jsonValue, wallClock(want))
		}
	case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		text, _ := jsonValue.(string)
		want, err := time.Parse(time.RFC3339Nano, text)
		if err != nil || !got.Equal(want) {
			t.Errorf("Avro timestamp %v; JSON form %#v (%v)", got, jsonValue, err)
		}
	default:
		t.Errorf("Avro time %v for column type %d", got, column.Type)
	}
}

type avroCase struct {
	name   string
	column schema.Column
	value  any
	// want is the value hamba/avro decodes: int, int64, float32, float64,
	// bool, string, []byte, *big.Rat, time.Time or nil.
	want any
}

// encodeOneColumn encodes a create of a row of the table shop.conv, with
// an INT primary key and column as its second column, in Avro and in the
// JSON form. It returns the second column's value decoded from each.
func encodeOneColumn(t *testing.T, options Options, column schema.Column, value any) (avroValue, jsonValue any) {
	t.Helper()
	column.Name = "c"
	table := &schema.Table{
		Database:   "shop",
		Name:       "conv",
		Columns:    []schema.Column{{Name: "id", Type: mysql.MYSQL_TYPE_LONG}, column},
		PrimaryKey: []int{0},
	}
	change := &Change{Table: table, Op: OpCreate, After: []any{int32(7), value}}

	encoder := newAvro()
	encoder.Options = options
	schemas, err := encoder.Schemas(table, "sluice.shop.conv")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	data, err := encoder.Value(schemas, change, 1)
	if err != nil {
		t.Fatalf("Value(%T %#v) error: %v", value, value, err)
	}
	after := unwrapRecord(t, decodeAvro(t, schemas.ValueSchema, data)["after"], schemas.Namespace+".Value")

	jsonEncoder := newJSON()
	jsonEncoder.Options = options
	jsonEncoder.Options.Time = TimeConnect
	jsonData, err := jsonEncoder.Value(change, 1)
	if err != nil {
		t.Fatalf("JSON Value(%T %#v) error: %v", value, value, err)
	}
	jsonAfter, ok := decodeEnvelope(t, jsonData)["after"].(map[string]any)
	if !ok {
		t.Fatalf("JSON form has no after object: %s", jsonData)
	}
	return unwrapUnion(after["c"]), jsonAfter["c"]
}

func runAvroCases(t *testing.T, options Options, cases []avroCase) {
	t.Helper()
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, jsonValue := encodeOneColumn(t, options, tc.column, tc.value)
			if !sameDecoded(got, tc.want) {
				t.Errorf("Avro value of %T %#v decodes to %#v (%T); want %#v (%T)", tc.value, tc.value, got, got, tc.want, tc.want)
			}
			checkMatchesJSON(t, &tc.column, got, jsonValue)
		})
	}
}

func rat(text string) *big.Rat {
	r, ok := new(big.Rat).SetString(text)
	if !ok {
		panic("invalid rational " + text)
	}
	return r
}

func decimalColumn(precision, scale int) schema.Column {
	return schema.Column{Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: uint16(precision)<<8 | uint16(scale)}
}

func TestAvroIntegers(t *testing.T) {
	tiny := intColumn(mysql.MYSQL_TYPE_TINY, false)
	utiny := intColumn(mysql.MYSQL_TYPE_TINY, true)
	short := intColumn(mysql.MYSQL_TYPE_SHORT, false)
	ushort := intColumn(mysql.MYSQL_TYPE_SHORT, true)
	medium := intColumn(mysql.MYSQL_TYPE_INT24, false)
	umedium := intColumn(mysql.MYSQL_TYPE_INT24, true)
	long := intColumn(mysql.MYSQL_TYPE_LONG, false)
	ulong := intColumn(mysql.MYSQL_TYPE_LONG, true)
	bigint := intColumn(mysql.MYSQL_TYPE_LONGLONG, false)
	ubigint := intColumn(mysql.MYSQL_TYPE_LONGLONG, true)
	year := schema.Column{Type: mysql.MYSQL_TYPE_YEAR}

	// hamba/avro decodes an Avro int to a Go int and a long to an int64.
	runAvroCases(t, Options{}, []avroCase{
		{"tinyint min", tiny, int8(-128), -128},
		{"tinyint max", tiny, int8(127), 127},
		{"tinyint unsigned max", utiny, uint8(255), 255},
		{"smallint min", short, int16(-32768), -32768},
		{"smallint max", short, int16(32767), 32767},
		{"smallint unsigned max", ushort, uint16(65535), 65535},
		{"mediumint min", medium, int32(-8388608), -8388608},
		{"mediumint unsigned max", umedium, uint32(16777215), 16777215},
		{"int min", long, int32(math.MinInt32), math.MinInt32},
		{"int max", long, int32(math.MaxInt32), math.MaxInt32},
		{"int unsigned max", ulong, uint32(math.MaxUint32), int64(math.MaxUint32)},
		{"int unsigned zero", ulong, uint32(0), int64(0)},
		{"bigint min", bigint, int64(math.MinInt64), int64(math.MinInt64)},
		{"bigint max", bigint, int64(math.MaxInt64), int64(math.MaxInt64)},
		{"bigint above 2^53", bigint, int64(9007199254740993), int64(9007199254740993)},
		{"bigint unsigned max", ubigint, uint64(math.MaxUint64), rat("18446744073709551615")},
		{"bigint unsigned above 2^63", ubigint, uint64(1 << 63), rat("9223372036854775808")},
		{"bigint unsigned zero", ubigint, uint64(0), rat("0")},
		{"year max", year, 2155, 2155},
		{"year zero", year, 0, 0},
	})
}

func TestAvroFloats(t *testing.T) {
	float := schema.Column{Type: mysql.MYSQL_TYPE_FLOAT, Meta: 4}
	double := schema.Column{Type: mysql.MYSQL_TYPE_DOUBLE, Meta: 8}

	runAvroCases(t, Options{}, []avroCase{
		{"float one tenth", float, float32(0.1), float32(0.1)},
		{"float max", float, float32(math.MaxFloat32), float32(math.MaxFloat32)},
		{"float smallest subnormal", float, float32(math.SmallestNonzeroFloat32), float32(math.SmallestNonzeroFloat32)},
		{"float negative", float, float32(-1.5), float32(-1.5)},
		{"double one tenth", double, 0.1, 0.1},
		{"double max", double, math.MaxFloat64, math.MaxFloat64},
		{"double smallest subnormal", double, math.SmallestNonzeroFloat64, math.SmallestNonzeroFloat64},
		{"double negative zero", double, math.Copysign(0, -1), math.Copysign(0, -1)},
	})
}

func TestAvroDecimals(t *testing.T) {
	max65 := "99999999999999999999999999999999999.999999999999999999999999999999"

	// The default string mode and the precise mode both give Avro's
	// decimal, which hamba/avro decodes to a *big.Rat.
	cases := []avroCase{
		{"trailing zero kept", decimalColumn(10, 2), "1.10", rat("1.1")},
		{"zero with scale", decimalColumn(10, 2), "0.00", rat("0")},
		{"negative", decimalColumn(10, 2), "-12345678.90", rat("-12345678.9")},
		{"tiny negative", decimalColumn(20, 19), "-0.0000000000000000001", rat("-1/10000000000000000000")},
		{"integer", decimalColumn(10, 0), "42", rat("42")},
		{"38 digits with scale", decimalColumn(38, 10), "1234567890123456789012345678.0123456789", rat("1234567890123456789012345678.0123456789")},
		{"65 digits max", decimalColumn(65, 30), max65, rat(max65)},
		{"65 digits min", decimalColumn(65, 30), "-" + max65, rat("-" + max65)},
		{"65 digits smallest", decimalColumn(65, 30), "0.000000000000000000000000000001", rat("1/1000000000000000000000000000000")},
		{"minus one", decimalColumn(5, 0), "-1", rat("-1")},
		{"minus 128", decimalColumn(5, 0), "-128", rat("-128")},
		{"plus 128", decimalColumn(5, 0), "128", rat("128")},
		{"minus 129", decimalColumn(5, 0), "-129", rat("-129")},
		{"minus 256", decimalColumn(5, 0), "-256", rat("-256")},
		{"minus 32768", decimalColumn(5, 0), "-32768", rat("-32768")},
		{"plus 255", decimalColumn(5, 0), "255", rat("255")},
		{"negative zero", decimalColumn(10, 2), "-0.00", rat("0")},
		{"19 digits", decimalColumn(19, 0), "9999999999999999999", rat("9999999999999999999")},
		{"20 digits", decimalColumn(20, 0), "-18446744073709551616", rat("-18446744073709551616")},
	}
	t.Run("string mode", func(t *testing.T) {
		runAvroCases(t, Options{Decimal: DecimalString}, cases)
	})
	// The JSON form of precise mode is base64 text that checkMatchesJSON
	// does not read, so precise mode is checked against want alone.
	t.Run("precise mode", func(t *testing.T) {
		for _, tc := range cases {
			got, _ := encodeOneColumn(t, Options{Decimal: DecimalPrecise}, tc.column, tc.value)
			if !sameDecoded(got, tc.want) {
				t.Errorf("%s: Avro value decodes to %#v; want %#v", tc.name, got, tc.want)
			}
		}
	})
}

func TestAvroDecimalDoubleMode(t *testing.T) {
	runAvroCases(t, Options{Decimal: DecimalDouble}, []avroCase{
		{"two places", decimalColumn(10, 2), "1.10", 1.1},
		{"negative", decimalColumn(10, 2), "-12345678.90", -12345678.9},
		{"65 digits rounded", decimalColumn(65, 30), "99999999999999999999999999999999999.999999999999999999999999999999", 1e35},
	})
}

func TestAvroBits(t *testing.T) {
	bit1 := schema.Column{Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0001}
	bit8 := schema.Column{Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0100}
	bit10 := schema.Column{Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0102}
	bit64 := schema.Column{Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0800}

	// go-mysql decodes BIT(n) to an int64 of the bits; Avro gets them as
	// big-endian bytes, as many as n needs.
	runAvroCases(t, Options{}, []avroCase{
		{"bit1 false", bit1, int64(0), false},
		{"bit1 true", bit1, int64(1), true},
		{"bit8 all ones", bit8, int64(0xff), []byte{0xff}},
		{"bit8 zero", bit8, int64(0), []byte{0}},
		{"bit10 all ones", bit10, int64(0x3ff), []byte{0x03, 0xff}},
		{"bit64 all ones", bit64, int64(-1), []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"bit64 top bit only", bit64, int64(math.MinInt64), []byte{0x80, 0, 0, 0, 0, 0, 0, 0}},
		{"bit64 top bit clear", bit64, int64(math.MaxInt64), []byte{0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff}},
		{"bit64 one", bit64, int64(1), []byte{0, 0, 0, 0, 0, 0, 0, 1}},
	})
}

func TestAvroTemporal(t *testing.T) {
	date := schema.Column{Type: mysql.MYSQL_TYPE_DATE}
	newdate := schema.Column{Type: mysql.MYSQL_TYPE_NEWDATE}
	datetime := schema.Column{Type: mysql.MYSQL_TYPE_DATETIME}
	datetime0 := schema.Column{Type: mysql.MYSQL_TYPE_DATETIME2, Meta: 0}
	datetime3 := schema.Column{Type: mysql.MYSQL_TYPE_DATETIME2, Meta: 3}
	datetime6 := schema.Column{Type: mysql.MYSQL_TYPE_DATETIME2, Meta: 6}
	timestamp := schema.Column{Type: mysql.MYSQL_TYPE_TIMESTAMP}
	timestamp0 := schema.Column{Type: mysql.MYSQL_TYPE_TIMESTAMP2, Meta: 0}
	timestamp3 := schema.Column{Type: mysql.MYSQL_TYPE_TIMESTAMP2, Meta: 3}
	timestamp6 := schema.Column{Type: mysql.MYSQL_TYPE_TIMESTAMP2, Meta: 6}
	clock := schema.Column{Type: mysql.MYSQL_TYPE_TIME}
	clock0 := schema.Column{Type: mysql.MYSQL_TYPE_TIME2, Meta: 0}
	clock2 := schema.Column{Type: mysql.MYSQL_TYPE_TIME2, Meta: 2}
	clock6 := schema.Column{Type: mysql.MYSQL_TYPE_TIME2, Meta: 6}

	utc := func(year int, month time.Month, day, hour, minute, second, micros int) time.Time {
		return time.Date(year, month, day, hour, minute, second, micros*1000, time.UTC)
	}
	hms := func(hours, minutes, seconds int) time.Duration {
		return time.Duration(hours)*time.Hour + time.Duration(minutes)*time.Minute + time.Duration(seconds)*time.Second
	}

	runAvroCases(t, Options{}, []avroCase{
		{"date", date, "2024-01-31", utc(2024, 1, 31, 0, 0, 0, 0)},
		{"date min", date, "1000-01-01", utc(1000, 1, 1, 0, 0, 0, 0)},
		{"date max", date, "9999-12-31", utc(9999, 12, 31, 0, 0, 0, 0)},
		{"date before epoch", date, "1969-12-31", utc(1969, 12, 31, 0, 0, 0, 0)},
		{"date zero", date, "0000-00-00", nil},
		{"date zero day", date, "2023-05-00", nil},
		{"date zero month", date, "2023-00-10", nil},
		{"date day past month end", date, "2023-02-31", nil},
		{"newdate", newdate, "1999-12-31", utc(1999, 12, 31, 0, 0, 0, 0)},
		{"datetime micros", datetime6, "2024-02-29 23:59:59.123456", utc(2024, 2, 29, 23, 59, 59, 123456)},
		{"datetime min", datetime6, "1000-01-01 00:00:00.000000", utc(1000, 1, 1, 0, 0, 0, 0)},
		{"datetime max", datetime6, "9999-12-31 23:59:59.999999", utc(9999, 12, 31, 23, 59, 59, 999999)},
		{"datetime millis", datetime3, "2024-01-02 03:04:05.123", utc(2024, 1, 2, 3, 4, 5, 123000)},
		{"datetime before epoch", datetime0, "1969-12-31 23:59:59", utc(1969, 12, 31, 23, 59, 59, 0)},
		{"datetime old type", datetime, "9999-12-31 23:59:59", utc(9999, 12, 31, 23, 59, 59, 0)},
		{"datetime zero", datetime6, "0000-00-00 00:00:00.000000", nil},
		{"datetime zero month", datetime, "2024-00-00 10:00:00", nil},
		{"timestamp micros", timestamp6, "2038-01-19 03:14:07.999999", utc(2038, 1, 19, 3, 14, 7, 999999)},
		{"timestamp millis", timestamp3, "2016-08-17 11:08:04.000", utc(2016, 8, 17, 11, 8, 4, 0)},
		{"timestamp fraction left out", timestamp3, "2016-08-17 11:08:04", utc(2016, 8, 17, 11, 8, 4, 0)},
		{"timestamp no fraction", timestamp0, "1970-01-01 00:00:01", utc(1970, 1, 1, 0, 0, 1, 0)},
		{"timestamp old type", timestamp, "2000-02-29 12:00:00", utc(2000, 2, 29, 12, 0, 0, 0)},
		{"timestamp zero", timestamp0, "0000-00-00 00:00:00", nil},
		{"timestamp zero with fraction", timestamp3, "0000-00-00 00:00:00.000", nil},
		{"time min", clock0, "-838:59:59", -hms(838, 59, 59).Microseconds()},
		{"time max", clock6, "838:59:59.000000", hms(838, 59, 59).Microseconds()},
		{"time over a day", clock0, "100:08:04", hms(100, 8, 4).Microseconds()},
		{"time negative fraction", clock6, "-00:00:00.500000", int64(-500000)},
		{"time micros", clock6, "12:34:56.000001", (hms(12, 34, 56) + time.Microsecond).Microseconds()},
		{"time zero fraction left out", clock2, "00:00:00", int64(0)},
		{"time old type", clock, "23:59:59", hms(23, 59, 59).Microseconds()},
	})
}

func TestAvroStrings(t *testing.T) {
	varcharUTF8 := textColumn(mysql.MYSQL_TYPE_VARCHAR, 256, "utf8mb4")
	varcharUTF8MB3 := textColumn(mysql.MYSQL_TYPE_VARCHAR, 96, "utf8mb3")
	varcharASCII := textColumn(mysql.MYSQL_TYPE_VARCHAR, 32, "ascii")
	varcharLatin1 := textColumn(mysql.MYSQL_TYPE_VARCHAR, 32, "latin1")
	varcharCP1251 := textColumn(mysql.MYSQL_TYPE_VARCHAR, 32, "cp1251")
	varcharGBK := textColumn(mysql.MYSQL_TYPE_VARCHAR, 32, "gbk")
	textUTF8 := textColumn(mysql.MYSQL_TYPE_BLOB, 2, "utf8mb4")
	textLatin1 := textColumn(mysql.MYSQL_TYPE_BLOB, 2, "latin1")
	charUTF8 := textColumn(mysql.MYSQL_TYPE_STRING, stringMeta(40), "utf8mb4")

	runAvroCases(t, Options{}, []avroCase{
		{"utf8mb4 emoji", varcharUTF8, "héllo 😀", "héllo 😀"},
		{"utf8mb4 empty", varcharUTF8, "", ""},
		{"utf8mb4 escapes", varcharUTF8, "a\"b\\c\n\x00", "a\"b\\c\n\x00"},
		{"utf8mb4 invalid byte", varcharUTF8, "a\xffb", "a\ufffdb"},
		{"utf8mb3", varcharUTF8MB3, "Grüße", "Grüße"},
		{"ascii", varcharASCII, "plain", "plain"},
		{"text utf8mb4 bytes", textUTF8, []byte("日本語 😀"), "日本語 😀"},
		{"char utf8mb4", charUTF8, "abc", "abc"},
		{"latin1 euro", varcharLatin1, "\x80", "€"},
		{"latin1 e acute", varcharLatin1, "caf\xe9", "café"},
		{"latin1 undefined 0x81", varcharLatin1, "\x81", "\u0081"},
		{"latin1 text bytes", textLatin1, []byte("na\xefve \x93q\x94"), "naïve “q”"},
		{"cp1251", varcharCP1251, "\xcf\xf0\xe8\xe2\xe5\xf2", "Привет"},
		{"gbk", varcharGBK, "\xc4\xe3\xba\xc3", "你好"},
	})
}

func TestAvroEnumSetJSON(t *testing.T) {
	size := schema.Column{
		Type: mysql.MYSQL_TYPE_ENUM, Meta: uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 1,
		Charset: "utf8mb4", EnumValues: []string{"small", "medium", "large"},
	}
	accent := schema.Column{Type: mysql.MYSQL_TYPE_ENUM, Charset: "latin1", EnumValues: []string{"caf\xe9"}}
	flags := schema.Column{
		Type: mysql.MYSQL_TYPE_SET, Meta: uint16(mysql.MYSQL_TYPE_SET)<<8 | 1,
		Charset: "utf8mb4", SetValues: []string{"a", "b", "c"},
	}
	wide := schema.Column{
		Type: mysql.MYSQL_TYPE_SET, Meta: uint16(mysql.MYSQL_TYPE_SET)<<8 | 8,
		Charset: "utf8mb4", SetValues: sixtyFourMembers(),
	}
	doc := schema.Column{Type: mysql.MYSQL_TYPE_JSON, Meta: 4}

	runAvroCases(t, Options{}, []avroCase{
		{"enum", size, int64(2), "medium"},
		{"enum invalid", size, int64(0), ""},
		{"enum latin1", accent, int64(1), "café"},
		{"set first and third", flags, int64(5), "a,c"},
		{"set empty", flags, int64(0), ""},
		{"set 1st and 64th member", wide, int64(math.MinInt64 | 1), "m0,m63"},
		{"json string", doc, `{"a": [1, 2.5, "x"]}`, `{"a": [1, 2.5, "x"]}`},
		{"json bytes", doc, []byte(`[true, null, "é😀"]`), `[true, null, "é😀"]`},
	})
}

func TestAvroBinary(t *testing.T) {
	binary4 := textColumn(mysql.MYSQL_TYPE_STRING, stringMeta(4), "binary")
	binary16 := textColumn(mysql.MYSQL_TYPE_STRING, stringMeta(16), "binary")
	binary300 := textColumn(mysql.MYSQL_TYPE_STRING, stringMeta(255), "binary")
	varbinary := textColumn(mysql.MYSQL_TYPE_VARCHAR, 4, "binary")
	blob := textColumn(mysql.MYSQL_TYPE_BLOB, 2, "binary")
	geometry := schema.Column{Type: mysql.MYSQL_TYPE_GEOMETRY, Meta: 4}

	// POINT(1 2) with SRID 0: a 4-byte SRID followed by little-endian WKB.
	point := []byte{
		0, 0, 0, 0,
		1, 1, 0, 0, 0,
		0, 0, 0, 0, 0, 0, 0xf0, 0x3f,
		0, 0, 0, 0, 0, 0, 0, 0x40,
	}

	// The binlog leaves out the trailing zero bytes of a BINARY(n) value,
	// and Avro gets all n bytes back, raw.
	runAvroCases(t, Options{}, []avroCase{
		{"binary padded", binary4, "ab", []byte("ab\x00\x00")},
		{"binary full", binary4, "abcd", []byte("abcd")},
		{"binary all zero", binary16, "", make([]byte, 16)},
		{"binary 255 padded", binary300, "\xff", append([]byte{0xff}, make([]byte, 254)...)},
		{"varbinary trailing zero kept", varbinary, "ab\x00", []byte("ab\x00")},
		{"varbinary high bytes", varbinary, "\x00\x01\xff", []byte{0, 1, 0xff}},
		{"blob", blob, []byte{0xde, 0xad, 0xbe, 0xef}, []byte{0xde, 0xad, 0xbe, 0xef}},
		{"blob empty", blob, []byte{}, []byte{}},
		{"geometry point", geometry, point, point},
	})
}

func TestAvroMariaDBTypes(t *testing.T) {
	column := func(dataType string, length int) schema.Column {
		return schema.Column{Type: mysql.MYSQL_TYPE_STRING, Meta: stringMeta(length), Charset: "binary", DataType: dataType}
	}
	uuidBytes, _ := hex.DecodeString("123e4567e89b42d3a456426614174000")
	inet6Bytes, _ := hex.DecodeString("20010db8000000000000ff0000428329")
	mappedBytes, _ := hex.DecodeString("00000000000000000000ffff01020304")

	runAvroCases(t, Options{}, []avroCase{
		{"uuid", column("uuid", 16), string(uuidBytes), "123e4567-e89b-42d3-a456-426614174000"},
		{"inet6", column("inet6", 16), string(inet6Bytes), "2001:db8::ff00:42:8329"},
		{"inet6 mapped ipv4", column("inet6", 16), string(mappedBytes), "::ffff:1.2.3.4"},
		// The binlog drops the trailing zero bytes of 10.0.0.0.
		{"inet4 trailing zeros", column("inet4", 4), "\x0a", "10.0.0.0"},
	})
}

func TestAvroNullValues(t *testing.T) {
	table := allTypesTable()
	encoder := newAvro()
	s, err := encoder.Schemas(table, "sluice.shop.every")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	row := make([]any, len(table.Columns))
	row[0] = int32(1)
	data, err := encoder.Value(s, &Change{Table: table, Op: OpCreate, After: row}, 1)
	if err != nil {
		t.Fatalf("Value error: %v", err)
	}
	after := unwrapRecord(t, decodeAvro(t, s.ValueSchema, data)["after"], s.Namespace+".Value")
	for _, column := range table.Columns[1:] {
		if v, ok := after[column.Name]; !ok || v != nil {
			t.Errorf("column %s: NULL decodes to %#v (present %v); want nil", column.Name, v, ok)
		}
	}
	if after["id"] != 1 {
		t.Errorf("id = %#v; want 1", after["id"])
	}
}

func TestAvroValueRowLengthMismatch(t *testing.T) {
	encoder := newAvro()
	s, err := encoder.Schemas(ordersTable(), "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	change := &Change{Table: ordersTable(), Op: OpCreate, After: []any{uint64(1), "x"}}
	_, err = encoder.Value(s, change, 0)
	if err == nil {
		t.Fatal("Value with 2 values for 3 columns returned no error")
	}
	for _, text := range []string{"shop.orders", "2", "3"} {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}
}

func TestAvroValueErrors(t *testing.T) {
	cases := []struct {
		name     string
		column   schema.Column
		value    any
		wantText []string
	}{
		{"decimal as float", decimalColumn(10, 2), 1.5, []string{"float64"}},
		{"invalid decimal text", decimalColumn(10, 2), "1.x", []string{`"1.x"`}},
		{"integer as string", intColumn(mysql.MYSQL_TYPE_LONG, false), "12", []string{"string"}},
		{"int out of range", intColumn(mysql.MYSQL_TYPE_LONG, false), int64(math.MaxInt32 + 1), []string{"2147483648", "int"}},
		{"invalid time text", schema.Column{Type: mysql.MYSQL_TYPE_TIME2}, "noon", []string{`"noon"`}},
		{"date as bytes", schema.Column{Type: mysql.MYSQL_TYPE_DATE}, []byte("2024-01-01"), []string{"[]uint8"}},
		{"unsupported charset", textColumn(mysql.MYSQL_TYPE_VARCHAR, 32, "swe7"), "x", []string{`"swe7"`}},
		{"uuid of wrong length", schema.Column{Type: mysql.MYSQL_TYPE_STRING, Meta: stringMeta(4), Charset: "binary", DataType: "uuid"}, "ab", []string{"UUID", "4 bytes", "expected 16"}},
		{"bit as uint64", schema.Column{Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0800}, uint64(1), []string{"uint64"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.column.Name = "c"
			table := &schema.Table{Database: "shop", Name: "bad", Columns: []schema.Column{tc.column}}
			encoder := newAvro()
			s, err := encoder.Schemas(table, "t")
			if err != nil {
				t.Fatalf("Schemas error: %v", err)
			}
			_, err = encoder.Value(s, &Change{Table: table, Op: OpCreate, After: []any{tc.value}}, 0)
			if err == nil {
				t.Fatalf("Value(%T %#v) returned no error", tc.value, tc.value)
			}
			for _, text := range append([]string{"shop.bad", "column c"}, tc.wantText...) {
				if !strings.Contains(err.Error(), text) {
					t.Errorf("error %q does not contain %q", err, text)
				}
			}
		})
	}
}

func TestValidUTF8(t *testing.T) {
	cases := []struct{ in, want string }{
		{"", ""},
		{"plain é😀", "plain é😀"},
		{"a\xffb", "a\ufffdb"},
		{"\xe2\x82", "\ufffd\ufffd"},
		{"\xed\xa0\x80", "\ufffd\ufffd\ufffd"},
	}
	for _, tc := range cases {
		if got := validUTF8(tc.in); got != tc.want {
			t.Errorf("validUTF8(%q) = %q; want %q", tc.in, got, tc.want)
		}
		// The JSON form must decode to the same text.
		var back string
		if err := json.Unmarshal(appendString(nil, tc.in), &back); err != nil || back != tc.want {
			t.Errorf("JSON form of %q decodes to %q (%v); want %q", tc.in, back, err, tc.want)
		}
	}
}

// TestAvroUnscaledDecimal checks the unscaled integer of DECIMAL text
// against big.Int arithmetic, and the text that is rejected.
func TestAvroUnscaledDecimal(t *testing.T) {
	cases := []struct {
		text  string
		scale int
		want  string // the unscaled integer, or "" for an error
	}{
		{"12.34", 2, "1234"},
		{"-12.340", 3, "-12340"},
		{"1.5", 3, "1500"},
		{"7", 2, "700"},
		{".5", 1, "5"},
		{"-0.00", 2, "0"},
		{"1.230", 2, "123"},
		{"1.234", 2, ""},
		{"12a.4", 1, ""},
		{"", 0, ""},
		{"-", 0, ""},
		{"1.2.3", 1, ""},
	}
	for _, tc := range cases {
		u, err := unscaledOfDecimal(tc.text, tc.scale)
		if tc.want == "" {
			if err == nil {
				t.Errorf("unscaledOfDecimal(%q, %d) = %v, want an error", tc.text, tc.scale, u)
			}
			continue
		}
		if err != nil {
			t.Errorf("unscaledOfDecimal(%q, %d) error: %v", tc.text, tc.scale, err)
			continue
		}
		got := new(big.Int).SetBytes(u.magnitude)
		if u.negative {
			got.Neg(got)
		}
		if got.String() != tc.want {
			t.Errorf("unscaledOfDecimal(%q, %d) = %s, want %s", tc.text, tc.scale, got, tc.want)
		}
	}
}

// TestAvroTwosComplement checks the shortest two's complement of integers
// around every byte boundary against big.Int arithmetic.
func TestAvroTwosComplement(t *testing.T) {
	var values []*big.Int
	for bits := uint(0); bits <= 80; bits++ {
		edge := new(big.Int).Lsh(big.NewInt(1), bits)
		for _, delta := range []int64{-1, 0, 1} {
			n := new(big.Int).Add(edge, big.NewInt(delta))
			values = append(values, n, new(big.Int).Neg(n))
		}
	}
	for _, n := range values {
		got := appendAvroTwosComplement(nil, new(big.Int).Abs(n).Bytes(), n.Sign() < 0)

		// The shortest length k has -2^(8k-1) <= n < 2^(8k-1), and the
		// bytes are n modulo 2^(8k).
		k := 1
		for {
			limit := new(big.Int).Lsh(big.NewInt(1), uint(8*k-1))
			if n.Cmp(limit) < 0 && n.Cmp(new(big.Int).Neg(limit)) >= 0 {
				break
			}
			k++
		}
		modulus := new(big.Int).Lsh(big.NewInt(1), uint(8*k))
		rest := new(big.Int).Mod(n, modulus).Bytes()
		want := appendAvroLong(nil, int64(k))
		want = append(want, make([]byte, k-len(rest))...)
		want = append(want, rest...)
		if !bytes.Equal(got, want) {
			t.Errorf("two's complement of %s = %x, want %x", n, got, want)
		}
	}
}
