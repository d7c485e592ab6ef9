//go:build integration

package integration

import (
	"context"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hamba/avro/v2"
	"github.com/twmb/franz-go/pkg/sr"
)

// avroEnv returns the variables that make sluice write Avro records with
// their schemas in the local Apicurio Registry.
func avroEnv(extra ...string) []string {
	return append([]string{"SLUICE_FORMAT=avro", "SLUICE_SCHEMA_REGISTRY_URL=" + apicurioURL}, extra...)
}

// schemaLookup reads schemas from the registry with a client of its own,
// so that the tests decode records only with what the registry returns.
type schemaLookup struct {
	t      *testing.T
	client *sr.Client
	api    avro.API
	parsed map[int]avro.Schema
}

func newSchemaLookup(t *testing.T) *schemaLookup {
	t.Helper()
	client, err := sr.NewClient(sr.URLs(apicurioURL))
	if err != nil {
		t.Fatalf("create a schema registry client for %s: %v", apicurioURL, err)
	}
	api := avro.Config{}.Freeze()
	// hamba/avro v2.31.0 registers no Go type for local-timestamp-micros,
	// so in a union it decodes the value to a time.Time in time.Local,
	// whose wall clock is off near a change of the zone's offset.
	// Registered as int64, the value stays the raw microseconds.
	api.Register("long.local-timestamp-micros", int64(0))
	return &schemaLookup{t: t, client: client, api: api, parsed: map[int]avro.Schema{}}
}

