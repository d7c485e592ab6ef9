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
	"sync"
	"testing"
	"time"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/hamba/avro/v2"

	"github.com/sluice-cdc/sluice/schema"
)

func newAvro() *Avro {
	return &Avro{Connector: "mysql", Name: "sluice", Version: "1.2.3"}
}

// decodeAvro decodes data with hamba/avro, an Avro implementation written
// apart from goavro, using the schema text that Schemas returns.
func decodeAvro(t *testing.T, schemaText string, data []byte) map[string]any {
	t.Helper()
	// A cache of its own per parse, because tests reuse full names with
	// different fields.
	parsed, err := avro.ParseWithCache(schemaText, "", &avro.SchemaCache{})
	if err != nil {
		t.Fatalf("hamba/avro rejects the schema: %v\n%s", err, schemaText)
	}
	var decoded any
	if err := avro.Unmarshal(parsed, data, &decoded); err != nil {
		t.Fatalf("hamba/avro cannot decode %x: %v", data, err)
	}
	record, ok := decoded.(map[string]any)
	if !ok {
		t.Fatalf("decoded %#v (%T); want a record", decoded, decoded)
	}
	return record
}

// unwrapRecord returns the record in a union branch, which hamba/avro
// decodes as a map from the record's full name to the record.
func unwrapRecord(t *testing.T, v any, fullName string) map[string]any {
	t.Helper()
	union, ok := v.(map[string]any)
	if !ok {
		t.Fatalf("union value %#v (%T); want a map", v, v)
	}
	record, ok := union[fullName].(map[string]any)
	if !ok || len(union) != 1 {
		t.Fatalf("union value %#v; want only the branch %s", v, fullName)
	}
	return record
}

// unwrapUnion returns the value of a union branch that hamba/avro decodes
// as a map from the branch's type name to the value, as it does for
// local-timestamp-micros. It returns other values unchanged.
func unwrapUnion(v any) any {
	union, ok := v.(map[string]any)
	if !ok || len(union) != 1 {
		return v
	}
	for name, inner := range union {
		if strings.HasPrefix(name, "long.") || strings.HasPrefix(name, "int.") || strings.HasPrefix(name, "bytes.") {
			return inner
		}
	}
	return v
}

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
	case time.Duration:
		if want := jsonInt(t, jsonValue); g.Microseconds() != want || g%time.Microsecond != 0 {
			t.Errorf("Avro time-micros %v; JSON form %d microseconds", g, want)
		}
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
	// bool, string, []byte, *big.Rat, time.Time, time.Duration or nil.
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
		{"time min", clock0, "-838:59:59", -hms(838, 59, 59)},
		{"time max", clock6, "838:59:59.000000", hms(838, 59, 59)},
		{"time over a day", clock0, "100:08:04", hms(100, 8, 4)},
		{"time negative fraction", clock6, "-00:00:00.500000", -500 * time.Millisecond},
		{"time micros", clock6, "12:34:56.000001", hms(12, 34, 56) + time.Microsecond},
		{"time zero fraction left out", clock2, "00:00:00", time.Duration(0)},
		{"time old type", clock, "23:59:59", hms(23, 59, 59)},
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

