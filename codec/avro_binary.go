package codec

import (
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"math/big"
	"strings"

	"github.com/sluice-cdc/sluice/schema"
)

// The functions below write Avro's binary encoding directly, field by field
// in schema order, instead of building goavro's map-based native form
// first: that form cost about ten times the CPU of the JSON encoder. The
// schemas and goavro codecs in TableSchemas stay the reference, and the
// tests check that goavro reads every record back and writes the same
// bytes.

// nullBranch and valueBranch are the encoded union indexes of a union of
// null and one other type, in that order.
const (
	nullBranch  = 0x00 // zig-zag of 0
	valueBranch = 0x02 // zig-zag of 1
)

// appendAvroLong appends n as a zig-zag varint, the encoding of Avro's int
// and long.
func appendAvroLong(b []byte, n int64) []byte {
	return binary.AppendUvarint(b, uint64(n<<1)^uint64(n>>63))
}

// appendAvroBytes appends data with its length, the encoding of Avro's
// bytes and string.
func appendAvroBytes[T string | []byte](b []byte, data T) []byte {
	b = appendAvroLong(b, int64(len(data)))
	return append(b, data...)
}

// appendAvroRecord appends the fields of row in schema order. role names
// the columns in errors: "column", or "key column" for the Key record.
func (s *TableSchemas) appendAvroRecord(b []byte, table *schema.Table, role string, fields []avroField, row []any) ([]byte, error) {
	if len(row) != s.columnCount {
		return nil, fmt.Errorf("table %s: a row has %d values for %d columns", table, len(row), s.columnCount)
	}
	for i := range fields {
		field := &fields[i]
		var err error
		if b, err = s.options.appendAvroField(b, field, row[field.index]); err != nil {
			return nil, fmt.Errorf("table %s: %s %s: %w", table, role, field.column.Name, err)
		}
	}
	return b, nil
}

// appendAvroRow appends a row as the union of null and the Value record:
// null for a missing image, such as the before of a create.
func (s *TableSchemas) appendAvroRow(b []byte, table *schema.Table, row []any) ([]byte, error) {
	if row == nil {
		return append(b, nullBranch), nil
	}
	return s.appendAvroRecord(append(b, valueBranch), table, "column", s.valueFields, row)
}

// appendAvroSource appends the source block of a change, with the fields
// and types of the JSON form's.
func (a *Avro) appendAvroSource(b []byte, change *Change) []byte {
	s := &change.Source
	b = appendAvroBytes(b, validUTF8(a.Version))
	b = appendAvroBytes(b, validUTF8(a.Connector))
	b = appendAvroBytes(b, validUTF8(a.Name))
	b = appendAvroLong(b, s.TimestampMs)
	b = appendAvroBytes(b, "false") // snapshot
	b = appendAvroBytes(b, validUTF8(change.Table.Database))
	b = appendAvroBytes(b, validUTF8(change.Table.Name))
	b = appendAvroLong(b, int64(s.ServerID))
	if s.GTID == "" {
		b = append(b, nullBranch)
	} else {
		b = appendAvroBytes(append(b, valueBranch), validUTF8(s.GTID))
	}
	b = appendAvroBytes(b, validUTF8(s.File))
	b = appendAvroLong(b, int64(s.Pos))
	return appendAvroLong(b, int64(s.Row))
}

// appendAvroField appends one column value of a field: for a nullable
// field the union index first, and nothing more for NULL.
func (o *Options) appendAvroField(b []byte, field *avroField, v any) ([]byte, error) {
	mark := len(b)
	if field.nullable {
		b = append(b, valueBranch)
	}
	written := false
	if v != nil {
		var err error
		if b, written, err = o.appendAvroValue(b, field, v); err != nil {
			return nil, err
		}
	}
	switch {
	case written:
		return b, nil
	case field.nullable:
		return append(b[:mark], nullBranch), nil
	}
	return nil, errors.New("the value is NULL, but the column is in the primary key and its Avro type has no null")
}

// appendAvroValue appends one non-NULL column value in the type of its
// field. written is false for a value that Avro writes as null: a zero or
// partial-zero date.
func (o *Options) appendAvroValue(b []byte, field *avroField, v any) (_ []byte, written bool, err error) {
	column := &field.column
	if field.hashed {
		text, err := o.hashText(column, v)
		return appendAvroBytes(b, text), err == nil, err
	}
	native, err := o.avroValue(column, v)
	if err != nil || native == nil {
		return b, false, err
	}
	switch n := native.(type) {
	case int32:
		return appendAvroLong(b, int64(n)), true, nil
	case int64:
		return appendAvroLong(b, n), true, nil
	case float32:
		return binary.LittleEndian.AppendUint32(b, math.Float32bits(n)), true, nil
	case float64:
		return binary.LittleEndian.AppendUint64(b, math.Float64bits(n)), true, nil
	case bool:
		if n {
			return append(b, 1), true, nil
		}
		return append(b, 0), true, nil
	case string:
		return appendAvroBytes(b, n), true, nil
	case []byte:
		return appendAvroBytes(b, n), true, nil
	case avroUnscaled:
		return appendAvroTwosComplement(b, n.magnitude, n.negative), true, nil
	}
	return nil, false, fmt.Errorf("no Avro encoding for the value %v of Go type %T", native, native)
}

