//go:build integration

package integration

import (
	"bufio"
	"bytes"
	"encoding/json"
	"os/exec"
	"reflect"
	"strings"
	"syscall"
	"testing"
	"time"
)

// want is one expected record: a change event, or a tombstone when op is "".
type want struct {
	key    string
	op     string
	before map[string]any
	after  map[string]any
}

func n(s string) json.Number { return json.Number(s) }

func TestStreamInsertUpdateDelete(t *testing.T) {
	f := newFixture(t)
	execSQL(t, f.conn,
		"USE "+f.db,
		`CREATE TABLE customers (
			id INT PRIMARY KEY, name VARCHAR(50), balance DECIMAL(10,2), big BIGINT UNSIGNED,
			created TIMESTAMP(3) NULL, born DATE NULL, seen DATETIME(6) NULL)`,
		`CREATE TABLE order_lines (
			order_id BIGINT UNSIGNED, line_no SMALLINT, qty INT, PRIMARY KEY (order_id, line_no))`,
	)
	p := f.startReady()

	execSQL(t, f.conn,
		"SET time_zone = '+00:00'",
		`INSERT INTO customers VALUES (1, 'Ada 😀', 10.50, 18446744073709551615,
			'2024-01-02 03:04:05.678', '1815-12-10', '2024-01-02 03:04:05.123456')`,
		"INSERT INTO order_lines VALUES (9223372036854775808, 1, 3)",
		"UPDATE customers SET balance = 11.00 WHERE id = 1",
		"DELETE FROM order_lines WHERE order_id = 9223372036854775808 AND line_no = 1",
		"BEGIN",
		"INSERT INTO customers (id, name) VALUES (2, 'Bo')",
		"INSERT INTO order_lines VALUES (2, 1, 5), (2, 2, 7)",
		"UPDATE customers SET name = 'Bob' WHERE id = 2",
		"COMMIT",
		"DELETE FROM customers WHERE id = 1",
	)

	ada := map[string]any{
		"id": n("1"), "name": "Ada 😀", "balance": "10.50", "big": n("18446744073709551615"),
		"created": "2024-01-02T03:04:05.678Z", "born": "1815-12-10", "seen": "2024-01-02 03:04:05.123456",
	}
	adaRich := copyRow(ada, "balance", "11.00")
	bo := map[string]any{"id": n("2"), "name": "Bo", "balance": nil, "big": nil, "created": nil, "born": nil, "seen": nil}
	bob := copyRow(bo, "name", "Bob")
	wantCustomers := []want{
		{key: `{"id":1}`, op: "c", after: ada},
		{key: `{"id":1}`, op: "u", before: ada, after: adaRich},
		{key: `{"id":2}`, op: "c", after: bo},
		{key: `{"id":2}`, op: "u", before: bo, after: bob},
		{key: `{"id":1}`, op: "d", before: adaRich},
		{key: `{"id":1}`},
	}
	line := func(order, no, qty string) map[string]any {
		return map[string]any{"order_id": n(order), "line_no": n(no), "qty": n(qty)}
	}
	wantLines := []want{
		{key: `{"order_id":9223372036854775808,"line_no":1}`, op: "c", after: line("9223372036854775808", "1", "3")},
		{key: `{"order_id":9223372036854775808,"line_no":1}`, op: "d", before: line("9223372036854775808", "1", "3")},
		{key: `{"order_id":9223372036854775808,"line_no":1}`},
		{key: `{"order_id":2,"line_no":1}`, op: "c", after: line("2", "1", "5")},
		{key: `{"order_id":2,"line_no":2}`, op: "c", after: line("2", "2", "7")},
	}

	var got []record
	f.eventually(30*time.Second, "all records are committed", func() bool {
		got = consumeAll(t, f.topic("customers"), f.topic("order_lines"))
		return len(got) >= len(wantCustomers)+len(wantLines)
	})
	customers, lines := splitByTopic(got, f.topic("customers")), splitByTopic(got, f.topic("order_lines"))
	checkRecords(t, f, "customers", customers, wantCustomers)
	checkRecords(t, f, "order_lines", lines, wantLines)

	// The multi-table transaction carries one GTID on all its records, and
	// it differs from the GTIDs of the transactions around it.
	txnGTID := gtidOf(t, customers[2])
	for _, r := range []record{customers[3], lines[3], lines[4]} {
		if g := gtidOf(t, r); g != txnGTID {
			t.Errorf("record at %s offset %d: gtid %q, want %q shared by the whole transaction", r.Topic, r.Offset, g, txnGTID)
		}
	}
	if g := gtidOf(t, customers[1]); g == txnGTID {
		t.Errorf("the update of id 1 has the gtid %q of a later transaction", g)
	}

	// kcat (librdkafka) reads the same keys and values.
	for _, topic := range []string{f.topic("customers"), f.topic("order_lines")} {
		fromKcat := readWithKcat(t, topic)
		fromGo := splitByTopic(got, topic)
		if len(fromKcat) != len(fromGo) {
			t.Fatalf("kcat read %d records from %s, franz-go read %d", len(fromKcat), topic, len(fromGo))
		}
		for i := range fromGo {
			if fromKcat[i].Key != fromGo[i].Key || !bytes.Equal(fromKcat[i].Value, fromGo[i].Value) {
				t.Errorf("%s record %d: kcat read key %s value %s, franz-go read key %s value %s",
					topic, i, fromKcat[i].Key, fromKcat[i].Value, fromGo[i].Key, fromGo[i].Value)
			}
		}
	}

	p.signal(syscall.SIGTERM)
	if status := p.wait(t, 30*time.Second); status != 0 {
		t.Errorf("sluice exited with status %d after SIGTERM, want 0", status)
	}
}

