package codec

import (
	"encoding/binary"
	"fmt"
	"math"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/go-mysql-org/go-mysql/mysql"

	"github.com/sluice-cdc/sluice/schema"
)

// hashText returns the hex hash that the JSON form writes for a hashed
// column's value.
func (o *Options) hashText(column *schema.Column, v any) (string, error) {
	token, err := o.appendHashed(nil, column, v)
	if err != nil {
		return "", err
	}
	// The token is a JSON string of hex digits, which need no unescaping.
	return string(token[1 : len(token)-1]), nil
}

// avroValue returns one non-NULL column value, as go-mysql's replication
// package decodes it, as the Go value that appendAvroValue writes in the
// column's Avro type, or nil for a zero or partial-zero date.
func (o *Options) avroValue(column *schema.Column, v any) (any, error) {
	switch column.Type {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_SHORT, mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_YEAR:
		return avroInt(v)

	case mysql.MYSQL_TYPE_LONG:
		if column.Unsigned {
			return avroLong(v)
		}
		return avroInt(v)

	case mysql.MYSQL_TYPE_LONGLONG:
		if column.Unsigned {
			return unscaledOfUnsigned(v)
		}
		return avroLong(v)

	case mysql.MYSQL_TYPE_FLOAT:
		f, ok := v.(float32)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return f, nil

	case mysql.MYSQL_TYPE_DOUBLE:
		f, ok := v.(float64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return f, nil

	case mysql.MYSQL_TYPE_NEWDECIMAL:
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		if o.Decimal == DecimalDouble {
			f, err := strconv.ParseFloat(text, 64)
			if err != nil {
				return nil, fmt.Errorf("invalid DECIMAL text %q: %w", text, err)
			}
			return f, nil
		}
		return unscaledOfDecimal(text, int(column.Meta&0xff))

	case mysql.MYSQL_TYPE_BIT:
		bits, ok := v.(int64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		width := bitWidth(column.Meta)
		if width == 1 {
			return bits != 0, nil
		}
		return bitBytes(uint64(bits), width), nil

	case mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE:
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		days, ok := epochDays(text)
		if !ok {
			return nil, nil
		}
		return int32(days), nil

	case mysql.MYSQL_TYPE_DATETIME, mysql.MYSQL_TYPE_DATETIME2,
		mysql.MYSQL_TYPE_TIMESTAMP, mysql.MYSQL_TYPE_TIMESTAMP2:
		// go-mysql writes a TIMESTAMP as UTC text, so read as UTC it gives
		// the instant. A DATETIME read as UTC gives the microseconds of
		// local-timestamp-micros.
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		micros, ok := epochDatetime(text)
		if !ok {
			return nil, nil
		}
		return micros, nil

	case mysql.MYSQL_TYPE_TIME, mysql.MYSQL_TYPE_TIME2:
		text, ok := v.(string)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		micros, ok := timeMicros(text)
		if !ok {
			return nil, fmt.Errorf("invalid TIME text %q", text)
		}
		return micros, nil

	case mysql.MYSQL_TYPE_ENUM:
		index, ok := v.(int64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return validUTF8(enumMember(column, index)), nil

	case mysql.MYSQL_TYPE_SET:
		mask, ok := v.(int64)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return validUTF8(setMembers(column, mask)), nil

	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING, mysql.MYSQL_TYPE_STRING, mysql.MYSQL_TYPE_BLOB:
		return avroCharacterValue(column, v)

	case mysql.MYSQL_TYPE_JSON:
		doc, err := jsonDocument(column, v)
		if err != nil {
			return nil, err
		}
		return validUTF8(doc), nil

	case mysql.MYSQL_TYPE_GEOMETRY:
		raw, ok := v.([]byte)
		if !ok {
			return nil, unexpectedType(column, v)
		}
		return raw, nil
	}
	return nil, fmt.Errorf("unsupported column type %d", column.Type)
}

// avroCharacterValue returns a CHAR, VARCHAR, TEXT, BINARY, VARBINARY or
// BLOB value: text as a UTF-8 string, bytes as they are stored.
func avroCharacterValue(column *schema.Column, v any) (any, error) {
	raw, err := characterBytes(column, v)
	if err != nil {
		return nil, err
	}
	if isMariaDBText(column) {
		text, ok := mariadbTypeText(column.DataType, raw)
		if !ok {
			length := 16
			if column.DataType == "inet4" {
				length = 4
			}
			return nil, fmt.Errorf("invalid MariaDB %s value of %d bytes; expected %d bytes",
				strings.ToUpper(column.DataType), len(raw), length)
		}
		return text, nil
	}
	if column.Charset == "binary" {
		return raw, nil
	}
	text, err := decodeText(column.Charset, raw)
	if err != nil {
		return nil, err
	}
	return validUTF8(text), nil
}

// integerOf returns a value of any Go integer type as an int64.
func integerOf(v any) (int64, error) {
	switch n := v.(type) {
	case int8:
		return int64(n), nil
	case int16:
		return int64(n), nil
	case int32:
		return int64(n), nil
	case int64:
		return n, nil
	case int:
		return int64(n), nil
	case uint8:
		return int64(n), nil
	case uint16:
		return int64(n), nil
	case uint32:
		return int64(n), nil
	case uint64:
		if n > math.MaxInt64 {
			return 0, fmt.Errorf("integer %d is out of range for an Avro long", n)
		}
		return int64(n), nil
	}
	return 0, fmt.Errorf("unexpected integer value %v of Go type %T", v, v)
}

func avroInt(v any) (any, error) {
	n, err := integerOf(v)
	if err != nil {
		return nil, err
	}
	if n < math.MinInt32 || n > math.MaxInt32 {
		return nil, fmt.Errorf("integer %d is out of range for an Avro int", n)
	}
	return int32(n), nil
}

func avroLong(v any) (any, error) {
	n, err := integerOf(v)
	if err != nil {
		return nil, err
	}
	return n, nil
}

// bitBytes returns the value of a BIT(width) column as big-endian bytes,
// as many as the width needs. An unknown width of 0 gets all 8 bytes.
func bitBytes(bits uint64, width int) []byte {
	length := (width + 7) / 8
	if length < 1 || length > 8 {
		length = 8
	}
	raw := binary.BigEndian.AppendUint64(nil, bits)
	return raw[8-length:]
}

// validUTF8 returns s with each byte that is not part of valid UTF-8
// replaced by U+FFFD, the text a JSON reader gets from the JSON form.
func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	var sb strings.Builder
	sb.Grow(len(s) + 8)
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