// allTypesTable is shop.every(id INT PRIMARY KEY, and a column of each
// type).
func allTypesTable() *schema.Table {
	return &schema.Table{
		Database: "shop",
		Name:     "every",
		Columns: []schema.Column{
			{Name: "id", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "tiny", Type: mysql.MYSQL_TYPE_TINY},
			{Name: "small_u", Type: mysql.MYSQL_TYPE_SHORT, Unsigned: true},
			{Name: "medium", Type: mysql.MYSQL_TYPE_INT24},
			{Name: "int_s", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "int_u", Type: mysql.MYSQL_TYPE_LONG, Unsigned: true},
			{Name: "big", Type: mysql.MYSQL_TYPE_LONGLONG},
			{Name: "big_u", Type: mysql.MYSQL_TYPE_LONGLONG, Unsigned: true},
			{Name: "yr", Type: mysql.MYSQL_TYPE_YEAR},
			{Name: "f", Type: mysql.MYSQL_TYPE_FLOAT},
			{Name: "d", Type: mysql.MYSQL_TYPE_DOUBLE},
			{Name: "dec", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 65<<8 | 30},
			{Name: "flag", Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0001},
			{Name: "bits", Type: mysql.MYSQL_TYPE_BIT, Meta: 0x0800},
			{Name: "day", Type: mysql.MYSQL_TYPE_DATE},
			{Name: "dt", Type: mysql.MYSQL_TYPE_DATETIME2, Meta: 6},
			{Name: "ts", Type: mysql.MYSQL_TYPE_TIMESTAMP2, Meta: 3},
			{Name: "tm", Type: mysql.MYSQL_TYPE_TIME2, Meta: 0},
			{Name: "vc", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 256, Charset: "utf8mb4"},
			{Name: "txt", Type: mysql.MYSQL_TYPE_BLOB, Meta: 2, Charset: "latin1"},
			{Name: "bin", Type: mysql.MYSQL_TYPE_STRING, Meta: stringMeta(4), Charset: "binary"},
			{Name: "blb", Type: mysql.MYSQL_TYPE_BLOB, Meta: 2, Charset: "binary"},
			{Name: "e", Type: mysql.MYSQL_TYPE_ENUM, Charset: "utf8mb4", EnumValues: []string{"x"}},
			{Name: "s", Type: mysql.MYSQL_TYPE_SET, Charset: "utf8mb4", SetValues: []string{"x"}},
			{Name: "doc", Type: mysql.MYSQL_TYPE_JSON},
			{Name: "geo", Type: mysql.MYSQL_TYPE_GEOMETRY},
			{Name: "uid", Type: mysql.MYSQL_TYPE_STRING, Meta: stringMeta(16), Charset: "binary", DataType: "uuid"},
			{Name: "ip4", Type: mysql.MYSQL_TYPE_STRING, Meta: stringMeta(4), Charset: "binary", DataType: "inet4"},
		},
		PrimaryKey: []int{0},
	}
}

// valueFieldTypes returns the JSON text of each Value record field's
// type, by field name, and the field names in order.
func valueFieldTypes(t *testing.T, s *TableSchemas) (map[string]string, []string) {
	t.Helper()
	var envelope struct {
		Fields []struct {
			Name string
			Type json.RawMessage
		}
	}
	if err := json.Unmarshal([]byte(s.ValueSchema), &envelope); err != nil {
		t.Fatalf("value schema is not JSON: %v", err)
	}
	var beforeUnion []json.RawMessage
	if err := json.Unmarshal(envelope.Fields[0].Type, &beforeUnion); err != nil || len(beforeUnion) != 2 {
		t.Fatalf("before type %s; want a union of null and Value (%v)", envelope.Fields[0].Type, err)
	}
	return recordFieldTypes(t, beforeUnion[1])
}

func recordFieldTypes(t *testing.T, recordSchema []byte) (map[string]string, []string) {
	t.Helper()
	var record struct {
		Fields []struct {
			Name string
			Type json.RawMessage
		}
	}
	if err := json.Unmarshal(recordSchema, &record); err != nil {
		t.Fatalf("record schema %s: %v", recordSchema, err)
	}
	types := map[string]string{}
	var names []string
	for _, f := range record.Fields {
		types[f.Name] = string(f.Type)
		names = append(names, f.Name)
	}
	return types, names
}

func TestAvroSchemaColumnTypes(t *testing.T) {
	s, err := newAvro().Schemas(allTypesTable(), "sluice.shop.every")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	types, _ := valueFieldTypes(t, s)

	nullable := func(typ string) string { return `["null",` + typ + `]` }
	want := map[string]string{
		"id":      `"int"`,
		"tiny":    nullable(`"int"`),
		"small_u": nullable(`"int"`),
		"medium":  nullable(`"int"`),
		"int_s":   nullable(`"int"`),
		"int_u":   nullable(`"long"`),
		"big":     nullable(`"long"`),
		"big_u":   nullable(`{"type":"bytes","logicalType":"decimal","precision":20,"scale":0}`),
		"yr":      nullable(`"int"`),
		"f":       nullable(`"float"`),
		"d":       nullable(`"double"`),
		"dec":     nullable(`{"type":"bytes","logicalType":"decimal","precision":65,"scale":30}`),
		"flag":    nullable(`"boolean"`),
		"bits":    nullable(`"bytes"`),
		"day":     nullable(`{"type":"int","logicalType":"date"}`),
		"dt":      nullable(`{"type":"long","logicalType":"local-timestamp-micros"}`),
		"ts":      nullable(`{"type":"long","logicalType":"timestamp-micros"}`),
		"tm":      nullable(`{"type":"long","logicalType":"time-micros"}`),
		"vc":      nullable(`"string"`),
		"txt":     nullable(`"string"`),
		"bin":     nullable(`"bytes"`),
		"blb":     nullable(`"bytes"`),
		"e":       nullable(`"string"`),
		"s":       nullable(`"string"`),
		"doc":     nullable(`"string"`),
		"geo":     nullable(`"bytes"`),
		"uid":     nullable(`"string"`),
		"ip4":     nullable(`"string"`),
	}
	for name, wantType := range want {
		if got, ok := types[name]; !ok {
			t.Errorf("Value has no field %s", name)
		} else if got != wantType {
			t.Errorf("Value field %s has type %s; want %s", name, got, wantType)
		}
	}
	if len(types) != len(want) {
		t.Errorf("Value has %d fields; want %d", len(types), len(want))
	}
}

