package codec

import (
	"fmt"
	"strings"
)

// DecimalMode is the representation of DECIMAL values.
type DecimalMode int

const (
	// DecimalString writes the exact text with the column's scale, "1.10".
	DecimalString DecimalMode = iota
	// DecimalPrecise writes Kafka Connect's Decimal without a schema: the
	// unscaled value as big-endian two's-complement bytes, in base64.
	DecimalPrecise
	// DecimalDouble writes a JSON number that may lose digits.
	DecimalDouble
)

// TimeMode is the representation of temporal values.
type TimeMode int

const (
	// TimeISO writes DATE, DATETIME and TIME as the server's text and
	// TIMESTAMP as ISO 8601 in UTC.
	TimeISO TimeMode = iota
	// TimeConnect writes the numbers of Debezium's default
	// time.precision.mode (adaptive_time_microseconds): DATE as days since
	// the epoch, TIME as microseconds, DATETIME as milliseconds since the
	// epoch (microseconds above 3 fractional digits). TIMESTAMP stays ISO
	// 8601 in UTC, as Debezium's ZonedTimestamp.
	TimeConnect
)

// BinaryMode is the representation of BINARY, VARBINARY, BLOB and GEOMETRY
// values.
type BinaryMode int

const (
	BinaryBase64 BinaryMode = iota
	BinaryHex
)

// Options choose the representation of values where users differ. The zero
// value is the default: exact and readable.
type Options struct {
	Decimal DecimalMode
	Time    TimeMode
	Binary  BinaryMode
	// HashSalt is prefixed to the values of hashed columns before hashing.
	HashSalt string
}

// ParseOptions reads the names used by SLUICE_DECIMAL_MODE,
// SLUICE_TIME_MODE and SLUICE_BINARY_MODE.
func ParseOptions(decimal, time, binary string) (Options, error) {
	var o Options
	var problems []string
	switch strings.ToLower(decimal) {
	case "", "string":
		o.Decimal = DecimalString
	case "precise":
		o.Decimal = DecimalPrecise
	case "double":
		o.Decimal = DecimalDouble
	default:
		problems = append(problems, fmt.Sprintf("SLUICE_DECIMAL_MODE %q is invalid: use string, precise or double", decimal))
	}
	switch strings.ToLower(time) {
	case "", "iso":
		o.Time = TimeISO
	case "connect":
		o.Time = TimeConnect
	default:
		problems = append(problems, fmt.Sprintf("SLUICE_TIME_MODE %q is invalid: use iso or connect", time))
	}
	switch strings.ToLower(binary) {
	case "", "base64":
		o.Binary = BinaryBase64
	case "hex":
		o.Binary = BinaryHex
	default:
		problems = append(problems, fmt.Sprintf("SLUICE_BINARY_MODE %q is invalid: use base64 or hex", binary))
	}
	if len(problems) > 0 {
		return Options{}, fmt.Errorf("%s", strings.Join(problems, "; "))
	}
	return o, nil
}
