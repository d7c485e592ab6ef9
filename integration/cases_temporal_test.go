//go:build integration

package integration

import (
	"regexp"
	"testing"
)

// TestTimestampIndependentOfZones writes TIMESTAMP and DATETIME values from
// sessions in two time zones and streams them with sluice running under two
// other zones. TIMESTAMP must come out as the UTC instant, DATETIME as the
// wall-clock text that was written, and both runs must write the same bytes.
func TestTimestampIndependentOfZones(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE tz (id INT PRIMARY KEY, ts TIMESTAMP(3) NULL, dt DATETIME(3) NULL)",
	)
	live := f.startReady("TZ=America/Sao_Paulo")
	start := serverPosition(t, f.conn)

	execSQL(t, f.conn,
		"SET time_zone = 'Europe/Amsterdam'",
		// Summer time in Amsterdam, UTC+2.
		"INSERT INTO tz VALUES (1, '2016-08-17 13:08:04', '2016-08-17 13:08:04')",
		// Winter time, UTC+1.
		"INSERT INTO tz VALUES (2, '2016-02-01 23:39:30', '2016-02-01 23:39:30')",
		"SET time_zone = '+08:00'",
		// The fourth fractional digit does not fit into (3).
		"INSERT INTO tz VALUES (3, '2019-06-15 11:27:01.9051', '2019-06-15 11:27:01.9051')",
	)

	wants := []expectRecord{
		{key: map[string]any{"id": n("1")}, op: "c", after: map[string]any{
			"id": n("1"), "ts": "2016-08-17T11:08:04.000Z", "dt": "2016-08-17 13:08:04.000",
		}},
		{key: map[string]any{"id": n("2")}, op: "c", after: map[string]any{
			"id": n("2"), "ts": "2016-02-01T22:39:30.000Z", "dt": "2016-02-01 23:39:30.000",
		}},
		{key: map[string]any{"id": n("3")}, op: "c", after: map[string]any{
			"id": n("3"), "ts": "2019-06-15T03:27:01.905Z", "dt": "2019-06-15 11:27:01.905",
		}},
	}
	first := f.settle("tz")
	checkTopic(t, f, "tz", first, wants)

	// zerolog writes its timestamps in the process's zone, so the log shows
	// whether TZ took effect. Go falls back to UTC for an unknown zone.
	if !regexp.MustCompile(`"time":"[^"]*-03:00"`).MatchString(live.output()) {
		t.Errorf("the log of the run with TZ=America/Sao_Paulo has no time stamp at -03:00:\n%s", live.output())
	}
	stopCleanly(t, live)

	replay := f.startFrom(f.stream+"-utc", start, "TZ=UTC")
	all := f.awaitCount("tz", 2*len(first))
	second := all[len(first):]
	checkTopic(t, f, "tz", second, wants)
	compareRuns(t, first, second)
	stopCleanly(t, replay)
}

// TestZeroDates streams zero dates and dates with a zero month or day,
// which the server accepts when sql_mode has neither NO_ZERO_DATE nor
// NO_ZERO_IN_DATE. They must come out as the text SELECT returns, and the
// zero TIMESTAMP must not turn into 1970-01-01.
func TestZeroDates(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		`CREATE TABLE zd (id INT PRIMARY KEY, d DATE, d_nn DATE NOT NULL, dt2 DATETIME(2),
			ts TIMESTAMP NULL, t2 TIME(2))`,
	)
	p := f.startReady()

	execSQL(t, f.conn,
		"SET SESSION sql_mode = ''",
		"SET time_zone = '+00:00'",
		"INSERT INTO zd VALUES (1, '0000-00-00', '0000-00-00', '0000-00-00 00:00:00', '0000-00-00 00:00:00', '00:00:00')",
		"INSERT INTO zd VALUES (2, '2023-05-00', '2023-00-15', '2023-05-00 10:00:00.50', NULL, '00:00:00')",
		"INSERT INTO zd VALUES (3, '1970-01-01', '1970-01-01', '1970-01-01 00:00:00', NULL, '00:00:00')",
	)

	got := f.settle("zd")
	checkTopic(t, f, "zd", got, []expectRecord{
		{key: map[string]any{"id": n("1")}, op: "c", after: map[string]any{
			"id": n("1"), "d": "0000-00-00", "d_nn": "0000-00-00", "dt2": "0000-00-00 00:00:00.00",
			"ts": "0000-00-00 00:00:00", "t2": "00:00:00.00",
		}},
		{key: map[string]any{"id": n("2")}, op: "c", after: map[string]any{
			"id": n("2"), "d": "2023-05-00", "d_nn": "2023-00-15", "dt2": "2023-05-00 10:00:00.50",
			"ts": nil, "t2": "00:00:00.00",
		}},
		{key: map[string]any{"id": n("3")}, op: "c", after: map[string]any{
			"id": n("3"), "d": "1970-01-01", "d_nn": "1970-01-01", "dt2": "1970-01-01 00:00:00.00",
			"ts": nil, "t2": "00:00:00.00",
		}},
	})

	stopCleanly(t, p)
}

// TestTimeBeyondDay streams TIME values that are negative, below one
// second, or beyond 24 hours, up to the type's limits of ±838:59:59. Each
// must keep its sign and as many fractional digits as the column declares.
func TestTimeBeyondDay(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE tn (id INT PRIMARY KEY, a TIME(2), b TIME, c TIME(3), d TIME(6))",
	)
	p := f.startReady()

	execSQL(t, f.conn,
		"INSERT INTO tn VALUES (1, '-00:00:00.01', '-838:59:59', '-16:08:04.250', '-00:00:01.000001')",
		"INSERT INTO tn VALUES (2, '24:00:00', '838:59:59', '100:08:04', '838:59:59.000000')",
	)

	got := f.settle("tn")
	checkTopic(t, f, "tn", got, []expectRecord{
		{key: map[string]any{"id": n("1")}, op: "c", after: map[string]any{
			"id": n("1"), "a": "-00:00:00.01", "b": "-838:59:59", "c": "-16:08:04.250", "d": "-00:00:01.000001",
		}},
		{key: map[string]any{"id": n("2")}, op: "c", after: map[string]any{
			"id": n("2"), "a": "24:00:00.00", "b": "838:59:59", "c": "100:08:04.000", "d": "838:59:59.000000",
		}},
	})

	stopCleanly(t, p)
}