// lookup returns the parsed schema with the given id, or an error when the
// registry does not have it.
func (l *schemaLookup) lookup(id int) (avro.Schema, error) {
	if s, ok := l.parsed[id]; ok {
		return s, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	registered, err := l.client.SchemaByID(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("look up schema id %d in %s: %w", id, apicurioURL, err)
	}
	// A cache per schema, because the versions of a table share their
	// full names but not their fields.
	s, err := avro.ParseWithCache(registered.Schema, "", &avro.SchemaCache{})
	if err != nil {
		return nil, fmt.Errorf("hamba/avro rejects schema id %d: %w\n%s", id, err, registered.Schema)
	}
	l.parsed[id] = s
	return s, nil
}

// decode reads a record key or value in the Confluent wire format: the
// magic byte 0, the 4-byte big-endian schema id, then the Avro body, which
// must decode to a record.
func (l *schemaLookup) decode(where string, data []byte) (int, avro.Schema, map[string]any) {
	l.t.Helper()
	if len(data) < 5 {
		l.t.Fatalf("%s: %d bytes (% x), want at least the 5-byte wire-format header", where, len(data), data)
	}
	if data[0] != 0 {
		l.t.Fatalf("%s: magic byte %#02x, want 0", where, data[0])
	}
	id := int(binary.BigEndian.Uint32(data[1:5]))
	s, err := l.lookup(id)
	if err != nil {
		l.t.Fatalf("%s: %v", where, err)
	}
	var decoded any
	if err := l.api.Unmarshal(s, data[5:], &decoded); err != nil {
		l.t.Fatalf("%s: decode the body % x with schema id %d: %v", where, data[5:], id, err)
	}
	fields, ok := decoded.(map[string]any)
	if !ok {
		l.t.Fatalf("%s: decoded %#v (%T), want a record", where, decoded, decoded)
	}
	return id, s, fields
}

// subjects lists the registry's subjects.
func (l *schemaLookup) subjects() []string {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	subjects, err := l.client.Subjects(ctx)
	if err != nil {
		l.t.Fatalf("list the subjects of %s: %v", apicurioURL, err)
	}
	return subjects
}

// versionIDs returns the schema ids of a subject's versions, oldest first.
func (l *schemaLookup) versionIDs(subject string) []int {
	l.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	versions, err := l.client.SubjectVersions(ctx, subject)
	if err != nil {
		l.t.Fatalf("list the versions of subject %s: %v", subject, err)
	}
	slices.Sort(versions)
	ids := make([]int, len(versions))
	for i, version := range versions {
		registered, err := l.client.SchemaByVersion(ctx, subject, version)
		if err != nil {
			l.t.Fatalf("read version %d of subject %s: %v", version, subject, err)
		}
		ids[i] = registered.ID
	}
	return ids
}

// deleteSubjectsAfter deletes, when the test ends, every subject whose
// name starts with the topic prefix.
func deleteSubjectsAfter(t *testing.T, prefix string) {
	t.Cleanup(func() {
		client, err := sr.NewClient(sr.URLs(apicurioURL))
		if err != nil {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		subjects, err := client.Subjects(ctx)
		if err != nil {
			t.Logf("list subjects to delete: %v", err)
			return
		}
		for _, subject := range subjects {
			if !strings.HasPrefix(subject, prefix+".") {
				continue
			}
			// The registry deletes a subject for good only after a soft delete.
			if _, err := client.DeleteSubject(ctx, subject, sr.SoftDelete); err != nil {
				t.Logf("soft-delete subject %s: %v", subject, err)
				continue
			}
			if _, err := client.DeleteSubject(ctx, subject, sr.HardDelete); err != nil {
				t.Logf("hard-delete subject %s: %v", subject, err)
			}
		}
	})
}

// avroTypeName writes an Avro type in a short form: a primitive type with
// its logical type ("long.timestamp-micros", "bytes.decimal(65,30)"), the
// full name of a named type, and a union as its branches in brackets.
func avroTypeName(s avro.Schema) string {
	if ref, ok := s.(*avro.RefSchema); ok {
		return ref.Schema().FullName()
	}
	if named, ok := s.(avro.NamedSchema); ok {
		return named.FullName()
	}
	switch s := s.(type) {
	case *avro.UnionSchema:
		branches := make([]string, len(s.Types()))
		for i, branch := range s.Types() {
			branches[i] = avroTypeName(branch)
		}
		return "[" + strings.Join(branches, ",") + "]"
	case *avro.PrimitiveSchema:
		name := string(s.Type())
		switch logical := s.Logical().(type) {
		case nil:
		case *avro.DecimalLogicalSchema:
			name += fmt.Sprintf(".decimal(%d,%d)", logical.Precision(), logical.Scale())
		default:
			name += "." + string(logical.Type())
		}
		return name
	}
	return string(s.Type())
}

// avroNamePart applies the naming rule of docs/types.md to one part of a
// name: ASCII letters, digits and '_' stay, every other character becomes
// '_', and so does a leading digit.
func avroNamePart(s string) string {
	var sb strings.Builder
	for i, r := range s {
		switch {
		case r == '_', 'a' <= r && r <= 'z', 'A' <= r && r <= 'Z', '0' <= r && r <= '9' && i > 0:
			sb.WriteRune(r)
		default:
			sb.WriteByte('_')
		}
	}
	return sb.String()
}

// expectedNamespace is the namespace docs/types.md gives the records of a
// table: <prefix>.<database>.<table>, each part made a valid Avro name.
func expectedNamespace(prefix, database, table string) string {
	var parts []string
	for _, part := range strings.Split(prefix, ".") {
		parts = append(parts, avroNamePart(part))
	}
	parts = append(parts, avroNamePart(database), avroNamePart(table))
	return strings.Join(parts, ".")
}

// rowRecord returns the row in a before or after field. hamba/avro decodes
// the union of null and the Value record to nil or to a map from the
// record's full name to the record.
func rowRecord(t *testing.T, where string, v any, valueName string) map[string]any {
	t.Helper()
	if v == nil {
		return nil
	}
	union, ok := v.(map[string]any)
	if !ok || len(union) != 1 {
		t.Fatalf("%s: %#v, want null or the branch %s", where, v, valueName)
	}
	row, ok := union[valueName].(map[string]any)
	if !ok {
		t.Fatalf("%s: %#v, want null or the branch %s", where, v, valueName)
	}
	return row
}

// valueMapping is the rule that converts a column's Avro value to the
// value of the JSON form, by the tables of docs/types.md.
type valueMapping int

const (
	mapInteger        valueMapping = iota // int or long: a JSON number
	mapUnsignedBigint                     // decimal with scale 0: a JSON number
	mapDecimal                            // decimal: a string with the column's scale
	mapFloat                              // float: a number that reads back as the same 32-bit float
	mapDouble                             // double: a number that reads back as the same 64-bit float
	mapBoolean                            // boolean: true or false
	mapBits                               // big-endian bytes: the unsigned integer as a number
	mapDate                               // days since 1970-01-01: "2006-01-02"
	mapDatetime                           // wall-clock microseconds: "2006-01-02 15:04:05.000000"
	mapTimestamp                          // UTC instant: "2006-01-02T15:04:05.000000Z"
	mapTime                               // signed microseconds: "[-]hh:mm:ss.ffffff"
	mapText                               // string: the same string
	mapBytes                              // bytes: standard base64
)

// avroTypeColumn is one column of TestAvroMatchesJSONAcrossTypes.
type avroTypeColumn struct {
	name       string
	definition string
	// avroType is the Avro type of the column's values, as avroTypeName
	// writes it. The field is a union of null and this type.
	avroType string
	mapping  valueMapping
	// bits is the width of a BIT column, and scale the scale of a DECIMAL
	// column.
	bits  int
	scale int
}

// avroTypeColumns covers the MariaDB column types of docs/types.md, with
// the Avro type its Avro section gives each. The temporal columns have six
// fraction digits, so that their text in the JSON form has six too.
var avroTypeColumns = []avroTypeColumn{
	{name: "ti", definition: "TINYINT", avroType: "int", mapping: mapInteger},
	{name: "ti_u", definition: "TINYINT UNSIGNED", avroType: "int", mapping: mapInteger},
	{name: "si", definition: "SMALLINT", avroType: "int", mapping: mapInteger},
	{name: "si_u", definition: "SMALLINT UNSIGNED", avroType: "int", mapping: mapInteger},
	{name: "mi", definition: "MEDIUMINT", avroType: "int", mapping: mapInteger},
	{name: "mi_u", definition: "MEDIUMINT UNSIGNED", avroType: "int", mapping: mapInteger},
	{name: "i", definition: "INT", avroType: "int", mapping: mapInteger},
	{name: "i_u", definition: "INT UNSIGNED", avroType: "long", mapping: mapInteger},
	{name: "bi", definition: "BIGINT", avroType: "long", mapping: mapInteger},
	{name: "bi_u", definition: "BIGINT UNSIGNED", avroType: "bytes.decimal(20,0)", mapping: mapUnsignedBigint},
	{name: "dcm", definition: "DECIMAL(65,30)", avroType: "bytes.decimal(65,30)", mapping: mapDecimal, scale: 30},
	{name: "fl", definition: "FLOAT", avroType: "float", mapping: mapFloat},
	{name: "dbl", definition: "DOUBLE", avroType: "double", mapping: mapDouble},
	{name: "dt", definition: "DATE", avroType: "int.date", mapping: mapDate},
	{name: "dtm", definition: "DATETIME(6)", avroType: "long.local-timestamp-micros", mapping: mapDatetime},
	{name: "ts", definition: "TIMESTAMP(6) NULL", avroType: "long.timestamp-micros", mapping: mapTimestamp},
	{name: "tm", definition: "TIME(6)", avroType: "long", mapping: mapTime},
	{name: "yr", definition: "YEAR", avroType: "int", mapping: mapInteger},
	{name: "ch", definition: "CHAR(10) CHARACTER SET utf8mb4", avroType: "string", mapping: mapText},
	{name: "vc", definition: "VARCHAR(100) CHARACTER SET utf8mb4", avroType: "string", mapping: mapText},
	{name: "lat", definition: "VARCHAR(40) CHARACTER SET latin1", avroType: "string", mapping: mapText},
	{name: "bin", definition: "BINARY(4)", avroType: "bytes", mapping: mapBytes},
	{name: "vbin", definition: "VARBINARY(16)", avroType: "bytes", mapping: mapBytes},
	{name: "bl", definition: "BLOB", avroType: "bytes", mapping: mapBytes},
	{name: "en", definition: "ENUM('small','medium','large')", avroType: "string", mapping: mapText},
	{name: "st", definition: "SET('a','b','c','d')", avroType: "string", mapping: mapText},
	{name: "bit1", definition: "BIT(1)", avroType: "boolean", mapping: mapBoolean, bits: 1},
	{name: "bit10", definition: "BIT(10)", avroType: "bytes", mapping: mapBits, bits: 10},
	{name: "js", definition: "JSON", avroType: "string", mapping: mapText},
}

// avroTypeRow is one inserted row: the SQL literal of each column it
// names, and NULL in the others.
type avroTypeRow struct {
	id       int
	literals map[string]string
}

// avroTypeRows returns the rows of TestAvroMatchesJSONAcrossTypes. The
// session that inserts them has time_zone '+00:00' and an empty sql_mode,
// which allows zero dates.
func avroTypeRows() []avroTypeRow {
	nines35, nines30 := strings.Repeat("9", 35), strings.Repeat("9", 30)
	return []avroTypeRow{
		{id: 1, literals: map[string]string{
			"ti": "-128", "ti_u": "0", "si": "-32768", "si_u": "0", "mi": "-8388608", "mi_u": "0",
			"i": "-2147483648", "i_u": "0", "bi": "-9223372036854775808", "bi_u": "0",
			"dcm": "-" + nines35 + "." + nines30,
			"fl":  "-3.402823466e38", "dbl": "-1.7976931348623157e308",
			"dt": "'1000-01-01'", "dtm": "'1000-01-01 00:00:00.000000'",
			// The first TIMESTAMP second after the zero value.
			"ts": "'1970-01-01 00:00:01.000000'",
			"tm": "'-838:59:59.000000'", "yr": "1901",
			// CHAR drops the trailing spaces.
			"ch": "'ab   '", "vc": "''", "lat": "'café'",
			// The binlog leaves out the trailing zero bytes of BINARY.
			"bin": "0x61", "vbin": "0x00", "bl": "''",
			"en": "'small'", "st": "''", "bit1": "b'0'", "bit10": "b'0'", "js": "'{}'",
		}},
		{id: 2, literals: map[string]string{
			"ti": "127", "ti_u": "255", "si": "32767", "si_u": "65535", "mi": "8388607", "mi_u": "16777215",
			"i": "2147483647", "i_u": "4294967295", "bi": "9223372036854775807", "bi_u": "18446744073709551615",
			"dcm": nines35 + "." + nines30,
			"fl":  "3.402823466e38", "dbl": "1.7976931348623157e308",
			"dt": "'9999-12-31'", "dtm": "'9999-12-31 23:59:59.999999'",
			"ts": "'2038-01-19 03:14:07.999999'",
			"tm": "'838:59:59.999999'", "yr": "2155",
			"ch": "' é😀  '", "vc": `'Ada 😀 "q" \\ '`, "lat": "'€ŒŸ ÿ'",
			"bin": "0xFFFFFFFF", "vbin": "0xFF00FF", "bl": "0x00FF0080",
			"en": "'large'", "st": "'d,a,c'", "bit1": "b'1'", "bit10": "b'1111111111'",
			"js": `'{"a": [1, 2.5, null, true], "b": "é😀"}'`,
		}},
		{id: 3, literals: map[string]string{}},
		{id: 4, literals: map[string]string{
			"ti": "-1", "ti_u": "1", "si": "-1", "si_u": "1", "mi": "-1", "mi_u": "1",
			"i": "-1", "i_u": "1", "bi": "-1", "bi_u": "9223372036854775808",
			"dcm": "-0." + strings.Repeat("0", 29) + "1",
			"fl":  "0.1", "dbl": "4.9e-324",
			// Values before the epoch are negative days and microseconds.
			"dt": "'1969-12-31'", "dtm": "'1969-12-31 23:59:59.999999'",
			"ts": "'2016-08-17 11:08:04.5'",
			"tm": "'-00:00:00.000001'", "yr": "0",
			"ch": "''", "vc": "'😀'", "lat": "'naïve'",
			"bin": "0x00", "vbin": "''", "bl": "0x00",
			"en": "'medium'", "st": "'b'", "bit1": "b'1'", "bit10": "b'1000000001'",
			"js": `'"text"'`,
		}},
		// Zero and partial-zero dates are null in Avro and the server's
		// text in the JSON form.
		{id: 5, literals: map[string]string{
			"i": "5", "dt": "'0000-00-00'", "dtm": "'2023-05-00 10:20:30.000000'",
			"ts": "'0000-00-00 00:00:00.000000'", "tm": "'-25:30:15.5'",
		}},
	}
}

// insertAvroTypeRow inserts a row and fails on any warning, which would
// mean that the server changed a literal.
func insertAvroTypeRow(t *testing.T, f *fixture, row avroTypeRow) {
	t.Helper()
	columns := []string{"id"}
	values := []string{strconv.Itoa(row.id)}
	for _, c := range avroTypeColumns {
		literal, ok := row.literals[c.name]
		if !ok {
			literal = "NULL"
		}
		columns = append(columns, c.name)
		values = append(values, literal)
	}
	for name := range row.literals {
		if !slices.ContainsFunc(avroTypeColumns, func(c avroTypeColumn) bool { return c.name == name }) {
			t.Fatalf("row %d names the unknown column %s", row.id, name)
		}
	}
	statement := fmt.Sprintf("INSERT INTO types (%s) VALUES (%s)", strings.Join(columns, ", "), strings.Join(values, ", "))
	res, err := f.conn.Execute(statement)
	if err != nil {
		t.Fatalf("insert row %d: %v\n%s", row.id, err, statement)
	}
	if res.Warnings != 0 {
		t.Fatalf("insert row %d: the server reported %d warnings\n%s", row.id, res.Warnings, statement)
	}
}

// zeroDate matches the JSON form's text of a zero or partial-zero date,
// which has the year 0000 or the month or day 00.
var zeroDate = regexp.MustCompile(`^(0000-\d\d-\d\d|\d{4}-00-\d\d|\d{4}-\d\d-00)`)

// formatTime writes signed microseconds as the server's TIME text with six
// fraction digits.
func formatTime(d time.Duration) string {
	sign := ""
	micros := d.Microseconds()
	if micros < 0 {
		sign, micros = "-", -micros
	}
	seconds := micros / 1_000_000
	return fmt.Sprintf("%s%02d:%02d:%02d.%06d", sign, seconds/3600, seconds/60%60, seconds%60, micros%1_000_000)
}

// jsonFormOf converts a non-null value that hamba/avro decoded into the
// value the JSON form has for it, as encoding/json decodes it with
// UseNumber.
func jsonFormOf(column avroTypeColumn, v any) (any, error) {
	switch column.mapping {
	case mapInteger:
		switch n := v.(type) {
		case int:
			return json.Number(strconv.Itoa(n)), nil
		case int64:
			return json.Number(strconv.FormatInt(n, 10)), nil
		}
	case mapUnsignedBigint:
		if r, ok := v.(*big.Rat); ok && r.IsInt() {
			return json.Number(r.Num().String()), nil
		}
	case mapDecimal:
		if r, ok := v.(*big.Rat); ok {
			return r.FloatString(column.scale), nil
		}
	case mapBoolean:
		if b, ok := v.(bool); ok {
			return b, nil
		}
	case mapBits:
		if raw, ok := v.([]byte); ok {
			if want := (column.bits + 7) / 8; len(raw) != want {
				return nil, fmt.Errorf("BIT(%d) value % x has %d bytes, want %d", column.bits, raw, len(raw), want)
			}
			return json.Number(new(big.Int).SetBytes(raw).String()), nil
		}
	case mapDate:
		if d, ok := v.(time.Time); ok {
			return d.UTC().Format("2006-01-02"), nil
		}
	case mapDatetime:
		if micros, ok := v.(int64); ok {
			return time.UnixMicro(micros).UTC().Format("2006-01-02 15:04:05.000000"), nil
		}
	case mapTimestamp:
		if instant, ok := v.(time.Time); ok {
			return instant.UTC().Format("2006-01-02T15:04:05.000000Z"), nil
		}
	case mapTime:
		if micros, ok := v.(int64); ok {
			return formatTime(time.Duration(micros) * time.Microsecond), nil
		}
	case mapText:
		if s, ok := v.(string); ok {
			return s, nil
		}
	case mapBytes:
		if raw, ok := v.([]byte); ok {
			return base64.StdEncoding.EncodeToString(raw), nil
		}
	}
	return nil, fmt.Errorf("unexpected Avro value %#v of Go type %T", v, v)
}

// checkAvroValue compares one column's Avro value with its value in the
// JSON form.
func checkAvroValue(t *testing.T, where string, column avroTypeColumn, got, jsonValue any) {
	t.Helper()
	if jsonValue == nil {
		if got != nil {
			t.Errorf("%s: Avro has %#v, the JSON form null", where, got)
		}
		return
	}
	if got == nil {
		text, _ := jsonValue.(string)
		temporal := column.mapping == mapDate || column.mapping == mapDatetime || column.mapping == mapTimestamp
		if !temporal || !zeroDate.MatchString(text) {
			t.Errorf("%s: Avro has null, the JSON form %#v", where, jsonValue)
		}
		return
	}

	if column.mapping == mapFloat || column.mapping == mapDouble {
		checkAvroFloat(t, where, column.mapping, got, jsonValue)
		return
	}
	want, err := jsonFormOf(column, got)
	if err != nil {
		t.Errorf("%s: %v", where, err)
		return
	}
	if want != jsonValue {
		t.Errorf("%s: Avro has %#v, which the JSON form writes as %#v, but the JSON form has %#v", where, got, want, jsonValue)
	}
}

// checkAvroFloat checks that the JSON form's number reads back as exactly
// the Avro float or double.
func checkAvroFloat(t *testing.T, where string, mapping valueMapping, got, jsonValue any) {
	t.Helper()
	number, ok := jsonValue.(json.Number)
	if !ok {
		t.Errorf("%s: the JSON form has %#v, want a number", where, jsonValue)
		return
	}
	switch g := got.(type) {
	case float32:
		if mapping != mapFloat {
			t.Errorf("%s: Avro has the float %v, want a double", where, g)
			return
		}
		parsed, err := strconv.ParseFloat(number.String(), 32)
		if err != nil {
			t.Errorf("%s: the JSON form's number %s is not a valid float: %v", where, number, err)
			return
		}
		if math.Float32bits(float32(parsed)) != math.Float32bits(g) {
			t.Errorf("%s: Avro has the float %v, the JSON form %s", where, g, number)
		}
	case float64:
		if mapping != mapDouble {
			t.Errorf("%s: Avro has the double %v, want a float", where, g)
			return
		}
		parsed, err := strconv.ParseFloat(number.String(), 64)
		if err != nil {
			t.Errorf("%s: the JSON form's number %s is not a valid double: %v", where, number, err)
			return
		}
		if math.Float64bits(parsed) != math.Float64bits(g) {
			t.Errorf("%s: Avro has the double %v, the JSON form %s", where, g, number)
		}
	default:
		t.Errorf("%s: unexpected Avro value %#v of Go type %T", where, got, got)
	}
}

// checkAvroRow compares a row image or key decoded from Avro with the same
// one in the JSON form, field by field.
func checkAvroRow(t *testing.T, where string, columns map[string]avroTypeColumn, got, jsonRow map[string]any) {
	t.Helper()
	if (got == nil) != (jsonRow == nil) {
		t.Errorf("%s: Avro has %v, the JSON form %v", where, got, jsonRow)
		return
	}
	for _, name := range slices.Sorted(maps.Keys(jsonRow)) {
		column, ok := columns[name]
		if !ok {
			t.Errorf("%s: the JSON form has the unknown column %s", where, name)
			continue
		}
		value, ok := got[name]
		if !ok {
			t.Errorf("%s: field %s is missing in Avro", where, name)
			continue
		}
		checkAvroValue(t, where+"."+name, column, value, jsonRow[name])
	}
	for _, name := range slices.Sorted(maps.Keys(got)) {
		if _, ok := jsonRow[name]; !ok {
			t.Errorf("%s: Avro has field %s = %#v, which the JSON form lacks", where, name, got[name])
		}
	}
}

// checkAvroSource compares the source block of both forms. Only name
// differs: each run has its own topic prefix.
func checkAvroSource(t *testing.T, where string, got map[string]any, jsonEvent envelope, avroPrefix string) {
	t.Helper()
	want := jsonEvent.Source
	var gtid any
	if want.GTID != nil {
		gtid = *want.GTID
	}
	expected := map[string]any{
		"version":   want.Version,
		"connector": want.Connector,
		"name":      avroPrefix,
		"ts_ms":     want.TsMs.String(),
		"snapshot":  want.Snapshot,
		"db":        want.DB,
		"table":     want.Table,
		"server_id": want.ServerID.String(),
		"gtid":      gtid,
		"file":      want.File,
		"pos":       want.Pos.String(),
		"row":       want.Row.String(),
	}
	for _, name := range slices.Sorted(maps.Keys(expected)) {
		value, ok := got[name]
		if !ok {
			t.Errorf("%s: source.%s is missing in Avro", where, name)
			continue
		}
		// Avro longs decode to int64 and ints to int. Both are compared
		// with the JSON form's numbers as text.
		switch n := value.(type) {
		case int64:
			value = strconv.FormatInt(n, 10)
		case int:
			value = strconv.Itoa(n)
		}
		if value != expected[name] {
			t.Errorf("%s: source.%s is %#v in Avro, want %#v", where, name, value, expected[name])
		}
	}
	if len(got) != len(expected) {
		t.Errorf("%s: the Avro source block has %d fields, want %d: %v", where, len(got), len(expected), got)
	}
}

// checkTypesSchemas checks the key and value schemas of table types
// against docs/types.md: the record names, the envelope's fields, and the
// type of every column's field.
func checkTypesSchemas(t *testing.T, keySchema, valueSchema avro.Schema, namespace string) {
	t.Helper()
	if got := avroTypeName(keySchema); got != namespace+".Key" {
		t.Errorf("key schema %s, want the record %s.Key", got, namespace)
	}
	if key, ok := keySchema.(*avro.RecordSchema); ok {
		if len(key.Fields()) != 1 || key.Fields()[0].Name() != "id" || avroTypeName(key.Fields()[0].Type()) != "int" {
			t.Errorf("key schema %s, want the single field id of type int", key)
		}
	}

	envelope, ok := valueSchema.(*avro.RecordSchema)
	if !ok || envelope.FullName() != namespace+".Envelope" {
		t.Fatalf("value schema %s, want the record %s.Envelope", valueSchema, namespace)
	}
	valueName := namespace + ".Value"
	wantEnvelope := []struct{ name, typ string }{
		{"before", "[null," + valueName + "]"},
		{"after", "[null," + valueName + "]"},
		{"source", "io.debezium.connector.mariadb.Source"},
		{"op", "string"},
		{"ts_ms", "[null,long]"},
	}
	fields := envelope.Fields()
	if len(fields) != len(wantEnvelope) {
		t.Fatalf("the envelope has %d fields, want %d: %s", len(fields), len(wantEnvelope), envelope)
	}
	for i, want := range wantEnvelope {
		if fields[i].Name() != want.name || avroTypeName(fields[i].Type()) != want.typ {
			t.Errorf("envelope field %d is %s of type %s, want %s of type %s",
				i, fields[i].Name(), avroTypeName(fields[i].Type()), want.name, want.typ)
		}
	}

	union, ok := fields[0].Type().(*avro.UnionSchema)
	if !ok || len(union.Types()) != 2 {
		t.Fatalf("before has type %s, want a union with the Value record", fields[0].Type())
	}
	value, ok := union.Types()[1].(*avro.RecordSchema)
	if !ok {
		t.Fatalf("the second branch of before is %s, want the Value record", union.Types()[1])
	}
	columns := value.Fields()
	if len(columns) != len(avroTypeColumns)+1 {
		t.Fatalf("the Value record has %d fields, want %d: %s", len(columns), len(avroTypeColumns)+1, value)
	}
	if columns[0].Name() != "id" || avroTypeName(columns[0].Type()) != "int" {
		t.Errorf("Value field 0 is %s of type %s, want id of type int", columns[0].Name(), avroTypeName(columns[0].Type()))
	}
	for i, c := range avroTypeColumns {
		field := columns[i+1]
		want := "[null," + c.avroType + "]"
		if field.Name() != c.name || avroTypeName(field.Type()) != want {
			t.Errorf("Value field %d is %s of type %s, want %s of type %s for a column %s",
				i+1, field.Name(), avroTypeName(field.Type()), c.name, want, c.definition)
		}
		if !field.HasDefault() || field.Default() != nil {
			t.Errorf("Value field %s has no default null", field.Name())
		}
	}
}

// TestAvroMatchesJSONAcrossTypes runs one sluice with SLUICE_FORMAT=json
// and one with avro over the same changes, and checks that every Avro
// record, decoded with the schema the registry returns for its id,
// contains the values of the JSON record at the same offset.
func TestAvroMatchesJSONAcrossTypes(t *testing.T) {
	requireApicurio(t)
	f := newFixture(t)
	deleteSubjectsAfter(t, f.prefix)

	definitions := []string{"id INT PRIMARY KEY"}
	for _, c := range avroTypeColumns {
		definitions = append(definitions, c.name+" "+c.definition)
	}
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE types (\n"+strings.Join(definitions, ",\n")+"\n)",
	)

	jsonRun := f.startReady()
	avroPrefix := f.prefix + ".avro"
	avroRun := f.startReady(avroEnv("SLUICE_TOPIC_PREFIX="+avroPrefix, "SLUICE_STREAM_ID="+f.stream+"-avro")...)

	execSQL(t, f.conn,
		"SET SESSION sql_mode = ''",
		"SET SESSION time_zone = '+00:00'",
	)
	for _, row := range avroTypeRows() {
		insertAvroTypeRow(t, f, row)
	}
	execSQL(t, f.conn,
		"UPDATE types SET vc = 'changed 😀', dcm = 1.5, tm = '-01:02:03.000004', ts = '2000-02-29 12:00:00.000001' WHERE id = 2",
		"DELETE FROM types WHERE id = 1",
	)

	jsonRecords := f.settle("types")
	wantOps := []string{"c", "c", "c", "c", "c", "u", "d", "tombstone"}
	if len(jsonRecords) != len(wantOps) {
		for i, r := range jsonRecords {
			t.Logf("JSON record %d: key %s value %s", i, r.Key, r.Value)
		}
		t.Fatalf("the JSON topic has %d records, want %d", len(jsonRecords), len(wantOps))
	}
	jsonEvents := make([]envelope, len(jsonRecords))
	for i, r := range jsonRecords {
		op := "tombstone"
		if r.Value != nil {
			jsonEvents[i] = decodeEnvelope(t, r.Value)
			op = jsonEvents[i].Op
		}
		if op != wantOps[i] {
			t.Fatalf("JSON record %d is a %s, want a %s", i, op, wantOps[i])
		}
	}

	avroTopic := avroPrefix + "." + f.db + ".types"
	f.eventually(60*time.Second, avroTopic+" contains as many records as the JSON topic", func() bool {
		return len(consumeAll(t, avroTopic)) >= len(jsonRecords)
	})
	stopCleanly(t, jsonRun)
	stopCleanly(t, avroRun)
	avroRecords := consumeAll(t, avroTopic)
	if len(avroRecords) != len(jsonRecords) {
		t.Fatalf("the Avro topic has %d records, the JSON topic %d", len(avroRecords), len(jsonRecords))
	}

	lookup := newSchemaLookup(t)
	namespace := expectedNamespace(avroPrefix, f.db, "types")
	columns := map[string]avroTypeColumn{"id": {name: "id", definition: "INT PRIMARY KEY", avroType: "int", mapping: mapInteger}}
	for _, c := range avroTypeColumns {
		columns[c.name] = c
	}
	keyIDs, valueIDs := map[int]bool{}, map[int]bool{}
	for i := range jsonRecords {
		jsonRecord, avroRecord := jsonRecords[i], avroRecords[i]
		where := fmt.Sprintf("record %d (%s)", i, wantOps[i])

		keyID, keySchema, avroKey := lookup.decode(where+" key", []byte(avroRecord.Key))
		keyIDs[keyID] = true
		checkAvroRow(t, where+" key", columns, avroKey, decodeObject(t, []byte(jsonRecord.Key)))

		if jsonRecord.Value == nil {
			if avroRecord.Value != nil {
				t.Errorf("%s: the Avro record has a value of %d bytes, want a tombstone", where, len(avroRecord.Value))
			}
			continue
		}
		if avroRecord.Value == nil {
			t.Errorf("%s: the Avro record is a tombstone", where)
			continue
		}
		valueID, valueSchema, event := lookup.decode(where+" value", avroRecord.Value)
		if !valueIDs[valueID] {
			checkTypesSchemas(t, keySchema, valueSchema, namespace)
		}
		valueIDs[valueID] = true

		jsonEvent := jsonEvents[i]
		if event["op"] != jsonEvent.Op {
			t.Errorf("%s: op %#v in Avro, %q in the JSON form", where, event["op"], jsonEvent.Op)
		}
		checkAvroRow(t, where+" before", columns, rowRecord(t, where+" before", event["before"], namespace+".Value"), jsonEvent.Before)
		checkAvroRow(t, where+" after", columns, rowRecord(t, where+" after", event["after"], namespace+".Value"), jsonEvent.After)
		source, ok := event["source"].(map[string]any)
		if !ok {
			t.Errorf("%s: source is %#v, want a record", where, event["source"])
		} else {
			checkAvroSource(t, where, source, jsonEvent, avroPrefix)
		}
		if processed, ok := event["ts_ms"].(int64); !ok || processed <= 0 {
			t.Errorf("%s: ts_ms is %#v, want a positive long", where, event["ts_ms"])
		}
	}

	// The schemas are registered under <topic>-key and <topic>-value, one
	// version each, and the JSON run registered none.
	subjects := lookup.subjects()
	for _, subject := range []string{avroTopic + "-key", avroTopic + "-value"} {
		if !slices.Contains(subjects, subject) {
			t.Errorf("the registry has no subject %s", subject)
		}
	}
	for _, subject := range []string{f.topic("types") + "-key", f.topic("types") + "-value"} {
		if slices.Contains(subjects, subject) {
			t.Errorf("the registry has the subject %s of the JSON run", subject)
		}
	}
	for subject, used := range map[string]map[int]bool{avroTopic + "-key": keyIDs, avroTopic + "-value": valueIDs} {
		registered := lookup.versionIDs(subject)
		if len(registered) != 1 {
			t.Errorf("subject %s has versions with ids %v, want one version", subject, registered)
		}
		for id := range used {
			if !slices.Contains(registered, id) {
				t.Errorf("records use schema id %d, which is not a version of subject %s (ids %v)", id, subject, registered)
			}
		}
	}
}

// decodedEvent is an Avro record of a small test table, decoded with the
// schemas its ids name.
type decodedEvent struct {
	keyID   int
	key     map[string]any
	valueID int
	schema  avro.Schema
	op      any
	before  map[string]any
	after   map[string]any
}

func decodeEvent(t *testing.T, lookup *schemaLookup, where, valueName string, r record) decodedEvent {
	t.Helper()
	var e decodedEvent
	e.keyID, _, e.key = lookup.decode(where+" key", []byte(r.Key))
	if r.Value == nil {
		t.Fatalf("%s: a tombstone, want a change event", where)
	}
	var event map[string]any
	e.valueID, e.schema, event = lookup.decode(where+" value", r.Value)
	e.op = event["op"]
	e.before = rowRecord(t, where+" before", event["before"], valueName)
	e.after = rowRecord(t, where+" after", event["after"], valueName)
	return e
}

// checkDecodedRow compares a decoded row with the Go values hamba/avro
// gives: int for an Avro int, string for a string.
func checkDecodedRow(t *testing.T, where string, got, want map[string]any) {
	t.Helper()
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s: %#v, want %#v", where, got, want)
	}
}