func TestAvroSchemaDecimalModes(t *testing.T) {
	table := &schema.Table{
		Database: "shop", Name: "prices",
		Columns: []schema.Column{{Name: "price", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 10<<8 | 2}},
	}
	exact := `["null",{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}]`
	cases := []struct {
		mode DecimalMode
		want string
	}{
		{DecimalString, exact},
		{DecimalPrecise, exact},
		{DecimalDouble, `["null","double"]`},
	}
	for _, tc := range cases {
		encoder := newAvro()
		encoder.Options.Decimal = tc.mode
		s, err := encoder.Schemas(table, "t")
		if err != nil {
			t.Fatalf("mode %d: Schemas error: %v", tc.mode, err)
		}
		types, _ := valueFieldTypes(t, s)
		if types["price"] != tc.want {
			t.Errorf("mode %d: price has type %s; want %s", tc.mode, types["price"], tc.want)
		}
	}
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

func TestAvroEnvelope(t *testing.T) {
	rowBefore := []any{uint64(math.MaxUint64), "old \"note\"", "1.10"}
	rowAfter := []any{uint64(math.MaxUint64), "new 😀", "-0.05"}
	cases := []struct {
		name      string
		connector string
		op        Op
		before    []any
		after     []any
		gtid      string
		wantGTID  any
	}{
		{"create", "mysql", OpCreate, nil, rowAfter, "", nil},
		{"update", "mysql", OpUpdate, rowBefore, rowAfter, "3E11FA47-71CA-11E1-9E33-C80AA9429562:23", "3E11FA47-71CA-11E1-9E33-C80AA9429562:23"},
		{"delete mariadb", "mariadb", OpDelete, rowBefore, nil, "0-1-5", "0-1-5"},
		{"truncate", "mysql", OpTruncate, nil, nil, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			encoder := newAvro()
			encoder.Connector = tc.connector
			change := &Change{
				Table:  ordersTable(),
				Op:     tc.op,
				Before: tc.before,
				After:  tc.after,
				Source: Source{
					ServerID:    4294967295,
					GTID:        tc.gtid,
					File:        "mysql-bin.000003",
					Pos:         4000000000,
					Row:         2,
					TimestampMs: 1700000000000,
				},
			}
			s, err := encoder.Schemas(change.Table, "sluice.shop.orders")
			if err != nil {
				t.Fatalf("Schemas error: %v", err)
			}
			if want := `"namespace":"io.debezium.connector.` + tc.connector + `"`; !strings.Contains(s.ValueSchema, want) {
				t.Errorf("value schema does not contain %s:\n%s", want, s.ValueSchema)
			}
			data, err := encoder.Value(s, change, 1700000000123)
			if err != nil {
				t.Fatalf("Value error: %v", err)
			}
			envelope := decodeAvro(t, s.ValueSchema, data)

			checkKeys(t, "envelope", envelope, []string{"before", "after", "source", "op", "ts_ms"})
			checkField(t, "envelope", envelope, "op", string(rune(tc.op)))
			checkField(t, "envelope", envelope, "ts_ms", int64(1700000000123))
			for field, row := range map[string][]any{"before": tc.before, "after": tc.after} {
				if row == nil {
					checkField(t, "envelope", envelope, field, nil)
					continue
				}
				record := unwrapRecord(t, envelope[field], "sluice.shop.orders.Value")
				checkKeys(t, field, record, []string{"id", "note", "price"})
				if note := record["note"]; note != row[1] {
					t.Errorf("%s.note = %#v; want %#v", field, note, row[1])
				}
				if price, ok := record["price"].(*big.Rat); !ok || price.Cmp(rat(row[2].(string))) != 0 {
					t.Errorf("%s.price = %#v; want %s", field, record["price"], row[2])
				}
			}

			source, ok := envelope["source"].(map[string]any)
			if !ok {
				t.Fatalf("source = %#v; want a record", envelope["source"])
			}
			checkKeys(t, "source", source, []string{
				"version", "connector", "name", "ts_ms", "snapshot", "db", "table",
				"server_id", "gtid", "file", "pos", "row",
			})
			checkField(t, "source", source, "version", "1.2.3")
			checkField(t, "source", source, "connector", tc.connector)
			checkField(t, "source", source, "name", "sluice")
			checkField(t, "source", source, "ts_ms", int64(1700000000000))
			checkField(t, "source", source, "snapshot", "false")
			checkField(t, "source", source, "db", "shop")
			checkField(t, "source", source, "table", "orders")
			checkField(t, "source", source, "server_id", int64(4294967295))
			checkField(t, "source", source, "gtid", tc.wantGTID)
			checkField(t, "source", source, "file", "mysql-bin.000003")
			checkField(t, "source", source, "pos", int64(4000000000))
			checkField(t, "source", source, "row", 2)
		})
	}
}