func copyRow(row map[string]any, column string, value any) map[string]any {
	out := make(map[string]any, len(row))
	for k, v := range row {
		out[k] = v
	}
	out[column] = value
	return out
}

func splitByTopic(records []record, topic string) []record {
	var out []record
	for _, r := range records {
		if r.Topic == topic {
			out = append(out, r)
		}
	}
	return out
}

func gtidOf(t *testing.T, r record) string {
	t.Helper()
	e := decodeEnvelope(t, r.Value)
	if e.Source.GTID == nil {
		t.Fatalf("record at %s offset %d has no gtid", r.Topic, r.Offset)
	}
	return *e.Source.GTID
}

func checkRecords(t *testing.T, f *fixture, table string, got []record, wants []want) {
	t.Helper()
	if len(got) != len(wants) {
		for _, r := range got {
			t.Logf("%s: key %s value %s", table, r.Key, r.Value)
		}
		t.Fatalf("%s: got %d records, want %d", table, len(got), len(wants))
	}
	for i, w := range wants {
		r := got[i]
		if r.Key != w.key {
			t.Errorf("%s record %d: key %s, want %s", table, i, r.Key, w.key)
		}
		if w.op == "" {
			if r.Value != nil {
				t.Errorf("%s record %d: value %s, want a tombstone (null value)", table, i, r.Value)
			}
			continue
		}
		e := decodeEnvelope(t, r.Value)
		if e.Op != w.op {
			t.Errorf("%s record %d: op %q, want %q", table, i, e.Op, w.op)
		}
		if !reflect.DeepEqual(e.Before, w.before) {
			t.Errorf("%s record %d: before %v, want %v", table, i, e.Before, w.before)
		}
		if !reflect.DeepEqual(e.After, w.after) {
			t.Errorf("%s record %d: after %v, want %v", table, i, e.After, w.after)
		}
		s := e.Source
		if s.Connector != "mariadb" || s.Name != f.prefix || s.DB != f.db || s.Table != table || s.Snapshot != "false" {
			t.Errorf("%s record %d: source connector %q name %q db %q table %q snapshot %q, want mariadb %q %q %q false",
				table, i, s.Connector, s.Name, s.DB, s.Table, s.Snapshot, f.prefix, f.db, table)
		}
		if s.File == "" || s.Pos == "" || s.Pos == "0" || s.GTID == nil || s.ServerID == "" {
			t.Errorf("%s record %d: source position incomplete: file %q pos %s server_id %s", table, i, s.File, s.Pos, s.ServerID)
		}
	}
}

// readWithKcat consumes a topic with kcat, librdkafka's command-line client,
// with read_committed isolation.
func readWithKcat(t *testing.T, topic string) []record {
	t.Helper()
	cmd := exec.Command("kcat", "-b", kafkaAddr, "-C", "-t", topic, "-o", "beginning", "-e", "-J",
		"-X", "isolation.level=read_committed", "-q")
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("kcat: %v", err)
	}
	var records []record
	scanner := bufio.NewScanner(bytes.NewReader(out))
	scanner.Buffer(make([]byte, 1<<20), 1<<24)
	for scanner.Scan() {
		line := strings.TrimSpace(scanner.Text())
		if line == "" {
			continue
		}
		var m struct {
			Topic   string  `json:"topic"`
			Offset  int64   `json:"offset"`
			Key     *string `json:"key"`
			Payload *string `json:"payload"`
		}
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("kcat output %q: %v", line, err)
		}
		r := record{Topic: m.Topic, Offset: m.Offset}
		if m.Key != nil {
			r.Key = *m.Key
		}
		if m.Payload != nil {
			r.Value = []byte(*m.Payload)
		}
		records = append(records, r)
	}
	return records
}