// valueFieldNames returns the fields of the Value record inside an
// envelope schema.
func valueFieldNames(t *testing.T, envelope avro.Schema) []string {
	t.Helper()
	record, ok := envelope.(*avro.RecordSchema)
	if !ok || len(record.Fields()) == 0 {
		t.Fatalf("value schema %s, want the Envelope record", envelope)
	}
	union, ok := record.Fields()[0].Type().(*avro.UnionSchema)
	if !ok || len(union.Types()) != 2 {
		t.Fatalf("before has type %s, want a union with the Value record", record.Fields()[0].Type())
	}
	value, ok := union.Types()[1].(*avro.RecordSchema)
	if !ok {
		t.Fatalf("the second branch of before is %s, want the Value record", union.Types()[1])
	}
	var names []string
	for _, field := range value.Fields() {
		names = append(names, field.Name()+" "+avroTypeName(field.Type()))
	}
	return names
}

// TestAvroSchemaEvolution adds a nullable column while sluice runs: the
// value subject gets a second version, the key subject keeps one, and the
// records before and after the change decode with their own schema ids.
func TestAvroSchemaEvolution(t *testing.T) {
	requireApicurio(t)
	f := newFixture(t)
	deleteSubjectsAfter(t, f.prefix)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE evolving (id INT PRIMARY KEY, note VARCHAR(20))")
	p := f.startReady(avroEnv()...)

	topic := f.topic("evolving")
	keySubject, valueSubject := topic+"-key", topic+"-value"
	execSQL(t, f.conn, "INSERT INTO evolving VALUES (1, 'one')")
	f.awaitCount("evolving", 1)
	// FULL accepts the new schema: the added field is a union with null
	// and has the default null.
	setCompatibility(t, valueSubject, "FULL")

	execSQL(t, f.conn,
		"ALTER TABLE evolving ADD COLUMN c INT NULL DEFAULT 7",
		"INSERT INTO evolving (id, note) VALUES (2, 'two')",
		"INSERT INTO evolving (id, note, c) VALUES (3, 'three', 42)",
		"UPDATE evolving SET note = 'uno' WHERE id = 1",
	)
	f.awaitCount("evolving", 4)
	stopCleanly(t, p)
	got := consumeAll(t, topic)
	if len(got) != 4 {
		t.Fatalf("the topic has %d records, want 4", len(got))
	}

	lookup := newSchemaLookup(t)
	valueIDs := lookup.versionIDs(valueSubject)
	if len(valueIDs) != 2 {
		t.Fatalf("subject %s has versions with ids %v, want two versions", valueSubject, valueIDs)
	}
	keyIDs := lookup.versionIDs(keySubject)
	if len(keyIDs) != 1 {
		t.Errorf("subject %s has versions with ids %v, want one version: the key did not change", keySubject, keyIDs)
	}

	valueName := expectedNamespace(f.prefix, f.db, "evolving") + ".Value"
	want := []struct {
		valueID       int
		op            string
		before, after map[string]any
	}{
		{valueIDs[0], "c", nil, map[string]any{"id": 1, "note": "one"}},
		{valueIDs[1], "c", nil, map[string]any{"id": 2, "note": "two", "c": 7}},
		{valueIDs[1], "c", nil, map[string]any{"id": 3, "note": "three", "c": 42}},
		{valueIDs[1], "u", map[string]any{"id": 1, "note": "one", "c": 7}, map[string]any{"id": 1, "note": "uno", "c": 7}},
	}
	for i, w := range want {
		where := fmt.Sprintf("record %d", i)
		e := decodeEvent(t, lookup, where, valueName, got[i])
		if !slices.Contains(keyIDs, e.keyID) {
			t.Errorf("%s: key schema id %d is not a version of %s (ids %v)", where, e.keyID, keySubject, keyIDs)
		}
		if e.valueID != w.valueID {
			t.Errorf("%s: value schema id %d, want %d (version %d of %s)", where, e.valueID, w.valueID, slices.Index(valueIDs, w.valueID)+1, valueSubject)
		}
		if e.op != w.op {
			t.Errorf("%s: op %#v, want %q", where, e.op, w.op)
		}
		checkDecodedRow(t, where+" before", e.before, w.before)
		checkDecodedRow(t, where+" after", e.after, w.after)
	}

	first, err := lookup.lookup(valueIDs[0])
	if err != nil {
		t.Fatal(err)
	}
	second, err := lookup.lookup(valueIDs[1])
	if err != nil {
		t.Fatal(err)
	}
	if got, want := valueFieldNames(t, first), []string{"id int", "note [null,string]"}; !slices.Equal(got, want) {
		t.Errorf("version 1 of %s has the Value fields %q, want %q", valueSubject, got, want)
	}
	if got, want := valueFieldNames(t, second), []string{"id int", "note [null,string]", "c [null,int]"}; !slices.Equal(got, want) {
		t.Errorf("version 2 of %s has the Value fields %q, want %q", valueSubject, got, want)
	}
}

