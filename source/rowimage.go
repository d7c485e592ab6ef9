package source

import (
	"encoding/binary"
	"fmt"

	"github.com/go-mysql-org/go-mysql/mysql"
	"github.com/go-mysql-org/go-mysql/replication"

	"github.com/sluice-cdc/sluice/schema"
)

// badJSON replaces the value of a JSON column that could not be
// decoded. The reader stops with its error when it turns the row into a
// change, where it can name the table and the binlog position.
type badJSON struct{ err error }

// decodeRowsEvent decodes a rows event with go-mysql and then decodes the
// MySQL JSON columns again from the event's bytes. go-mysql's text of a
// JSON document differs from MySQL's own in spacing and in some numbers.
// It also keeps only the first change of a partial JSON update, where
// sluice needs them all to rebuild the new document.
func decodeRowsEvent(e *replication.RowsEvent, data []byte) error {
	pos, err := e.DecodeHeader(data)
	if err != nil {
		return err
	}
	if err := e.DecodeData(pos, data); err != nil {
		return err
	}
	if e.Table == nil || e.Table.JsonColumnCount() == 0 {
		return nil
	}
	if err := redecodeJSON(e, data[pos:]); err != nil {
		for _, row := range e.Rows {
			for i, v := range row {
				if i < len(e.Table.ColumnType) && e.Table.ColumnType[i] == mysql.MYSQL_TYPE_JSON && v != nil {
					row[i] = badJSON{err}
				}
			}
		}
	}
	return nil
}

// isPartialUpdate reports whether e is a PARTIAL_UPDATE_ROWS_EVENT, the
// update event that MySQL writes with binlog_row_value_options=PARTIAL_JSON.
// go-mysql gives such an event no type of its own, but it is the only one
// with two images whose type is unknown.
func isPartialUpdate(e *replication.RowsEvent) bool {
	return e.Type() == replication.EnumRowsEventTypeUnknown && e.ColumnBitmap2 != nil
}

// redecodeJSON walks the row images in data, the event after its header,
// and sets each JSON column of e.Rows to MySQL's text of the document.
func redecodeJSON(e *replication.RowsEvent, data []byte) error {
	partial := isPartialUpdate(e)
	for row := 0; row < len(e.Rows); row++ {
		n, before, err := walkImage(e, data, e.ColumnBitmap1, false, e.Rows[row], nil)
		if err != nil {
			return err
		}
		data = data[n:]
		if e.ColumnBitmap2 == nil {
			continue
		}
		row++
		if row >= len(e.Rows) {
			return fmt.Errorf("rows event ends inside an update")
		}
		if n, _, err = walkImage(e, data, e.ColumnBitmap2, partial, e.Rows[row], before); err != nil {
			return err
		}
		data = data[n:]
	}
	return nil
}

// walkImage reads one row image from data, whose columns are those set in
// present, and sets its JSON columns in values. In the after image of a
// partial update, before holds the before image's documents, to which the
// diffs are applied. It returns the image's length and its documents.
func walkImage(e *replication.RowsEvent, data, present []byte, partialAfter bool, values []any, before []*jsonValue) (int, []*jsonValue, error) {
	table := e.Table
	columns := int(e.ColumnCount)
	pos := 0

	var partialBits []byte
	if partialAfter {
		options, _, n := mysql.LengthEncodedInt(data)
		pos += n
		if options&1 != 0 { // PARTIAL_JSON_UPDATES
			size := bitmapBytes(int(table.JsonColumnCount()))
			if pos+size > len(data) {
				return 0, nil, errJSONBTruncated
			}
			partialBits = data[pos : pos+size]
			pos += size
		}
	}

	count := 0
	for i := range columns {
		if bitSet(present, i) {
			count++
		}
	}
	if pos+bitmapBytes(count) > len(data) {
		return 0, nil, errJSONBTruncated
	}
	nulls := data[pos : pos+bitmapBytes(count)]
	pos += len(nulls)

	docs := make([]*jsonValue, columns)
	jsonIndex, nullIndex := 0, 0
	for i := range columns {
		typ, meta := table.ColumnType[i], table.ColumnMeta[i]
		isPartial := false
		if typ == mysql.MYSQL_TYPE_JSON {
			isPartial = partialBits != nil && bitSet(partialBits, jsonIndex)
			jsonIndex++
		}
		if !bitSet(present, i) {
			continue
		}
		isNull := bitSet(nulls, nullIndex)
		nullIndex++
		if isNull {
			continue
		}

		size, err := valueSize(typ, meta, data[pos:])
		if err != nil {
			return 0, nil, fmt.Errorf("column %d: %w", i+1, err)
		}
		if pos+size > len(data) {
			return 0, nil, errJSONBTruncated
		}
		if typ == mysql.MYSQL_TYPE_JSON {
			raw := data[pos+int(meta) : pos+size]
			if isPartial {
				values[i] = applyPartial(before, i, raw)
			} else {
				doc, err := decodeJSONB(raw)
				if err != nil {
					values[i] = badJSON{err}
				} else {
					docs[i] = doc
					values[i] = doc.String()
				}
			}
		}
		pos += size
	}
	return pos, docs, nil
}

