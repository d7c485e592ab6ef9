package source

import (
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"github.com/go-mysql-org/go-mysql/mysql"
)

// MySQL stores a JSON column in a binary form (JSONB) in its binlog.
// jsonValue is one decoded JSONB value. sluice decodes it itself, rather
// than taking go-mysql's text, for two reasons. Its text must be exactly
// what CAST(doc AS CHAR) prints on the server. And partial updates must be
// applied to the document as a tree.
type jsonValue struct {
	kind jsonKind
	// text is the value's JSON text for scalars: a number, a quoted
	// string, true, false or null.
	text string
	// members are an object's members in MySQL's order: shorter keys
	// first, keys of equal length in byte order.
	members []jsonMember
	// items are an array's elements.
	items []*jsonValue
}

type jsonKind byte

const (
	jsonScalar jsonKind = iota
	jsonObject
	jsonArray
)

type jsonMember struct {
	key   string
	value *jsonValue
}

// JSONB type bytes, as MySQL's json_binary.h defines them.
const (
	jsonbSmallObject = 0x00
	jsonbLargeObject = 0x01
	jsonbSmallArray  = 0x02
	jsonbLargeArray  = 0x03
	jsonbLiteral     = 0x04
	jsonbInt16       = 0x05
	jsonbUint16      = 0x06
	jsonbInt32       = 0x07
	jsonbUint32      = 0x08
	jsonbInt64       = 0x09
	jsonbUint64      = 0x0a
	jsonbDouble      = 0x0b
	jsonbString      = 0x0c
	jsonbOpaque      = 0x0f
)

// decodeJSONB decodes a whole JSONB document. An empty document is the
// JSON null literal, as MySQL reads it.
func decodeJSONB(data []byte) (*jsonValue, error) {
	if len(data) == 0 {
		return &jsonValue{text: "null"}, nil
	}
	return decodeJSONBValue(data[0], data[1:])
}

// decodeJSONBValue decodes a value of type typ whose bytes start data.
func decodeJSONBValue(typ byte, data []byte) (*jsonValue, error) {
	switch typ {
	case jsonbSmallObject, jsonbLargeObject, jsonbSmallArray, jsonbLargeArray:
		return decodeJSONBContainer(typ, data)
	case jsonbLiteral:
		if len(data) < 1 {
			return nil, errJSONBTruncated
		}
		switch data[0] {
		case 0:
			return &jsonValue{text: "null"}, nil
		case 1:
			return &jsonValue{text: "true"}, nil
		case 2:
			return &jsonValue{text: "false"}, nil
		}
		return nil, fmt.Errorf("invalid JSONB literal %#x", data[0])
	case jsonbInt16, jsonbUint16:
		if len(data) < 2 {
			return nil, errJSONBTruncated
		}
		v := binary.LittleEndian.Uint16(data)
		if typ == jsonbInt16 {
			return &jsonValue{text: strconv.Itoa(int(int16(v)))}, nil
		}
		return &jsonValue{text: strconv.Itoa(int(v))}, nil
	case jsonbInt32, jsonbUint32:
		if len(data) < 4 {
			return nil, errJSONBTruncated
		}
		v := binary.LittleEndian.Uint32(data)
		if typ == jsonbInt32 {
			return &jsonValue{text: strconv.FormatInt(int64(int32(v)), 10)}, nil
		}
		return &jsonValue{text: strconv.FormatUint(uint64(v), 10)}, nil
	case jsonbInt64, jsonbUint64, jsonbDouble:
		if len(data) < 8 {
			return nil, errJSONBTruncated
		}
		v := binary.LittleEndian.Uint64(data)
		switch typ {
		case jsonbInt64:
			return &jsonValue{text: strconv.FormatInt(int64(v), 10)}, nil
		case jsonbUint64:
			return &jsonValue{text: strconv.FormatUint(v, 10)}, nil
		}
		return &jsonValue{text: formatJSONDouble(math.Float64frombits(v))}, nil
	case jsonbString:
		s, err := jsonbVariableData(data)
		if err != nil {
			return nil, err
		}
		return &jsonValue{text: quoteJSON(string(s))}, nil
	case jsonbOpaque:
		if len(data) < 1 {
			return nil, errJSONBTruncated
		}
		raw, err := jsonbVariableData(data[1:])
		if err != nil {
			return nil, err
		}
		return decodeJSONBOpaque(data[0], raw)
	}
	return nil, fmt.Errorf("invalid JSONB value type %#x", typ)
}

var errJSONBTruncated = fmt.Errorf("JSONB value is truncated")