// TestAvroIncompatibleSchemaStops adds a primary-key column, which gives
// the Value record a field without a default, under compatibility FULL:
// the registry rejects the schema, sluice stops before the change, and a
// restart under NONE writes the change once.
func TestAvroIncompatibleSchemaStops(t *testing.T) {
	requireApicurio(t)
	f := newFixture(t)
	deleteSubjectsAfter(t, f.prefix)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE guarded (id INT PRIMARY KEY, note VARCHAR(20))")
	p := f.startReady(avroEnv()...)

	topic := f.topic("guarded")
	valueSubject := topic + "-value"
	beforeFirst := serverPosition(t, f.conn)
	execSQL(t, f.conn, "INSERT INTO guarded VALUES (1, 'one')")
	f.awaitCount("guarded", 1)
	setCompatibility(t, valueSubject, "FULL")

	// A key column is NOT NULL, so its field in Value is a plain int
	// without a default, which a reader of the new schema cannot fill
	// from a record of the old one.
	execSQL(t, f.conn, "ALTER TABLE guarded ADD COLUMN d INT NOT NULL, DROP PRIMARY KEY, ADD PRIMARY KEY (id, d)")
	insertStart := serverPosition(t, f.conn)
	execSQL(t, f.conn, "INSERT INTO guarded VALUES (2, 'two', 5)")

	if status := p.wait(t, 90*time.Second); status != 1 {
		t.Errorf("sluice exited with status %d, want 1", status)
	}
	stopped := stopMessage(t, p.output())
	for _, fragment := range []string{"table " + f.db + ".guarded", "added column d", valueSubject, "compatibility level FULL"} {
		if !strings.Contains(stopped, fragment) {
			t.Errorf("the error sluice stopped on does not contain %q: %s", fragment, stopped)
		}
	}
	saved := readPosition(t, f.positionFile())
	if saved.Compare(insertStart) > 0 {
		t.Errorf("the saved position %s is past %s, where the insert after the change starts", saved, insertStart)
	}
	if saved.Compare(beforeFirst) <= 0 {
		t.Errorf("the saved position %s is not past %s, before the first insert", saved, beforeFirst)
	}

	lookup := newSchemaLookup(t)
	got := consumeAll(t, topic)
	if len(got) != 1 {
		t.Errorf("the topic has %d records, want only the create of id 1", len(got))
	}
	for i, r := range got {
		for part, data := range map[string][]byte{"key": []byte(r.Key), "value": r.Value} {
			if len(data) < 5 {
				t.Errorf("record %d: the %s has %d bytes, want at least the wire-format header", i, part, len(data))
				continue
			}
			if _, err := lookup.lookup(int(binary.BigEndian.Uint32(data[1:5]))); err != nil {
				t.Errorf("record %d %s: %v", i, part, err)
			}
		}
	}

	setCompatibility(t, valueSubject, "NONE")
	restarted := f.startReady(avroEnv()...)
	f.awaitCount("guarded", 2)
	stopCleanly(t, restarted)
	got = consumeAll(t, topic)
	if len(got) != 2 {
		t.Fatalf("after the restart the topic has %d records, want 2: the insert before the change and the one after it", len(got))
	}
	valueName := expectedNamespace(f.prefix, f.db, "guarded") + ".Value"
	first := decodeEvent(t, lookup, "record 0", valueName, got[0])
	checkDecodedRow(t, "record 0 key", first.key, map[string]any{"id": 1})
	checkDecodedRow(t, "record 0 after", first.after, map[string]any{"id": 1, "note": "one"})
	second := decodeEvent(t, lookup, "record 1", valueName, got[1])
	if second.op != "c" {
		t.Errorf("record 1: op %#v, want \"c\"", second.op)
	}
	checkDecodedRow(t, "record 1 key", second.key, map[string]any{"id": 2, "d": 5})
	checkDecodedRow(t, "record 1 after", second.after, map[string]any{"id": 2, "note": "two", "d": 5})
	if second.valueID == first.valueID {
		t.Errorf("records 0 and 1 share the value schema id %d, want a new schema after the change", first.valueID)
	}
}

