package codec

import (
	"strconv"
	"strings"
	"time"
)

// The parsers below read the text go-mysql produces for temporal columns.
// They report ok=false for zero and partial-zero dates ("0000-00-00",
// "2023-05-00"), which name no day, and for dates whose day does not exist
// in their month ("2023-02-31", which MySQL stores with
// sql_mode=ALLOW_INVALID_DATES), which name no day either.

// epochDays returns the days since 1970-01-01 of "YYYY-MM-DD".
func epochDays(text string) (days int64, ok bool) {
	t, ok := parseDate(text)
	if !ok {
		return 0, false
	}
	return t.Unix() / 86400, true
}

func parseDate(text string) (time.Time, bool) {
	if len(text) < 10 || text[4] != '-' || text[7] != '-' {
		return time.Time{}, false
	}
	year, err1 := strconv.Atoi(text[0:4])
	month, err2 := strconv.Atoi(text[5:7])
	day, err3 := strconv.Atoi(text[8:10])
	if err1 != nil || err2 != nil || err3 != nil || month < 1 || month > 12 || day < 1 || day > 31 {
		return time.Time{}, false
	}
	date := time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
	if date.Day() != day {
		return time.Time{}, false // time.Date moved it into the next month
	}
	return date, true
}

// epochDatetime returns "YYYY-MM-DD HH:MM:SS[.ffffff]", read as UTC, in
// microseconds since the epoch.
func epochDatetime(text string) (micros int64, ok bool) {
	date, ok := parseDate(text)
	if !ok || len(text) < 19 || text[10] != ' ' {
		return 0, false
	}
	clock, ok := timeMicros(text[11:])
	if !ok || clock < 0 {
		return 0, false
	}
	return date.UnixMicro() + clock, true
}

// timeMicros returns "[-]H+:MM:SS[.ffffff]" in microseconds; TIME values
// range from -838:59:59 to 838:59:59.
func timeMicros(text string) (micros int64, ok bool) {
	negative := strings.HasPrefix(text, "-")
	text = strings.TrimPrefix(text, "-")
	parts := strings.Split(text, ":")
	if len(parts) != 3 {
		return 0, false
	}
	hours, err1 := strconv.ParseInt(parts[0], 10, 64)
	minutes, err2 := strconv.ParseInt(parts[1], 10, 64)
	seconds, fraction, _ := strings.Cut(parts[2], ".")
	secs, err3 := strconv.ParseInt(seconds, 10, 64)
	if err1 != nil || err2 != nil || err3 != nil || len(fraction) > 6 {
		return 0, false
	}
	var frac int64
	if fraction != "" {
		f, err := strconv.ParseInt(fraction, 10, 64)
		if err != nil {
			return 0, false
		}
		for i := len(fraction); i < 6; i++ {
			f *= 10
		}
		frac = f
	}
	micros = ((hours*60+minutes)*60+secs)*1_000_000 + frac
	if negative {
		micros = -micros
	}
	return micros, true
}
