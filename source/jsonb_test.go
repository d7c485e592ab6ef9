package source

import (
	"encoding/binary"
	"math"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
)

func TestFormatJSONDouble(t *testing.T) {
	tests := []struct {
		in   float64
		want string
	}{
		{1, "1.0"},
		{-1, "-1.0"},
		{0, "0.0"},
		{0.5, "0.5"},
		{3.14159, "3.14159"},
		{6.02214076e23, "6.02214076e23"},
		{1e15, "1e15"},
		{123456789012345, "123456789012345.0"},
		{0.001, "0.001"},
		{0.0001, "0.0001"},
		{0.00001, "1e-5"},
		{1.5e-7, "1.5e-7"},
		{-2.5e300, "-2.5e300"},
		{math.MaxFloat64, "1.7976931348623157e308"},
		{0.30000000000000004, "0.30000000000000004"},
	}
	for _, tt := range tests {
		if got := formatJSONDouble(tt.in); got != tt.want {
			t.Errorf("formatJSONDouble(%v) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestDecodeDecimalBinary(t *testing.T) {
	tests := []struct {
		name             string
		data             []byte
		precision, scale int
		want             string
	}{
		// 1.0 as DECIMAL(3,1): two integer digits in one byte, one
		// fraction digit in one byte, sign bit set for a positive value.
		{"one point zero", []byte{0x81, 0x00}, 3, 1, "1.0"},
		{"minus one point five", []byte{0x7e, 0xfa}, 3, 1, "-1.5"},
		{"zero", []byte{0x80, 0x00}, 3, 1, "0.0"},
		// 1234567890.5 as DECIMAL(11,1): one leading digit, a full group
		// of nine, then one fraction digit.
		{"full group", []byte{0x81, 0x0d, 0xfb, 0x38, 0xd2, 0x05}, 11, 1, "1234567890.5"},
		{"integer", []byte{0x80, 0x00, 0x2a}, 5, 0, "42"},
	}
	for _, tt := range tests {
		got, err := decodeDecimalBinary(tt.data, tt.precision, tt.scale)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: got %q, want %q", tt.name, got, tt.want)
		}
	}
	if _, err := decodeDecimalBinary([]byte{0x80}, 10, 2); err == nil {
		t.Error("a truncated DECIMAL decoded without error")
	}
}

func TestPackedTemporals(t *testing.T) {
	datetime := func(year, month, day, hour, minute, second, micro int64) int64 {
		ymd := (year*13+month)<<5 | day
		hms := hour<<12 | minute<<6 | second
		return (ymd<<17|hms)<<24 | micro
	}
	if got := packedDatetime(datetime(2020, 1, 2, 3, 4, 5, 0)); got != "2020-01-02 03:04:05.000000" {
		t.Errorf("packed DATETIME = %q", got)
	}
	if got := packedDatetime(datetime(1999, 12, 31, 23, 59, 59, 999999)); got != "1999-12-31 23:59:59.999999" {
		t.Errorf("packed DATETIME with microseconds = %q", got)
	}
	timeOf := func(hour, minute, second, micro int64) int64 {
		return (hour<<12|minute<<6|second)<<24 | micro
	}
	if got := packedTime(0); got != "00:00:00.000000" {
		t.Errorf("packed TIME zero = %q", got)
	}
	if got := packedTime(-timeOf(838, 59, 59, 0)); got != "-838:59:59.000000" {
		t.Errorf("packed negative TIME = %q", got)
	}
}

func TestParseJSONPath(t *testing.T) {
	tests := []struct {
		path string
		want []pathLeg
	}{
		{"$", nil},
		{"$.a", []pathLeg{{key: "a"}}},
		{"$.arr[1]", []pathLeg{{key: "arr"}, {index: 1, array: true}}},
		{`$."key with space".b`, []pathLeg{{key: "key with space"}, {key: "b"}}},
		{`$."q\"uote"[0][12]`, []pathLeg{{key: `q"uote`}, {index: 0, array: true}, {index: 12, array: true}}},
	}
	for _, tt := range tests {
		got, err := parseJSONPath(tt.path)
		if err != nil {
			t.Errorf("parseJSONPath(%q): %v", tt.path, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("parseJSONPath(%q) = %+v, want %+v", tt.path, got, tt.want)
			continue
		}
		for i := range got {
			if got[i] != tt.want[i] {
				t.Errorf("parseJSONPath(%q) leg %d = %+v, want %+v", tt.path, i, got[i], tt.want[i])
			}
		}
	}
	for _, bad := range []string{"a", "$.", "$[x]", "$[1", `$."open`, "$**"} {
		if _, err := parseJSONPath(bad); err == nil {
			t.Errorf("parseJSONPath(%q) succeeded, want an error", bad)
		}
	}
}

// scalar, object and array build documents for the tests.
func scalar(text string) *jsonValue { return &jsonValue{text: text} }

func object(members ...jsonMember) *jsonValue {
	return &jsonValue{kind: jsonObject, members: members}
}

func array(items ...*jsonValue) *jsonValue {
	return &jsonValue{kind: jsonArray, items: items}
}

func TestApplyJSONDiffs(t *testing.T) {
	base := func() *jsonValue {
		return object(
			jsonMember{"a", scalar("1")},
			jsonMember{"b", scalar(`"xx"`)},
			jsonMember{"arr", array(scalar("1"), scalar("2"), scalar("3"))},
		)
	}
	tests := []struct {
		name  string
		diffs []jsonDiff
		want  string
	}{
		{"replace member", []jsonDiff{{jsonReplace, "$.a", scalar("2")}},
			`{"a": 2, "b": "xx", "arr": [1, 2, 3]}`},
		{"remove array cell", []jsonDiff{{jsonRemove, "$.arr[1]", nil}},
			`{"a": 1, "b": "xx", "arr": [1, 3]}`},
		{"several diffs in order", []jsonDiff{
			{jsonReplace, "$.a", scalar("2")},
			{jsonRemove, "$.arr[0]", nil},
			{jsonReplace, "$.arr[0]", scalar(`"two"`)},
		}, `{"a": 2, "b": "xx", "arr": ["two", 3]}`},
		{"insert member keeps key order", []jsonDiff{{jsonInsert, "$.c", scalar("true")}},
			`{"a": 1, "b": "xx", "c": true, "arr": [1, 2, 3]}`},
		{"insert array cell", []jsonDiff{{jsonInsert, "$.arr[1]", scalar("9")}},
			`{"a": 1, "b": "xx", "arr": [1, 9, 2, 3]}`},
		{"insert past the end appends", []jsonDiff{{jsonInsert, "$.arr[10]", scalar("9")}},
			`{"a": 1, "b": "xx", "arr": [1, 2, 3, 9]}`},
		{"replace nested container", []jsonDiff{{jsonReplace, "$.arr", object(jsonMember{"k", scalar("null")})}},
			`{"a": 1, "b": "xx", "arr": {"k": null}}`},
		{"replace whole document", []jsonDiff{{jsonReplace, "$", array()}}, `[]`},
	}
	for _, tt := range tests {
		doc, err := applyJSONDiffs(base(), tt.diffs)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := doc.String(); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}

	for _, bad := range []jsonDiff{
		{jsonReplace, "$.missing", scalar("1")},
		{jsonRemove, "$.arr[7]", nil},
		{jsonInsert, "$.a", scalar("1")},
		{jsonReplace, "$.a.b", scalar("1")},
		{jsonRemove, "$", nil},
	} {
		if _, err := applyJSONDiffs(base(), []jsonDiff{bad}); err == nil {
			t.Errorf("%s at %s applied, want an error", bad.op, bad.path)
		}
	}
}

func TestQuoteJSON(t *testing.T) {
	tests := map[string]string{
		"plain":          `"plain"`,
		`a"b\c`:          `"a\"b\\c"`,
		"tab\tnew\nline": `"tab\tnew\nline"`,
		"\x01":           `"\u0001"`,
		"é😀":             `"é😀"`,
	}
	for in, want := range tests {
		if got := quoteJSON(in); got != want {
			t.Errorf("quoteJSON(%q) = %s, want %s", in, got, want)
		}
	}
}

func TestDecodeJSONBScalars(t *testing.T) {
	u64 := make([]byte, 8)
	binary.LittleEndian.PutUint64(u64, math.MaxUint64)
	i64 := make([]byte, 8)
	binary.LittleEndian.PutUint64(i64, 1<<63)
	double := make([]byte, 8)
	binary.LittleEndian.PutUint64(double, math.Float64bits(1.0))
	tests := []struct {
		name string
		data []byte
		want string
	}{
		{"empty is null", nil, "null"},
		{"true", []byte{jsonbLiteral, 1}, "true"},
		{"int16", []byte{jsonbInt16, 0xff, 0xff}, "-1"},
		{"uint64 max", append([]byte{jsonbUint64}, u64...), "18446744073709551615"},
		{"int64 min", append([]byte{jsonbInt64}, i64...), "-9223372036854775808"},
		{"double one", append([]byte{jsonbDouble}, double...), "1.0"},
		{"string", []byte{jsonbString, 3, 'a', '"', 'b'}, `"a\"b"`},
		{"decimal", []byte{jsonbOpaque, mysql.MYSQL_TYPE_NEWDECIMAL, 4, 3, 1, 0x81, 0x00}, "1.0"},
	}
	for _, tt := range tests {
		doc, err := decodeJSONB(tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got := doc.String(); got != tt.want {
			t.Errorf("%s: got %s, want %s", tt.name, got, tt.want)
		}
	}
	if _, err := decodeJSONB([]byte{jsonbString, 9, 'a'}); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("truncated string: err = %v, want a truncation error", err)
	}
}

func TestValueSize(t *testing.T) {
	tests := []struct {
		name string
		typ  byte
		meta uint16
		data []byte
		want int
	}{
		{"int", mysql.MYSQL_TYPE_LONG, 0, nil, 4},
		{"datetime(6)", mysql.MYSQL_TYPE_DATETIME2, 6, nil, 8},
		{"time(3)", mysql.MYSQL_TYPE_TIME2, 3, nil, 5},
		{"decimal(65,30)", mysql.MYSQL_TYPE_NEWDECIMAL, 65<<8 | 30, nil, 30},
		{"bit(10)", mysql.MYSQL_TYPE_BIT, 1<<8 | 2, nil, 2},
		{"varchar(10)", mysql.MYSQL_TYPE_VARCHAR, 40, []byte{3, 'a', 'b', 'c'}, 4},
		{"varchar(300)", mysql.MYSQL_TYPE_VARCHAR, 1200, []byte{2, 0, 'a', 'b'}, 4},
		{"char(10) utf8mb4", mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_STRING)<<8 | 40, []byte{1, 'x'}, 2},
		{"char(255) utf8mb4", mysql.MYSQL_TYPE_STRING, 0xce<<8 | 0xfc, []byte{1, 0, 'x'}, 3},
		{"enum", mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_ENUM)<<8 | 1, nil, 1},
		{"set", mysql.MYSQL_TYPE_STRING, uint16(mysql.MYSQL_TYPE_SET)<<8 | 2, nil, 2},
		{"json", mysql.MYSQL_TYPE_JSON, 4, []byte{2, 0, 0, 0, 4, 0}, 6},
		{"blob", mysql.MYSQL_TYPE_BLOB, 2, []byte{1, 0, 'z'}, 3},
	}
	for _, tt := range tests {
		got, err := valueSize(tt.typ, tt.meta, tt.data)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if got != tt.want {
			t.Errorf("%s: size %d, want %d", tt.name, got, tt.want)
		}
	}
}