// applyPartial rebuilds a JSON column's new document from its document in
// the before image and the diff vector raw.
func applyPartial(before []*jsonValue, column int, raw []byte) any {
	if before == nil || before[column] == nil {
		return badJSON{fmt.Errorf("a partial JSON update whose before image lacks the document, " +
			"so the new document cannot be rebuilt; keep binlog_row_image=FULL for every session " +
			"that sets binlog_row_value_options=PARTIAL_JSON")}
	}
	diffs, err := decodeJSONDiffs(raw)
	if err != nil {
		return badJSON{err}
	}
	doc, err := applyJSONDiffs(before[column], diffs)
	if err != nil {
		return badJSON{err}
	}
	return doc.String()
}

// valueSize returns how many bytes a value of a column with type typ and
// metadata meta takes in a row image that continues with data.
func valueSize(typ byte, meta uint16, data []byte) (int, error) {
	fraction := int(meta+1) / 2
	switch typ {
	case mysql.MYSQL_TYPE_TINY, mysql.MYSQL_TYPE_YEAR:
		return 1, nil
	case mysql.MYSQL_TYPE_SHORT:
		return 2, nil
	case mysql.MYSQL_TYPE_INT24, mysql.MYSQL_TYPE_DATE, mysql.MYSQL_TYPE_NEWDATE, mysql.MYSQL_TYPE_TIME:
		return 3, nil
	case mysql.MYSQL_TYPE_LONG, mysql.MYSQL_TYPE_FLOAT, mysql.MYSQL_TYPE_TIMESTAMP:
		return 4, nil
	case mysql.MYSQL_TYPE_LONGLONG, mysql.MYSQL_TYPE_DOUBLE, mysql.MYSQL_TYPE_DATETIME:
		return 8, nil
	case mysql.MYSQL_TYPE_TIMESTAMP2:
		return 4 + fraction, nil
	case mysql.MYSQL_TYPE_DATETIME2:
		return 5 + fraction, nil
	case mysql.MYSQL_TYPE_TIME2:
		return 3 + fraction, nil
	case mysql.MYSQL_TYPE_NEWDECIMAL:
		precision, scale := int(meta>>8), int(meta&0xff)
		intDigits := precision - scale
		return intDigits/9*4 + decimalDigitBytes[intDigits%9] + scale/9*4 + decimalDigitBytes[scale%9], nil
	case mysql.MYSQL_TYPE_BIT:
		width := int(meta>>8)*8 + int(meta&0xff)
		return (width + 7) / 8, nil
	case mysql.MYSQL_TYPE_ENUM, mysql.MYSQL_TYPE_SET:
		return int(meta & 0xff), nil
	case mysql.MYSQL_TYPE_STRING:
		realType, length := stringColumn(meta)
		if realType == mysql.MYSQL_TYPE_ENUM || realType == mysql.MYSQL_TYPE_SET {
			return length, nil
		}
		return lengthPrefixed(data, prefixBytes(length))
	case mysql.MYSQL_TYPE_VARCHAR, mysql.MYSQL_TYPE_VAR_STRING:
		return lengthPrefixed(data, prefixBytes(int(meta)))
	case mysql.MYSQL_TYPE_BLOB, mysql.MYSQL_TYPE_GEOMETRY, mysql.MYSQL_TYPE_JSON, mysql.MYSQL_TYPE_VECTOR:
		return lengthPrefixed(data, int(meta))
	}
	return 0, fmt.Errorf("column type %d has no known size", typ)
}

// stringColumn splits the metadata of a MYSQL_TYPE_STRING column into the
// real type (CHAR, BINARY, ENUM or SET) and the length in bytes. Lengths
// above 255 keep two more bits in the type byte.
func stringColumn(meta uint16) (realType byte, length int) {
	if meta < 256 {
		return mysql.MYSQL_TYPE_STRING, int(meta)
	}
	high, low := byte(meta>>8), int(meta&0xff)
	if high&0x30 != 0x30 {
		return high | 0x30, low | int((high&0x30)^0x30)<<4
	}
	return high, low
}

func prefixBytes(maxLength int) int {
	if maxLength < 256 {
		return 1
	}
	return 2
}

// lengthPrefixed returns the size of a value that starts with its length
// in prefix little-endian bytes.
func lengthPrefixed(data []byte, prefix int) (int, error) {
	if prefix < 1 || prefix > 4 || len(data) < prefix {
		return 0, errJSONBTruncated
	}
	var buf [4]byte
	copy(buf[:], data[:prefix])
	return prefix + int(binary.LittleEndian.Uint32(buf[:])), nil
}

func bitmapBytes(bitCount int) int {
	return (bitCount + 7) / 8
}

func bitSet(bitmap []byte, i int) bool {
	return i/8 < len(bitmap) && bitmap[i/8]&(1<<(uint(i)%8)) != 0
}

// badJSONIn returns the error of the first JSON value in e that could not
// be decoded, naming its column.
func badJSONIn(e *replication.RowsEvent, table *schema.Table) error {
	for _, row := range e.Rows {
		for i, v := range row {
			if bad, ok := v.(badJSON); ok {
				name := fmt.Sprintf("#%d", i+1)
				if i < len(table.Columns) {
					name = table.Columns[i].Name
				}
				return fmt.Errorf("JSON column %s: %w", name, bad.err)
			}
		}
	}
	return nil
}
