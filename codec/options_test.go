package codec

import (
	"encoding/base64"
	"encoding/hex"
	"math/big"
	"strings"
	"testing"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/schema"
)

func TestTwosComplement(t *testing.T) {
	cases := []struct {
		value string
		hex   string
	}{
		{"0", "00"},
		{"1", "01"},
		{"-1", "ff"},
		{"127", "7f"},
		{"128", "0080"},
		{"-128", "80"},
		{"-129", "ff7f"},
		{"110", "6e"},
		{"-571234", "f7489e"},
		{"756500000000", "00b022e9ed00"},
		{"99999999999999999999999999999999999999", "4b3b4ca85a86c47a098a223fffffffff"},
		{"-99999999999999999999999999999999999999", "b4c4b357a5793b85f675ddc000000001"},
	}
	for _, tc := range cases {
		n, _ := new(big.Int).SetString(tc.value, 10)
		got := twosComplement(n)
		if hex.EncodeToString(got) != tc.hex {
			t.Errorf("twosComplement(%s) = %x; want %s", tc.value, got, tc.hex)
		}
	}
}

func TestAppendValueModes(t *testing.T) {
	decimal := schema.Column{Name: "d", Type: mysql.MYSQL_TYPE_NEWDECIMAL, Meta: 38<<8 | 19}
	date := schema.Column{Name: "d", Type: mysql.MYSQL_TYPE_DATE}
	datetime0 := schema.Column{Name: "d", Type: mysql.MYSQL_TYPE_DATETIME2, Meta: 0}
	datetime3 := schema.Column{Name: "d", Type: mysql.MYSQL_TYPE_DATETIME2, Meta: 3}
	datetime6 := schema.Column{Name: "d", Type: mysql.MYSQL_TYPE_DATETIME2, Meta: 6}
	timeColumn := schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_TIME2, Meta: 6}
	blob := schema.Column{Name: "b", Type: mysql.MYSQL_TYPE_BLOB, Meta: 2, Charset: "binary", Collation: 63}
	b64 := func(hexText string) string {
		raw, _ := hex.DecodeString(hexText)
		return `"` + base64.StdEncoding.EncodeToString(raw) + `"`
	}

	precise := Options{Decimal: DecimalPrecise}
	double := Options{Decimal: DecimalDouble}
	connect := Options{Time: TimeConnect}
	hexBinary := Options{Binary: BinaryHex}
	cases := []struct {
		name    string
		options Options
		column  schema.Column
		value   any
		want    string
	}{
		{"precise max", precise, decimal, "9999999999999999999.9999999999999999999", b64("4b3b4ca85a86c47a098a223fffffffff")},
		{"precise small", precise, decimal, "0.000000756500000000", b64("00b022e9ed00")},
		{"precise negative", precise, decimal, "-57.1234", b64("f7489e")},
		{"precise scale kept", precise, decimal, "1.10", b64("6e")},
		{"double", double, decimal, "1.10", "1.1"},
		{"double negative", double, decimal, "-0.01", "-0.01"},
		{"connect date", connect, date, "2016-08-17", "17030"},
		{"connect date before epoch", connect, date, "1815-12-10", "-56270"},
		{"connect zero date", connect, date, "0000-00-00", "null"},
		{"connect partial zero date", connect, date, "2023-05-00", "null"},
		{"connect day past month end", connect, date, "2023-02-31", "null"},
		{"connect leap day", connect, date, "2024-02-29", "19782"},
		{"connect no leap day", connect, date, "2023-02-29", "null"},
		{"connect datetime past month end", connect, datetime0, "2023-04-31 10:00:00", "null"},
		{"connect datetime millis", connect, datetime0, "2016-08-17 13:08:04", "1471439284000"},
		{"connect datetime3 millis", connect, datetime3, "2016-08-17 13:08:04.905", "1471439284905"},
		{"connect datetime6 micros", connect, datetime6, "1969-12-31 23:59:59.999999", "-1"},
		{"connect zero datetime", connect, datetime6, "0000-00-00 00:00:00.000000", "null"},
		{"connect time negative", connect, timeColumn, "-838:59:59.000000", "-3020399000000"},
		{"connect time small negative", connect, timeColumn, "-00:00:00.000001", "-1"},
		{"connect time over a day", connect, timeColumn, "100:08:04.000000", "360484000000"},
		{"hex binary", hexBinary, blob, []byte{0xff, 0xfe, 0x00, 0x80}, `"fffe0080"`},
		{"default binary", Options{}, blob, []byte{0xff, 0xfe, 0x00, 0x80}, `"//4AgA=="`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := tc.options.appendValue(nil, &tc.column, tc.value)
			if err != nil {
				t.Fatalf("appendValue(%v) error: %v", tc.value, err)
			}
			if string(got) != tc.want {
				t.Errorf("appendValue(%v) = %s; want %s", tc.value, got, tc.want)
			}
		})
	}
}