func TestAvroKeyMatchesJSON(t *testing.T) {
	table := &schema.Table{
		Database: "shop",
		Name:     "lines",
		Columns: []schema.Column{
			{Name: "line", Type: mysql.MYSQL_TYPE_SHORT},
			{Name: "qty", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "order_code", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 80, Charset: "latin1"},
			{Name: "secret", Type: mysql.MYSQL_TYPE_LONGLONG, Unsigned: true, Treatment: schema.ColumnHashed},
			{Name: "hidden", Type: mysql.MYSQL_TYPE_DATE, Treatment: schema.ColumnExcluded},
		},
		// Key order differs from column order.
		PrimaryKey: []int{2, 0, 3, 4},
	}
	row := []any{int16(-3), int32(10), "caf\xe9", uint64(math.MaxUint64), "2024-01-31"}

	encoder := newAvro()
	encoder.Options.HashSalt = "pepper"
	s, err := encoder.Schemas(table, "sluice.shop.lines")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	types, names := recordFieldTypes(t, []byte(s.KeySchema))
	if want := []string{"order_code", "line", "secret", "hidden"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Key fields %v; want %v", names, want)
	}
	wantTypes := map[string]string{
		"order_code": `"string"`,
		"line":       `"int"`,
		"secret":     `"string"`,
		// A DATE can be a zero date, which is null, even in a key.
		"hidden": `["null",{"type":"int","logicalType":"date"}]`,
	}
	for name, want := range wantTypes {
		if types[name] != want {
			t.Errorf("Key field %s has type %s; want %s", name, types[name], want)
		}
	}

	key, err := encoder.Key(s, table, row)
	if err != nil {
		t.Fatalf("Key error: %v", err)
	}
	decoded := decodeAvro(t, s.KeySchema, key)

	jsonEncoder := newJSON()
	jsonEncoder.Options.HashSalt = "pepper"
	jsonEncoder.Options.Time = TimeConnect
	jsonKey, err := jsonEncoder.Key(table, row)
	if err != nil {
		t.Fatalf("JSON Key error: %v", err)
	}
	jsonDecoded := decodeEnvelope(t, jsonKey)

	checkKeys(t, "key", decoded, sortedKeys(jsonDecoded))
	for name, jsonValue := range jsonDecoded {
		column := &table.Columns[table.ColumnIndex(name)]
		checkMatchesJSON(t, column, unwrapUnion(decoded[name]), jsonValue)
	}
	checkField(t, "key", decoded, "order_code", "café")
	checkField(t, "key", decoded, "line", -3)
}

func TestAvroKeyNoPrimaryKey(t *testing.T) {
	table := ordersTable()
	table.PrimaryKey = nil
	encoder := newAvro()

	s, err := encoder.Schemas(table, "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	if s.KeySchema != "" {
		t.Errorf("KeySchema = %s; want empty", s.KeySchema)
	}
	if s.KeyCodec != nil {
		t.Errorf("KeyCodec = %v; want nil", s.KeyCodec)
	}
	key, err := encoder.Key(s, table, []any{uint64(1), "x", "1.10"})
	if err != nil {
		t.Errorf("Key error: %v; want nil", err)
	}
	if key != nil {
		t.Errorf("Key = %x; want nil", key)
	}
}