// decodeJSONBContainer decodes an object or an array. Its offsets count
// from the start of data.
func decodeJSONBContainer(typ byte, data []byte) (*jsonValue, error) {
	large := typ == jsonbLargeObject || typ == jsonbLargeArray
	object := typ == jsonbSmallObject || typ == jsonbLargeObject
	word := 2
	if large {
		word = 4
	}
	readWord := func(at int) (int, error) {
		if at+word > len(data) {
			return 0, errJSONBTruncated
		}
		if large {
			return int(binary.LittleEndian.Uint32(data[at:])), nil
		}
		return int(binary.LittleEndian.Uint16(data[at:])), nil
	}

	count, err := readWord(0)
	if err != nil {
		return nil, err
	}
	size, err := readWord(word)
	if err != nil {
		return nil, err
	}
	if size > len(data) {
		return nil, errJSONBTruncated
	}
	data = data[:size]

	keyEntries := 2 * word
	valueEntries := keyEntries
	if object {
		valueEntries += count * (word + 2)
	}
	out := &jsonValue{kind: jsonArray}
	if object {
		out.kind = jsonObject
		out.members = make([]jsonMember, count)
	} else {
		out.items = make([]*jsonValue, count)
	}

	for i := range count {
		var key string
		if object {
			at := keyEntries + i*(word+2)
			offset, err := readWord(at)
			if err != nil {
				return nil, err
			}
			if at+word+2 > len(data) {
				return nil, errJSONBTruncated
			}
			length := int(binary.LittleEndian.Uint16(data[at+word:]))
			if offset+length > len(data) {
				return nil, errJSONBTruncated
			}
			key = string(data[offset : offset+length])
		}

		at := valueEntries + i*(1+word)
		if at+1+word > len(data) {
			return nil, errJSONBTruncated
		}
		valueType := data[at]
		var value *jsonValue
		if jsonbInlined(valueType, large) {
			value, err = decodeJSONBValue(valueType, data[at+1:at+1+word])
		} else {
			var offset int
			if offset, err = readWord(at + 1); err == nil {
				if offset >= len(data) {
					return nil, errJSONBTruncated
				}
				value, err = decodeJSONBValue(valueType, data[offset:])
			}
		}
		if err != nil {
			return nil, err
		}
		if object {
			out.members[i] = jsonMember{key: key, value: value}
		} else {
			out.items[i] = value
		}
	}
	return out, nil
}

// jsonbInlined reports whether a value of type typ sits in its value entry
// rather than at an offset.
func jsonbInlined(typ byte, large bool) bool {
	switch typ {
	case jsonbLiteral, jsonbInt16, jsonbUint16:
		return true
	case jsonbInt32, jsonbUint32:
		return large
	}
	return false
}

// jsonbVariableData returns the bytes of a string or opaque value: a
// length of 7-bit groups, low group first, then that many bytes.
func jsonbVariableData(data []byte) ([]byte, error) {
	length := 0
	for i := 0; i < 5; i++ {
		if i >= len(data) {
			return nil, errJSONBTruncated
		}
		length |= int(data[i]&0x7f) << (7 * i)
		if data[i]&0x80 == 0 {
			if i+1+length > len(data) {
				return nil, errJSONBTruncated
			}
			return data[i+1 : i+1+length], nil
		}
	}
	return nil, fmt.Errorf("invalid JSONB length")
}

// decodeJSONBOpaque decodes a value of SQL type sqlType stored in a
// document, such as a DECIMAL or a DATETIME, into the text MySQL prints.
func decodeJSONBOpaque(sqlType byte, raw []byte) (*jsonValue, error) {
	switch sqlType {
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		if len(raw) < 2 {
			return nil, errJSONBTruncated
		}
		text, err := decodeDecimalBinary(raw[2:], int(raw[0]), int(raw[1]))
		if err != nil {
			return nil, err
		}
		return &jsonValue{text: text}, nil
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIME:
		if len(raw) < 8 {
			return nil, errJSONBTruncated
		}
		packed := int64(binary.LittleEndian.Uint64(raw))
		if sqlType == mysql.MYSQL_TYPE_TIME {
			return &jsonValue{text: quoteJSON(packedTime(packed))}, nil
		}
		text := packedDatetime(packed)
		if sqlType == mysql.MYSQL_TYPE_DATE {
			text = text[:10]
		}
		return &jsonValue{text: quoteJSON(text)}, nil
	}
	// Other SQL types print as base64 with their type number.
	return &jsonValue{text: quoteJSON(fmt.Sprintf("base64:type%d:%s", sqlType, base64.StdEncoding.EncodeToString(raw)))}, nil
}

// packedDatetime formats MySQL's packed DATETIME integer, which holds the
// date and time fields above 24 bits of microseconds.
func packedDatetime(packed int64) string {
	if packed < 0 {
		packed = -packed
	}
	micros := packed % (1 << 24)
	fields := packed >> 24
	ymd, hms := fields>>17, fields%(1<<17)
	yearMonth := ymd >> 5
	return fmt.Sprintf("%04d-%02d-%02d %02d:%02d:%02d.%06d",
		yearMonth/13, yearMonth%13, ymd&31, hms>>12, (hms>>6)&63, hms&63, micros)
}

// packedTime formats MySQL's packed TIME integer, which may be negative
// and may exceed 24 hours.
func packedTime(packed int64) string {
	sign := ""
	if packed < 0 {
		sign, packed = "-", -packed
	}
	micros := packed % (1 << 24)
	hms := packed >> 24
	return fmt.Sprintf("%s%02d:%02d:%02d.%06d", sign, (hms>>12)%(1<<10), (hms>>6)&63, hms&63, micros)
}