func TestParseOptions(t *testing.T) {
	got, err := ParseOptions("precise", "connect", "hex")
	if err != nil {
		t.Fatalf("ParseOptions error: %v", err)
	}
	if got != (Options{Decimal: DecimalPrecise, Time: TimeConnect, Binary: BinaryHex}) {
		t.Errorf("ParseOptions = %+v", got)
	}
	defaults, err := ParseOptions("", "", "")
	if err != nil || defaults != (Options{}) {
		t.Errorf("ParseOptions of empty values = %+v, %v; want the zero Options", defaults, err)
	}
	if _, err := ParseOptions("float", "iso", "base64"); err == nil {
		t.Errorf("ParseOptions accepted decimal mode %q", "float")
	}
}

func TestPadFraction(t *testing.T) {
	time2 := func(digits uint16) schema.Column {
		return schema.Column{Name: "t", Type: mysql.MYSQL_TYPE_TIME2, Meta: digits}
	}
	cases := []struct {
		name   string
		column schema.Column
		value  string
		want   string
	}{
		{"zero time(2)", time2(2), "00:00:00", `"00:00:00.00"`},
		{"whole hours time(2)", time2(2), "24:00:00", `"24:00:00.00"`},
		{"over a day time(3)", time2(3), "100:08:04", `"100:08:04.000"`},
		{"negative time(6)", time2(6), "-838:59:59", `"-838:59:59.000000"`},
		{"fraction kept", time2(2), "-00:00:00.01", `"-00:00:00.01"`},
		{"time(0) unchanged", time2(0), "838:59:59", `"838:59:59"`},
		{"datetime(2)", schema.Column{Name: "d", Type: mysql.MYSQL_TYPE_DATETIME2, Meta: 2}, "2023-05-00 10:00:00", `"2023-05-00 10:00:00.00"`},
		{"timestamp(3)", schema.Column{Name: "s", Type: mysql.MYSQL_TYPE_TIMESTAMP2, Meta: 3}, "2016-08-17 11:08:04", `"2016-08-17T11:08:04.000Z"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := (&Options{}).appendValue(nil, &tc.column, tc.value)
			if err != nil {
				t.Fatalf("appendValue(%q) error: %v", tc.value, err)
			}
			if string(got) != tc.want {
				t.Errorf("appendValue(%q) = %s; want %s", tc.value, got, tc.want)
			}
		})
	}
}

func TestMariadbTypeText(t *testing.T) {
	binary16 := func(dataType string) schema.Column {
		return schema.Column{Name: "x", Type: mysql.MYSQL_TYPE_STRING, Meta: 0xfe10, Charset: "binary", Collation: 63, DataType: dataType}
	}
	inet4 := schema.Column{Name: "x", Type: mysql.MYSQL_TYPE_STRING, Meta: 0xfe04, Charset: "binary", Collation: 63, DataType: "inet4"}
	mustHex := func(s string) []byte {
		raw, err := hex.DecodeString(s)
		if err != nil {
			t.Fatal(err)
		}
		return raw
	}
	cases := []struct {
		name   string
		column schema.Column
		value  []byte
		want   string
	}{
		{"uuid", binary16("uuid"), mustHex("6ccd780cbaba102695645b8c656024db"), `"6ccd780c-baba-1026-9564-5b8c656024db"`},
		{"uuid with trailing zeros", binary16("uuid"), mustHex("123e4567e89b42d3a4564266141740"), `"123e4567-e89b-42d3-a456-426614174000"`},
		{"inet6", binary16("inet6"), mustHex("20010db8000000000000ff0000428329"), `"2001:db8::ff00:42:8329"`},
		{"inet6 mapped ipv4", binary16("inet6"), mustHex("00000000000000000000ffff01020304"), `"::ffff:1.2.3.4"`},
		{"inet6 unspecified", binary16("inet6"), nil, `"::"`},
		{"inet4", inet4, mustHex("0a"), `"10.0.0.0"`},
		{"plain binary16", binary16("binary"), mustHex("01"), `"AQAAAAAAAAAAAAAAAAAAAA=="`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got, err := (&Options{}).appendValue(nil, &tc.column, tc.value)
			if err != nil {
				t.Fatalf("appendValue(% x) error: %v", tc.value, err)
			}
			if string(got) != tc.want {
				t.Errorf("appendValue(% x) = %s; want %s", tc.value, got, tc.want)
			}
		})
	}
}

func TestPartialJSONRejected(t *testing.T) {
	column := schema.Column{Name: "doc", Type: mysql.MYSQL_TYPE_JSON, Meta: 4}
	diff := &replication.JsonDiff{Op: replication.JsonDiffOperationReplace, Path: "$.a", Value: "1"}
	_, err := (&Options{}).appendValue(nil, &column, diff)
	if err == nil {
		t.Fatal("appendValue of a partial JSON update succeeded; want an error")
	}
	if !strings.Contains(err.Error(), "binlog_row_value_options=PARTIAL_JSON") {
		t.Errorf("error %q does not name binlog_row_value_options=PARTIAL_JSON", err)
	}
}
