//go:build integration

package integration

import (
	"fmt"
	"strings"
	"testing"
)

// TestEnumSetMembers streams ENUM and SET values by member name. The values
// include NULL and invalid values, which a non-strict session stores as the
// empty ENUM member or drops from a SET. An ALTER TABLE then puts a new ENUM
// member first, which shifts every member's index. A second sluice that
// reads the same binlog range after the ALTER must name the members of the
// old events by the old member list.
func TestEnumSetMembers(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE es (id INT PRIMARY KEY, e ENUM('small','medium','large'), s SET('a','b','c','d'))",
	)
	live := f.startReady()
	start := serverPosition(t, f.conn)

	execSQL(t, f.conn,
		"SET SESSION sql_mode = ''",
		"INSERT INTO es VALUES (1, 'medium', 'c,a'), (2, 'bogus', 'a,zz'), (3, NULL, '')",
		"ALTER TABLE es MODIFY e ENUM('tiny','small','medium','large')",
		"INSERT INTO es VALUES (4, 'small', 'd')",
		"UPDATE es SET e = 'large', s = 'b,d' WHERE id = 1",
	)

	key := func(id string) map[string]any { return map[string]any{"id": n(id)} }
	member := func(id string, e any, s string) map[string]any {
		return map[string]any{"id": n(id), "e": e, "s": s}
	}
	wants := []expectRecord{
		{key: key("1"), op: "c", after: member("1", "medium", "a,c")},
		{key: key("2"), op: "c", after: member("2", "", "a")},
		{key: key("3"), op: "c", after: member("3", nil, "")},
		{key: key("4"), op: "c", after: member("4", "small", "d")},
		{key: key("1"), op: "u", before: member("1", "medium", "a,c"), after: member("1", "large", "b,d")},
	}
	first := f.settle("es")
	checkTopic(t, f, "es", first, wants)
	stopCleanly(t, live)

	replay := f.startFrom(f.stream+"-replay", start)
	all := f.awaitCount("es", 2*len(first))
	second := all[len(first):]
	checkTopic(t, f, "es", second, wants)
	compareRuns(t, first, second)
	stopCleanly(t, replay)
}

// TestSetSixtyFourMembers streams the last member of a SET with the
// maximum of 64 members, which is bit 63 of the value: the sign bit of a
// signed 64-bit integer.
func TestSetSixtyFourMembers(t *testing.T) {
	f := newFixture(t)
	members := make([]string, 64)
	for i := range members {
		members[i] = fmt.Sprintf("'m%d'", i+1)
	}
	execSQL(t, f.conn,
		"USE "+f.db,
		"CREATE TABLE es64 (id INT PRIMARY KEY, s SET("+strings.Join(members, ",")+"))",
	)
	p := f.startReady()

	execSQL(t, f.conn,
		"INSERT INTO es64 VALUES (1, 'm64'), (2, 'm1,m64'), (3, 'm63')",
	)

	got := f.settle("es64")
	checkTopic(t, f, "es64", got, []expectRecord{
		{key: map[string]any{"id": n("1")}, op: "c", after: map[string]any{"id": n("1"), "s": "m64"}},
		{key: map[string]any{"id": n("2")}, op: "c", after: map[string]any{"id": n("2"), "s": "m1,m64"}},
		{key: map[string]any{"id": n("3")}, op: "c", after: map[string]any{"id": n("3"), "s": "m63"}},
	})

	stopCleanly(t, p)
}