// decimalDigitBytes is how many bytes MySQL's binary DECIMAL uses for a
// group of 0 to 8 leftover digits. Full groups of 9 digits take 4 bytes.
var decimalDigitBytes = [9]int{0, 1, 1, 2, 2, 3, 3, 4, 4}

// decodeDecimalBinary decodes MySQL's binary DECIMAL(precision, scale).
func decodeDecimalBinary(data []byte, precision, scale int) (string, error) {
	intDigits := precision - scale
	size := intDigits/9*4 + decimalDigitBytes[intDigits%9] + scale/9*4 + decimalDigitBytes[scale%9]
	if scale > precision || len(data) < size || size == 0 {
		return "", fmt.Errorf("invalid binary DECIMAL(%d,%d) of %d bytes", precision, scale, len(data))
	}
	buf := make([]byte, size)
	copy(buf, data)
	negative := buf[0]&0x80 == 0
	buf[0] ^= 0x80
	if negative {
		for i := range buf {
			buf[i] = ^buf[i]
		}
	}

	var digits strings.Builder
	take := func(n, width int) {
		var v uint64
		for _, b := range buf[:n] {
			v = v<<8 | uint64(b)
		}
		buf = buf[n:]
		fmt.Fprintf(&digits, "%0*d", width, v)
	}
	if lead := intDigits % 9; lead > 0 {
		take(decimalDigitBytes[lead], lead)
	}
	for range intDigits / 9 {
		take(4, 9)
	}
	integer := strings.TrimLeft(digits.String(), "0")
	if integer == "" {
		integer = "0"
	}
	digits.Reset()
	for range scale / 9 {
		take(4, 9)
	}
	if tail := scale % 9; tail > 0 {
		take(decimalDigitBytes[tail], tail)
	}

	text := integer
	if scale > 0 {
		text += "." + digits.String()
	}
	if negative {
		text = "-" + text
	}
	return text, nil
}

// formatJSONDouble formats a JSON double as MySQL prints it: the shortest
// digits that read back as the same double, and ".0" after a whole number
// so that it stays a double.
//
// NOTE: MySQL chooses between plain and exponent notation with its own
// rule (my_gcvt). This uses plain notation for magnitudes from 1e-4 up to
// 1e15 and exponent notation outside, which matches the values checked
// against MySQL 8 but may differ for others at the edges.
func formatJSONDouble(f float64) string {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return "null" // MySQL stores neither in a JSON document
	}
	if f == 0 {
		if math.Signbit(f) {
			return "-0.0"
		}
		return "0.0"
	}
	exponent := strconv.FormatFloat(f, 'e', -1, 64) // such as -6.02214076e+23
	mantissa, power, _ := strings.Cut(exponent, "e")
	decimalPoint, _ := strconv.Atoi(power)
	decimalPoint++
	if decimalPoint > -4 && decimalPoint <= 15 {
		text := strconv.FormatFloat(f, 'f', -1, 64)
		if !strings.ContainsAny(text, ".e") {
			text += ".0"
		}
		return text
	}
	return mantissa + "e" + strconv.Itoa(decimalPoint-1)
}

// quoteJSON quotes s as MySQL quotes a JSON string: quotes, backslashes and
// control characters are escaped, everything else is written as it is.
func quoteJSON(s string) string {
	var b strings.Builder
	b.Grow(len(s) + 2)
	b.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch c {
		case '"':
			b.WriteString(`\"`)
		case '\\':
			b.WriteString(`\\`)
		case '\b':
			b.WriteString(`\b`)
		case '\f':
			b.WriteString(`\f`)
		case '\n':
			b.WriteString(`\n`)
		case '\r':
			b.WriteString(`\r`)
		case '\t':
			b.WriteString(`\t`)
		default:
			if c < 0x20 {
				fmt.Fprintf(&b, `\u%04x`, c)
			} else {
				b.WriteByte(c)
			}
		}
	}
	b.WriteByte('"')
	return b.String()
}

// String returns the value's text as MySQL's CAST(doc AS CHAR) prints it:
// ", " between elements and ": " after keys.
func (v *jsonValue) String() string {
	var b strings.Builder
	v.write(&b)
	return b.String()
}

func (v *jsonValue) write(b *strings.Builder) {
	switch v.kind {
	case jsonObject:
		b.WriteByte('{')
		for i, m := range v.members {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(quoteJSON(m.key))
			b.WriteString(": ")
			m.value.write(b)
		}
		b.WriteByte('}')
	case jsonArray:
		b.WriteByte('[')
		for i, item := range v.items {
			if i > 0 {
				b.WriteString(", ")
			}
			item.write(b)
		}
		b.WriteByte(']')
	default:
		b.WriteString(v.text)
	}
}

// sortMembers puts an object's members in MySQL's key order.
func (v *jsonValue) sortMembers() {
	sort.SliceStable(v.members, func(i, j int) bool {
		a, b := v.members[i].key, v.members[j].key
		if len(a) != len(b) {
			return len(a) < len(b)
		}
		return a < b
	})
}
