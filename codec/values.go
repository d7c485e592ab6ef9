package codec

import (
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"math"
	"math/big"
	"net/netip"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"
	"github.com/sluice-cdc/sluice/schema"
)

// appendValue appends the JSON form of one column value, as go-mysql's
// replication package decodes it, to b.
func (o *Options) appendValue(b []byte, column *schema.Column, v any) ([]byte, error) {
	if v == nil {
		return append(b, "null"...), nil
	}

	switch column.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24,
		mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_YEAR:
		return appendInteger(b, v)

	case mysql.MYSQL_TYPE_BIT:
		// go-mysql returns BIT as an int64 holding the column's bits, so a
		// BIT(64) value with the top bit set reads as negative.
		bits, ok := v.(int64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		if bitWidth(column.Meta) == 1 {
			// BIT(1) is a flag, written as a boolean like Debezium does.
			return strconv.AppendBool(b, bits != 0), nil
		}
		return strconv.AppendUint(b, uint64(bits), 10), nil

	case mysql.MYSQL_TYPE_NEWDECIMAL:
		// DECIMAL arrives as exact text with the column's scale, "1.10".
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return o.appendDecimal(b, text)

	case mysql.MYSQL_TYPE_FLOAT:
		f, ok := v.(float32)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return appendFloat(b, float64(f), 32)

	case mysql.MYSQL_TYPE_DOUBLE:
		f, ok := v.(float64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return appendFloat(b, f, 64)

	case mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return appendString(b, timestampISO(padFraction(column, text))), nil

	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_DATE,
		mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		text = padFraction(column, text)
		if o.Time == TimeConnect {
			return appendConnectTime(b, column, text), nil
		}
		// The server's own text form: wall-clock values with no time zone,
		// zero dates such as "0000-00-00" included.
		return appendString(b, text), nil

	case mysql.MYSQL_TYPE_ENUM:
		index, ok := v.(int64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return appendString(b, enumMember(column, index)), nil

	case mysql.MYSQL_TYPE_SET:
		mask, ok := v.(int64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return appendString(b, setMembers(column, mask)), nil

	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_BLOB:
		return o.appendCharacterValue(b, column, v)

	case mysql.MYSQL_TYPE_JSON:
		// A JSON column goes out as its document text in a string, as
		// Debezium's io.debezium.data.Json does.
		doc, err := jsonDocument(column, v)
		if err != nil {
			return nil, err
		}
		return appendString(b, doc), nil

	case mysql.MYSQL_TYPE_GEOMETRY:
		raw, ok := v.([]byte)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return o.appendBytes(b, raw), nil
	}
	return nil, fmt.Errorf("unsupported column type %d", column.Type)
}

// jsonDocument returns the document text of a JSON column value.
func jsonDocument(column *schema.Column, v any) (string, error) {
	switch doc := v.(type) {
	case string:
		return doc, nil
	case []byte:
		return string(doc), nil
	case *replication.JsonDiff:
		// The reader applies partial updates to the before image, so a
		// diff here means one was not applied. Writing the diff as the
		// value would be wrong.
		return "", fmt.Errorf("the JSON value is a partial update (%s) that was not applied "+
			"to the document; written by a session with binlog_row_value_options=PARTIAL_JSON", doc)
	}
	return "", unexpectedType(column, v)
}

func unexpectedType(column *schema.Column, v any) error {
	return fmt.Errorf("unexpected value %v of Go type %T for column type %d", v, v, column.Type)
}

func appendInteger(b []byte, v any) ([]byte, error) {
	switch n := v.(type) {
	case int8:
		return strconv.AppendInt(b, int64(n), 10), nil
	case int16:
		return strconv.AppendInt(b, int64(n), 10), nil
	case int32:
		return strconv.AppendInt(b, int64(n), 10), nil
	case int64:
		return strconv.AppendInt(b, n, 10), nil
	case int:
		return strconv.AppendInt(b, int64(n), 10), nil
	case uint8:
		return strconv.AppendUint(b, uint64(n), 10), nil
	case uint16:
		return strconv.AppendUint(b, uint64(n), 10), nil
	case uint32:
		return strconv.AppendUint(b, uint64(n), 10), nil
	case uint64:
		return strconv.AppendUint(b, n, 10), nil
	}
	return nil, fmt.Errorf("unexpected integer value %v of Go type %T", v, v)
}

// appendFloat appends the shortest decimal text that reads back as the same
// float of the given bit size.
func appendFloat(b []byte, f float64, bitSize int) ([]byte, error) {
	if math.IsNaN(f) || math.IsInf(f, 0) {
		return nil, fmt.Errorf("floating-point value %v has no JSON form", f)
	}
	return strconv.AppendFloat(b, f, 'g', -1, bitSize), nil
}

// padFraction gives a TIME, DATETIME or TIMESTAMP value exactly as many
// fractional digits as its column declares, as the server prints it.
// go-mysql v1.16.0 drops an all-zero fraction of TIME(n) values ("00:00:00"
// for "00:00:00.00"); the digits it drops are zeros, so padding restores
// them exactly.
func padFraction(column *schema.Column, text string) string {
	switch column.Type {
	case mysql.MYSQL_TYPE_TIME2, mysql.MYSQL_TYPE_DATETIME2, mysql.MYSQL_TYPE_TIMESTAMP2:
	default:
		return text
	}
	digits := int(column.Meta)
	if digits <= 0 || digits > 6 {
		return text
	}
	_, fraction, found := strings.Cut(text, ".")
	switch {
	case !found:
		return text + "." + strings.Repeat("0", digits)
	case len(fraction) < digits:
		return text + strings.Repeat("0", digits-len(fraction))
	}
	return text
}

// timestampISO turns go-mysql's UTC text of a TIMESTAMP, "2006-01-02
// 15:04:05.000", into ISO 8601 with a Z. The zero TIMESTAMP stays
// "0000-00-00 00:00:00" because it is no instant.
func timestampISO(text string) string {
	if strings.HasPrefix(text, "0000-00-00") || len(text) < 19 || text[10] != ' ' {
		return text
	}
	return text[:10] + "T" + text[11:] + "Z"
}

// enumMember returns the name of ENUM member index (1-based). Index 0 is
// the empty string that the server stores for an invalid value.
func enumMember(column *schema.Column, index int64) string {
	if index <= 0 || int(index) > len(column.EnumValues) {
		return ""
	}
	return memberName(column, column.EnumValues[index-1])
}

// memberName returns an ENUM or SET member name as UTF-8. TABLE_MAP events
// carry the names in the column's character set.
func memberName(column *schema.Column, name string) string {
	if column.Charset == "latin1" {
		return decodeLatin1([]byte(name))
	}
	if text, known, err := decodeCharset(column.Charset, []byte(name)); known && err == nil {
		return text
	}
	return name
}

// setMembers returns the comma-separated members of a SET bit mask, in
// definition order as the server prints them.
func setMembers(column *schema.Column, mask int64) string {
	var sb strings.Builder
	for i, name := range column.SetValues {
		if mask&(1<<uint(i)) == 0 {
			continue
		}
		if sb.Len() > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(memberName(column, name))
	}
	return sb.String()
}

// appendCharacterValue appends a CHAR, VARCHAR, TEXT, BINARY, VARBINARY or
// BLOB value: text as a JSON string, bytes in base64.
func (o *Options) appendCharacterValue(b []byte, column *schema.Column, v any) ([]byte, error) {
	raw, err := characterBytes(column, v)
	if err != nil {
		return nil, err
	}
	if column.Charset == "binary" {
		if column.Type == mysql.MYSQL_TYPE_STRING {
			if text, ok := mariadbTypeText(column.DataType, raw); ok {
				return appendString(b, text), nil
			}
		}
		return o.appendBytes(b, raw), nil
	}
	text, err := decodeText(column.Charset, raw)
	if err != nil {
		return nil, err
	}
	return appendString(b, text), nil
}

// characterBytes returns the stored bytes of a CHAR, VARCHAR, TEXT, BINARY,
// VARBINARY or BLOB value, with the trailing zero bytes of a BINARY(n) value
// restored.
func characterBytes(column *schema.Column, v any) ([]byte, error) {
	var raw []byte
	switch s := v.(type) {
	case string:
		raw = []byte(s)
	case []byte:
		raw = s
	default:
		return nil, unexpectedType(column, v)
	}
	if column.Charset == "binary" && column.Type == mysql.MYSQL_TYPE_STRING {
		raw = padBinary(raw, fixedLength(column.Meta))
	}
	return raw, nil
}

// decodeText returns text stored in the named character set as UTF-8.
func decodeText(charset string, raw []byte) (string, error) {
	switch charset {
	case "utf8mb4", "utf8mb3", "utf8", "ascii":
		return string(raw), nil
	case "latin1":
		return decodeLatin1(raw), nil
	}
	text, known, err := decodeCharset(charset, raw)
	if err != nil {
		return "", fmt.Errorf("decode %q text: %w", charset, err)
	}
	if !known {
		// A column in a character set sluice cannot decode stops the
		// stream rather than emit garbled text.
		return "", fmt.Errorf("character set %q is not supported", charset)
	}
	return text, nil
}

// mariadbTypeText returns the text MariaDB prints for its UUID, INET6 and
// INET4 types, which the binlog writes as BINARY(16) and BINARY(4) in
// network byte order.
func mariadbTypeText(dataType string, raw []byte) (string, bool) {
	switch {
	case dataType == "uuid" && len(raw) == 16:
		h := hex.EncodeToString(raw)
		return h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32], true
	case dataType == "inet6" && len(raw) == 16:
		// netip keeps IPv4-mapped addresses as ::ffff:1.2.3.4, as MariaDB does.
		return netip.AddrFrom16([16]byte(raw)).String(), true
	case dataType == "inet4" && len(raw) == 4:
		return netip.AddrFrom4([4]byte(raw)).String(), true
	}
	return "", false
}

// fixedLength returns the declared byte length of a CHAR or BINARY column
// from its TABLE_MAP metadata. The server folds bits 8 and 9 of the length
// into the type byte, XOR-ed into its bits 4 and 5.
func fixedLength(meta uint16) int {
	typeByte, low := byte(meta>>8), int(meta&0xff)
	if typeByte&0x30 != 0x30 {
		return low | int((typeByte&0x30)^0x30)<<4
	}
	return low
}

// padBinary restores the trailing zero bytes of a BINARY(n) value, which the
// binlog leaves out.
func padBinary(raw []byte, length int) []byte {
	if len(raw) >= length {
		return raw
	}
	padded := make([]byte, length)
	copy(padded, raw)
	return padded
}

// cp1252High maps bytes 0x80-0x9F of MySQL's latin1, which is Windows code
// page 1252 with the five undefined bytes mapped to the C1 controls of the
// same value. Bytes 0xA0-0xFF are the Unicode code points of the same value.
var cp1252High = [32]rune{
	'€', 0x81, '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', 0x8d, 'Ž', 0x8f,
	0x90, '‘', '’', '“', '”', '•', '–', '—', '˜', '™', 'š', '›', 'œ', 0x9d, 'ž', 'Ÿ',
}

func decodeLatin1(raw []byte) string {
	var sb strings.Builder
	sb.Grow(len(raw))
	for _, c := range raw {
		switch {
		case c < 0x80:
			sb.WriteByte(c)
		case c < 0xa0:
			sb.WriteRune(cp1252High[c-0x80])
		default:
			sb.WriteRune(rune(c))
		}
	}
	return sb.String()
}

// appendBytes appends raw bytes as a base64 or hex string.
func (o *Options) appendBytes(b []byte, raw []byte) []byte {
	b = append(b, '"')
	if o.Binary == BinaryHex {
		b = hex.AppendEncode(b, raw)
	} else {
		b = base64.StdEncoding.AppendEncode(b, raw)
	}
	return append(b, '"')
}

// bitWidth returns the declared width of a BIT column from its TABLE_MAP
// metadata: whole bytes in the high byte, remaining bits in the low byte.
func bitWidth(meta uint16) int {
	return int(meta>>8)*8 + int(meta&0xff)
}

// appendDecimal appends DECIMAL text in the configured mode.
func (o *Options) appendDecimal(b []byte, text string) ([]byte, error) {
	switch o.Decimal {
	case DecimalDouble:
		f, err := strconv.ParseFloat(text, 64)
		if err != nil {
			return nil, fmt.Errorf("invalid DECIMAL text %q: %w", text, err)
		}
		return appendFloat(b, f, 64)
	case DecimalPrecise:
		unscaled, ok := new(big.Int).SetString(strings.Replace(text, ".", "", 1), 10)
		if !ok {
			return nil, fmt.Errorf("invalid DECIMAL text %q", text)
		}
		b = append(b, '"')
		b = base64.StdEncoding.AppendEncode(b, twosComplement(unscaled))
		return append(b, '"'), nil
	}
	// The text keeps every digit, where a JSON number would be rounded to
	// a double by most readers.
	return appendString(b, text), nil
}

// twosComplement returns n as big-endian two's-complement bytes of minimal
// length, the form Java's BigInteger.toByteArray gives and Kafka Connect's
// Decimal stores.
func twosComplement(n *big.Int) []byte {
	// Java sizes the array by the bit length of n, or of -n-1 for negative
	// n, plus one sign bit.
	magnitude := n
	if n.Sign() < 0 {
		magnitude = new(big.Int).Sub(new(big.Int).Neg(n), big.NewInt(1))
	}
	length := magnitude.BitLen()/8 + 1

	raw := make([]byte, length)
	if n.Sign() >= 0 {
		n.FillBytes(raw)
		return raw
	}
	// For negative n the bytes are those of 2^(8*length) + n.
	new(big.Int).Add(new(big.Int).Lsh(big.NewInt(1), uint(8*length)), n).FillBytes(raw)
	return raw
}

// appendConnectTime appends a DATE, DATETIME or TIME value as Debezium's
// default time.precision.mode writes it. A zero or partial-zero date names
// no day, so it becomes null rather than a wrong valid date.
func appendConnectTime(b []byte, column *schema.Column, text string) []byte {
	switch column.Type {
	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		if days, ok := epochDays(text); ok {
			return strconv.AppendInt(b, days, 10)
		}
	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		if micros, ok := timeMicros(text); ok {
			return strconv.AppendInt(b, micros, 10)
		}
	default:
		if micros, ok := epochDatetime(text); ok {
			// DATETIME(0) to DATETIME(3) in milliseconds, finer ones in
			// microseconds, as Debezium's Timestamp and MicroTimestamp.
			if column.Type == mysql.MYSQL_TYPE_DATETIME2 && column.Meta > 3 {
				return strconv.AppendInt(b, micros, 10)
			}
			return strconv.AppendInt(b, floorDiv(micros, 1000), 10)
		}
	}
	return append(b, "null"...)
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

const hexDigits = "0123456789abcdef"

// appendString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as
// encoding/json does; '<', '>' and '&' are not escaped.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i++
			start = i
			continue
		}
		// U+2028 and U+2029 are valid JSON but end lines in JavaScript.
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