// stopMessage returns the log line of the error that sluice exited on, so
// that checks of its text do not match earlier lines such as retry warnings.
func stopMessage(t *testing.T, output string) string {
	t.Helper()
	for _, line := range strings.Split(output, "\n") {
		if strings.Contains(line, `"message":"sluice stopped on an error"`) {
			return line
		}
	}
	t.Fatalf("the output has no line \"sluice stopped on an error\":\n%s", output)
	return ""
}

// closedAddress returns a 127.0.0.1 address on which nothing listens: a
// port the kernel assigned and that was closed again.
func closedAddress(t *testing.T) string {
	t.Helper()
	listener, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("reserve a port: %v", err)
	}
	address := listener.Addr().String()
	if err := listener.Close(); err != nil {
		t.Fatalf("close %s: %v", address, err)
	}
	return address
}

// TestAvroRegistryDownAtStart points sluice at a closed port: the start
// retries the registry for SLUICE_SCHEMA_REGISTRY_TIMEOUT, then sluice
// exits with status 1, naming the registry and the variable to check.
func TestAvroRegistryDownAtStart(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn, "USE "+f.db, "CREATE TABLE unregistered (id INT PRIMARY KEY)")
	registryURL := "http://" + closedAddress(t) + "/apis/ccompat/v7"
	const timeout = 3 * time.Second
	started := time.Now()
	p := f.start(
		"SLUICE_FORMAT=avro",
		"SLUICE_SCHEMA_REGISTRY_URL="+registryURL,
		"SLUICE_SCHEMA_REGISTRY_TIMEOUT="+timeout.String(),
	)
	status := p.wait(t, 60*time.Second)
	elapsed := time.Since(started)

	if status != 1 {
		t.Errorf("sluice exited with status %d, want 1", status)
	}
	if elapsed < timeout {
		t.Errorf("sluice exited after %s, before retrying the registry for %s", elapsed, timeout)
	}
	stopped := stopMessage(t, p.output())
	for _, want := range []string{registryURL, "SLUICE_SCHEMA_REGISTRY_URL"} {
		if !strings.Contains(stopped, want) {
			t.Errorf("the error sluice stopped on does not contain %q: %s", want, stopped)
		}
	}
}