func TestAvroKeyNullValue(t *testing.T) {
	encoder := newAvro()
	s, err := encoder.Schemas(ordersTable(), "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	_, err = encoder.Key(s, ordersTable(), []any{nil, "x", "1.10"})
	if err == nil {
		t.Fatal("Key with a NULL primary-key value returned no error")
	}
	for _, text := range []string{"shop.orders", "id", "NULL"} {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}
}

func TestAvroHashedAndExcludedColumns(t *testing.T) {
	table := &schema.Table{
		Database: "shop",
		Name:     "people",
		Columns: []schema.Column{
			{Name: "id", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "email", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 256, Charset: "utf8mb4", Treatment: schema.ColumnHashed},
			{Name: "born", Type: mysql.MYSQL_TYPE_DATE, Treatment: schema.ColumnHashed},
			{Name: "salary", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 10<<8 | 2, Treatment: schema.ColumnHashed},
			{Name: "note", Type: mysql.MYSQL_TYPE_VARCHAR, Meta: 256, Charset: "utf8mb4", Treatment: schema.ColumnHashed},
			{Name: "password", Type: mysql.MYSQL_TYPE_BLOB, Meta: 2, Charset: "binary", Treatment: schema.ColumnExcluded},
		},
		PrimaryKey: []int{0},
	}
	row := []any{int32(1), "ada@example.com", "0000-00-00", "1.10", nil, []byte("secret")}
	change := &Change{Table: table, Op: OpCreate, After: row}
	options := Options{HashSalt: "pepper"}

	encoder := newAvro()
	encoder.Options = options
	s, err := encoder.Schemas(table, "sluice.shop.people")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	types, names := valueFieldTypes(t, s)
	if want := []string{"id", "email", "born", "salary", "note"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Value fields %v; want %v (password left out)", names, want)
	}
	for _, name := range []string{"email", "born", "salary", "note"} {
		if want := `["null","string"]`; types[name] != want {
			t.Errorf("hashed field %s has type %s; want %s", name, types[name], want)
		}
	}

	data, err := encoder.Value(s, change, 1)
	if err != nil {
		t.Fatalf("Value error: %v", err)
	}
	after := unwrapRecord(t, decodeAvro(t, s.ValueSchema, data)["after"], s.Namespace+".Value")

	jsonEncoder := newJSON()
	jsonEncoder.Options = options
	jsonData, err := jsonEncoder.Value(change, 1)
	if err != nil {
		t.Fatalf("JSON Value error: %v", err)
	}
	jsonAfter := decodeEnvelope(t, jsonData)["after"].(map[string]any)

	checkKeys(t, "after", after, sortedKeys(jsonAfter))
	for _, name := range []string{"email", "born", "salary", "note"} {
		checkField(t, "after", after, name, jsonAfter[name])
	}
	if hash, _ := after["email"].(string); len(hash) != 64 {
		t.Errorf("email hash %q; want 64 hex digits", hash)
	}
}

func TestAvroNamespace(t *testing.T) {
	cases := []struct {
		prefix, database, table string
		want                    string
	}{
		{"sluice", "shop", "orders", "sluice.shop.orders"},
		{"my-server", "shop", "orders", "my_server.shop.orders"},
		{"prod.cdc", "shop", "orders", "prod.cdc.shop.orders"},
		{"", "shop", "orders", "shop.orders"},
		{"sluice", "2024db", "1st", "sluice._024db._st"},
		{"sluice", "shop", "order.items", "sluice.shop.order_items"},
		{"sluice", "café", "t$x y", "sluice.caf_.t_x_y"},
		{"9lives", "a", "b", "_lives.a.b"},
		{"a..b", "", "t", "a._.b._.t"},
	}
	for _, tc := range cases {
		if got := avroNamespace(tc.prefix, tc.database, tc.table); got != tc.want {
			t.Errorf("avroNamespace(%q, %q, %q) = %q; want %q", tc.prefix, tc.database, tc.table, got, tc.want)
		}
	}
}

func TestAvroSchemaNames(t *testing.T) {
	table := &schema.Table{
		Database: "my-shop",
		Name:     "2024.orders",
		Columns: []schema.Column{
			{Name: "order-id", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "1st", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "naïve", Type: mysql.MYSQL_TYPE_VARCHAR, Charset: "utf8mb4"},
		},
		PrimaryKey: []int{0},
	}
	encoder := &Avro{Connector: "mariadb", Name: "edge-1", Version: "v"}
	s, err := encoder.Schemas(table, "edge-1.my-shop.2024.orders")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	if want := "edge_1.my_shop._024_orders"; s.Namespace != want {
		t.Errorf("Namespace = %q; want %q", s.Namespace, want)
	}
	if s.Topic != "edge-1.my-shop.2024.orders" {
		t.Errorf("Topic = %q; want the topic given", s.Topic)
	}
	_, names := valueFieldTypes(t, s)
	if want := []string{"order_id", "_st", "na_ve"}; !reflect.DeepEqual(names, want) {
		t.Errorf("Value fields %v; want %v", names, want)
	}
	for _, text := range []string{
		`"name":"Envelope","namespace":"edge_1.my_shop._024_orders"`,
		`"name":"Value"`,
		`"name":"Source","namespace":"io.debezium.connector.mariadb"`,
		`["null","edge_1.my_shop._024_orders.Value"]`,
	} {
		if !strings.Contains(s.ValueSchema, text) {
			t.Errorf("value schema does not contain %s:\n%s", text, s.ValueSchema)
		}
	}
	if want := `"name":"Key","namespace":"edge_1.my_shop._024_orders"`; !strings.Contains(s.KeySchema, want) {
		t.Errorf("key schema does not contain %s:\n%s", want, s.KeySchema)
	}

	// hamba/avro checks every name against Avro's rules.
	change := &Change{Table: table, Op: OpCreate, After: []any{int32(1), int32(2), "x"}}
	data, err := encoder.Value(s, change, 1)
	if err != nil {
		t.Fatalf("Value error: %v", err)
	}
	after := unwrapRecord(t, decodeAvro(t, s.ValueSchema, data)["after"], "edge_1.my_shop._024_orders.Value")
	checkField(t, "after", after, "order_id", 1)
	checkField(t, "after", after, "_st", 2)
	key, err := encoder.Key(s, table, change.After)
	if err != nil {
		t.Fatalf("Key error: %v", err)
	}
	checkField(t, "key", decodeAvro(t, s.KeySchema, key), "order_id", 1)
}

func TestAvroFieldNameCollision(t *testing.T) {
	table := &schema.Table{
		Database: "shop",
		Name:     "t",
		Columns: []schema.Column{
			{Name: "a-b", Type: mysql.MYSQL_TYPE_LONG},
			{Name: "a_b", Type: mysql.MYSQL_TYPE_LONG},
		},
	}
	_, err := newAvro().Schemas(table, "t")
	if err == nil {
		t.Fatal("Schemas with columns a-b and a_b returned no error")
	}
	for _, text := range []string{"shop.t", `"a-b"`, `"a_b"`} {
		if !strings.Contains(err.Error(), text) {
			t.Errorf("error %q does not contain %q", err, text)
		}
	}

	// Leaving one of them out resolves the collision.
	table.Columns[0].Treatment = schema.ColumnExcluded
	if _, err := newAvro().Schemas(table, "t"); err != nil {
		t.Errorf("Schemas with a-b excluded: %v", err)
	}
}

func TestAvroSchemasCached(t *testing.T) {
	encoder := newAvro()
	table := ordersTable()
	first, err := encoder.Schemas(table, "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}

	again, err := encoder.Schemas(table, "sluice.shop.orders")
	if err != nil {
		t.Fatalf("second Schemas error: %v", err)
	}
	if again != first {
		t.Error("Schemas of the same table returned a new TableSchemas")
	}
	// A table decoded again from another TABLE_MAP event is a new value
	// with the same columns.
	copied, err := encoder.Schemas(ordersTable(), "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas of a copy error: %v", err)
	}
	if copied != first {
		t.Error("Schemas of an equal table at another address returned a new TableSchemas")
	}

	changes := []struct {
		name   string
		change func(*schema.Table)
		topic  string
	}{
		{"column type", func(table *schema.Table) { table.Columns[2].Meta = 12<<8 | 2 }, "sluice.shop.orders"},
		{"column added", func(table *schema.Table) {
			table.Columns = append(table.Columns, schema.Column{Name: "qty", Type: mysql.MYSQL_TYPE_LONG})
		}, "sluice.shop.orders"},
		{"column renamed", func(table *schema.Table) { table.Columns[1].Name = "comment" }, "sluice.shop.orders"},
		{"column hashed", func(table *schema.Table) { table.Columns[1].Treatment = schema.ColumnHashed }, "sluice.shop.orders"},
		{"primary key", func(table *schema.Table) { table.PrimaryKey = []int{0, 1} }, "sluice.shop.orders"},
		{"topic", func(*schema.Table) {}, "other"},
	}
	for _, tc := range changes {
		t.Run(tc.name, func(t *testing.T) {
			// The same *Table changed in place must not find the old entry.
			changed := ordersTable()
			before, err := encoder.Schemas(changed, "sluice.shop.orders")
			if err != nil || before != first {
				t.Fatalf("Schemas before the change = %p, %v; want the cached %p", before, err, first)
			}
			tc.change(changed)
			after, err := encoder.Schemas(changed, tc.topic)
			if err != nil {
				t.Fatalf("Schemas after the change error: %v", err)
			}
			if after == first {
				t.Error("Schemas after the change returned the cached TableSchemas of the old version")
			}
		})
	}

	encoder.Options.Decimal = DecimalDouble
	withOptions, err := encoder.Schemas(table, "sluice.shop.orders")
	if err != nil {
		t.Fatalf("Schemas with other options error: %v", err)
	}
	if withOptions == first {
		t.Error("Schemas with another decimal mode returned the cached TableSchemas")
	}
}

func TestAvroSchemasCacheBounded(t *testing.T) {
	encoder := newAvro()
	encoder.MaxCachedSchemas = 2
	tableNamed := func(name string) *schema.Table {
		table := ordersTable()
		table.Name = name
		return table
	}

	first, err := encoder.Schemas(tableNamed("a"), "a")
	if err != nil {
		t.Fatalf("Schemas error: %v", err)
	}
	second, _ := encoder.Schemas(tableNamed("b"), "b")
	// Using a makes b the least recently used entry.
	if again, _ := encoder.Schemas(tableNamed("a"), "a"); again != first {
		t.Error("a was not cached")
	}
	if _, err := encoder.Schemas(tableNamed("c"), "c"); err != nil {
		t.Fatalf("Schemas error: %v", err)
	}

	if got := len(encoder.cache); got != 2 {
		t.Errorf("cache has %d entries; want 2", got)
	}
	if got := encoder.recent.Len(); got != 2 {
		t.Errorf("recency list has %d entries; want 2", got)
	}
	if again, _ := encoder.Schemas(tableNamed("a"), "a"); again != first {
		t.Error("a, used recently, was dropped")
	}
	if again, _ := encoder.Schemas(tableNamed("b"), "b"); again == second {
		t.Error("b, the least recently used, was kept beyond the limit")
	}
}

func TestAvroSchemasConcurrent(t *testing.T) {
	encoder := newAvro()
	table := ordersTable()
	var wg sync.WaitGroup
	results := make([]*TableSchemas, 8)
	for i := range results {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s, err := encoder.Schemas(ordersTable(), "sluice.shop.orders")
			if err != nil {
				t.Errorf("Schemas error: %v", err)
				return
			}
			if _, err := encoder.Value(s, &Change{Table: table, Op: OpCreate, After: []any{uint64(i), "x", "1.00"}}, 1); err != nil {
				t.Errorf("Value error: %v", err)
			}
			results[i] = s
		}()
	}
	wg.Wait()
	for i, s := range results {
		if s != results[0] {
			t.Errorf("goroutine %d got TableSchemas %p; goroutine 0 got %p", i, s, results[0])
		}
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

func TestAvroSchemasErrors(t *testing.T) {
	cases := []struct {
		name     string
		column   schema.Column
		wantText []string
	}{
		{"vector type", schema.Column{Name: "v", Type: mysql.MYSQL_TYPE_VECTOR}, []string{"242"}},
		{"decimal without precision", schema.Column{Name: "v", Type: mysql.MYSQL_TYPE_NEWDECIMAL}, []string{"precision 0"}},
		{"decimal scale above precision", schema.Column{Name: "v", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 2<<8 | 3}, []string{"scale 3"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			table := &schema.Table{Database: "shop", Name: "bad", Columns: []schema.Column{tc.column}}
			_, err := newAvro().Schemas(table, "t")
			if err == nil {
				t.Fatal("Schemas returned no error")
			}
			for _, text := range append([]string{"shop.bad", "column v"}, tc.wantText...) {
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