// avroUnscaled is the unscaled integer of an Avro decimal: the value
// times 10^scale, as a big-endian magnitude and a sign.
type avroUnscaled struct {
	magnitude []byte
	negative  bool
}

// unscaledOfUnsigned returns a BIGINT UNSIGNED value, which go-mysql
// decodes as a uint64 or, when it fits, an int64, as a decimal(20,0).
func unscaledOfUnsigned(v any) (avroUnscaled, error) {
	n, ok := v.(uint64)
	if !ok {
		signed, err := integerOf(v)
		if err != nil {
			return avroUnscaled{}, err
		}
		if signed < 0 {
			return avroUnscaled{}, fmt.Errorf("negative value %d for an unsigned column", signed)
		}
		n = uint64(signed)
	}
	return avroUnscaled{magnitude: binary.BigEndian.AppendUint64(nil, n)}, nil
}

// unscaledOfDecimal returns DECIMAL text, such as "-12.340", as the
// unscaled integer of the given scale (-12340). A fraction longer than
// scale is accepted only when the extra digits are zeros.
func unscaledOfDecimal(text string, scale int) (avroUnscaled, error) {
	invalid := func() error { return fmt.Errorf("invalid DECIMAL text %q", text) }
	var u avroUnscaled
	number := text
	if rest, ok := strings.CutPrefix(number, "-"); ok {
		number, u.negative = rest, true
	}
	whole, fraction, _ := strings.Cut(number, ".")
	if whole == "" && fraction == "" {
		return u, invalid()
	}
	if strings.Trim(whole, "0123456789") != "" || strings.Trim(fraction, "0123456789") != "" {
		return u, invalid()
	}
	if len(fraction) > scale {
		if strings.Trim(fraction[scale:], "0") != "" {
			return u, fmt.Errorf("DECIMAL text %q has more than %d fraction digits", text, scale)
		}
		fraction = fraction[:scale]
	}
	digits := whole + fraction + strings.Repeat("0", scale-len(fraction))

	if len(digits) <= 19 { // below 10^19, so it fits a uint64
		var n uint64
		for i := 0; i < len(digits); i++ {
			n = n*10 + uint64(digits[i]-'0')
		}
		u.magnitude = binary.BigEndian.AppendUint64(nil, n)
		return u, nil
	}
	n, ok := new(big.Int).SetString(digits, 10)
	if !ok {
		return u, invalid()
	}
	u.magnitude = n.Bytes()
	return u, nil
}

// appendAvroTwosComplement appends the integer with the big-endian
// magnitude, negated when negative is true, as Avro bytes in the shortest
// two's complement form. Zero is one zero byte.
func appendAvroTwosComplement(b []byte, magnitude []byte, negative bool) []byte {
	// Leading zero bytes of the magnitude carry nothing.
	for len(magnitude) > 0 && magnitude[0] == 0 {
		magnitude = magnitude[1:]
	}
	if len(magnitude) == 0 {
		return append(appendAvroLong(b, 1), 0)
	}
	if !negative {
		if magnitude[0]&0x80 != 0 {
			b = appendAvroLong(b, int64(len(magnitude))+1)
			b = append(b, 0)
		} else {
			b = appendAvroLong(b, int64(len(magnitude)))
		}
		return append(b, magnitude...)
	}

	// -m is the bitwise inverse of m-1. Subtracting one only borrows from
	// the bytes that are zero at the end.
	m := make([]byte, len(magnitude))
	copy(m, magnitude)
	for i := len(m) - 1; i >= 0; i-- {
		m[i]--
		if m[i] != 0xff {
			break
		}
	}
	for len(m) > 0 && m[0] == 0 {
		m = m[1:]
	}
	for i := range m {
		m[i] = ^m[i]
	}
	// The sign bit must be set: add a byte of ones where it is not.
	if len(m) == 0 || m[0]&0x80 == 0 {
		b = appendAvroLong(b, int64(len(m))+1)
		b = append(b, 0xff)
	} else {
		b = appendAvroLong(b, int64(len(m)))
	}
	return append(b, m...)
}