// TestAvroRegistryDownMidStream puts a switchable proxy in front of the
// registry. Once a table's schema is registered, the proxy starts to
// return 503, and a new table needs its schema: sluice retries for
// SLUICE_SCHEMA_REGISTRY_TIMEOUT, then exits with status 1, naming the
// registry, and writes no record of the new table. Its saved position
// stays before the new table's first change.
func TestAvroRegistryDownMidStream(t *testing.T) {
	requireApicurio(t)
	f := newFixture(t)
	deleteSubjectsAfter(t, f.prefix)
	execSQL(t, f.conn, "USE "+f.db,
		"CREATE TABLE first_table (id INT PRIMARY KEY)", "CREATE TABLE second_table (id INT PRIMARY KEY)")

	target, err := url.Parse(apicurioURL)
	if err != nil {
		t.Fatal(err)
	}
	var down atomic.Bool
	forward := httputil.NewSingleHostReverseProxy(&url.URL{Scheme: target.Scheme, Host: target.Host})
	proxy := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if down.Load() {
			http.Error(w, "registry down for the test", http.StatusServiceUnavailable)
			return
		}
		forward.ServeHTTP(w, r)
	}))
	defer proxy.Close()
	registryURL := proxy.URL + target.Path

	const timeout = 3 * time.Second
	p := f.startReady(
		"SLUICE_FORMAT=avro",
		"SLUICE_SCHEMA_REGISTRY_URL="+registryURL,
		"SLUICE_SCHEMA_REGISTRY_TIMEOUT="+timeout.String(),
	)
	execSQL(t, f.conn, "INSERT INTO first_table VALUES (1)")
	f.awaitCount("first_table", 1)

	down.Store(true)
	insertStart := serverPosition(t, f.conn)
	execSQL(t, f.conn, "INSERT INTO second_table VALUES (1)")
	if status := p.wait(t, 60*time.Second); status != 1 {
		t.Fatalf("sluice exited with status %d, want 1:\n%s", status, p.output())
	}
	if stopped := stopMessage(t, p.output()); !strings.Contains(stopped, registryURL) {
		t.Errorf("the error sluice stopped on does not name the registry %s: %s", registryURL, stopped)
	}
	if got := consumeAll(t, f.topic("second_table")); len(got) != 0 {
		t.Errorf("the new table's topic has %d records, want none", len(got))
	}
	if saved := readPosition(t, f.positionFile()); saved.Compare(insertStart) > 0 {
		t.Errorf("the saved position %s is past %s, where the new table's insert starts", saved, insertStart)
	}
}
